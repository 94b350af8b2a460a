// The outside world of the example, simulated in-process and deterministic: a tenant database
// (the object's own storage), a billing provider whose first call per tenant fails as a
// provider under load would (so the retry and its backoff show), a DNS provider, and a mailer.
// Each external call is idempotent on the key the task passes (TaskContext.idempotencyKey), as
// a real API would be with an Idempotency-Key header: a task that runs again after an eviction
// gets the same answer, not a second account.

/** A transient failure of a provider: worth retrying. */
export class ServiceUnavailable extends Error {
  static {
    this.prototype.name = "ServiceUnavailable";
  }
}

export interface TenantRecord {
  tenant: string;
  plan: string;
  adminEmail: string;
  createdAt: number;
}

/** Tenant records in the Durable Object's storage (beside the log books, under their own prefix). */
export class TenantRecords {
  constructor(private readonly kv: SyncKvStorage) {}

  create(record: TenantRecord): TenantRecord {
    const key = `tenant:${record.tenant}`;
    const existing = this.kv.get<TenantRecord>(key);
    if (existing) return existing; // created by an earlier run of this step
    this.kv.put(key, record);
    return record;
  }

  get(tenant: string): TenantRecord | undefined {
    return this.kv.get<TenantRecord>(`tenant:${tenant}`);
  }

  delete(tenant: string): boolean {
    return this.kv.delete(`tenant:${tenant}`);
  }
}

/** A provider's answers, remembered per idempotency key. */
class Provider<T> {
  private readonly answers = new Map<string, T>();
  readonly calls: string[] = [];

  protected async once(key: string, what: string, make: () => T): Promise<T> {
    this.calls.push(what);
    await new Promise((resolve) => setTimeout(resolve, 20)); // a network round trip
    const known = this.answers.get(key);
    if (known !== undefined) return known;
    const answer = make();
    this.answers.set(key, answer);
    return answer;
  }
}

export interface BillingAccount {
  accountId: string;
  plan: string;
}

export class BillingApi extends Provider<BillingAccount> {
  private readonly seen = new Set<string>();
  readonly closed: string[] = [];

  /** Fails the first time it is called for a tenant (a 503), then answers. */
  async createAccount(key: string, tenant: string, plan: string): Promise<BillingAccount> {
    if (!this.seen.has(tenant)) {
      this.seen.add(tenant);
      this.calls.push(`createAccount ${tenant}: 503`);
      throw new ServiceUnavailable(`billing: 503 Service Unavailable for tenant "${tenant}" (simulated: the first call fails)`);
    }
    if (!["free", "pro", "enterprise"].includes(plan)) throw new Error(`billing: plan "${plan}" does not exist; use free, pro or enterprise`);
    return this.once(key, `createAccount ${tenant}`, () => ({ accountId: `acct_${tenant}`, plan }));
  }

  async closeAccount(accountId: string): Promise<void> {
    this.closed.push(accountId);
  }
}

export interface DnsZone {
  zone: string;
  nameservers: string[];
}

export class DnsApi extends Provider<DnsZone> {
  readonly deleted: string[] = [];

  async createZone(key: string, tenant: string): Promise<DnsZone> {
    return this.once(key, `createZone ${tenant}`, () => ({ zone: `${tenant}.example.net`, nameservers: ["ns1.example.net", "ns2.example.net"] }));
  }

  async deleteZone(zone: string): Promise<void> {
    this.deleted.push(zone);
  }
}

export class Mailer extends Provider<{ messageId: string }> {
  async send(key: string, to: string, subject: string): Promise<{ messageId: string }> {
    return this.once(key, `send ${to}: ${subject}`, () => ({ messageId: `msg_${this.calls.length}` }));
  }
}

/** One set of providers per isolate, as clients of real APIs would be. */
export const billing = new BillingApi();
export const dns = new DnsApi();
export const mailer = new Mailer();
