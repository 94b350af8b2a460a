// The outside world of the example, simulated in-process and deterministic: a tenant database
// (the object's own storage), a billing provider whose first call per tenant fails as a
// provider under load would (so the retry and its backoff show), a DNS provider, and a mailer.
// Each external call is idempotent on the key the task passes (TaskContext.idempotencyKey), as
// a real API would be with an Idempotency-Key header: a task that runs again after an eviction
// gets the same answer, not a second account. Undoing goes by that key too: a revert undoes what
// the call made under its own key, and nothing another job made (a second job for a tenant finds
// its records and zone there already: cancelling it must not remove the first job's).

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
  /** The idempotency key of the step that created it: only that step's revert deletes it. */
  createdBy: string;
}

/** The part of a Durable Object's synchronous storage (`ctx.storage.kv`) the records need; a Map-like in a test. */
export interface RecordStorage {
  get<T>(key: string): T | undefined;
  put<T>(key: string, value: T): void;
  delete(key: string): boolean;
}

/** Tenant records in the Durable Object's storage (beside the log books, under their own prefix). */
export class TenantRecords {
  constructor(
    private readonly kv: RecordStorage,
    /** When a record is created (ms since the epoch); a test passes its own. */
    private readonly now: () => number = () => Date.now(),
  ) {}

  /** Creates the tenant's record under `key`, or returns the one there (an earlier run of this step, or another job's). */
  create(key: string, request: Omit<TenantRecord, "createdAt" | "createdBy">): TenantRecord {
    const existing = this.get(request.tenant);
    if (existing) return existing;
    const record = { ...request, createdAt: this.now(), createdBy: key };
    this.kv.put(`tenant:${request.tenant}`, record);
    return record;
  }

  get(tenant: string): TenantRecord | undefined {
    return this.kv.get<TenantRecord>(`tenant:${tenant}`);
  }

  /** Deletes the tenant's record if the step with this key created it; another job's stays. */
  delete(tenant: string, key: string): boolean {
    return this.get(tenant)?.createdBy === key && this.kv.delete(`tenant:${tenant}`);
  }
}

/** A provider's answers, remembered per idempotency key. */
class Provider<T> {
  protected readonly answers = new Map<string, T>();
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
  private readonly opened = new Map<string, number>();
  readonly closed: string[] = [];

  /** Keys whose call failed: as an idempotent API does, a call again with one gets the same answer. */
  private readonly failed = new Set<string>();

  /**
   * Opens an account for the tenant (one per key: a second job opens a second account). Fails the
   * first time it is called for a tenant (a 503), and again for that key (a retry has a new one).
   */
  async createAccount(key: string, tenant: string, plan: string): Promise<BillingAccount> {
    if (!this.seen.has(tenant) || this.failed.has(key)) {
      this.seen.add(tenant);
      this.failed.add(key);
      this.calls.push(`createAccount ${tenant}: 503`);
      throw new ServiceUnavailable(`billing: 503 Service Unavailable for tenant "${tenant}" (simulated: the first call fails)`);
    }
    if (!["free", "pro", "enterprise"].includes(plan)) throw new Error(`billing: plan "${plan}" does not exist; use free, pro or enterprise`);
    return this.once(key, `createAccount ${tenant}`, () => {
      const n = (this.opened.get(tenant) ?? 0) + 1;
      this.opened.set(tenant, n);
      return { accountId: n === 1 ? `acct_${tenant}` : `acct_${tenant}_${n}`, plan };
    });
  }

  /** Closes the account the call with this key opened, if it opened one. */
  async closeAccount(key: string): Promise<void> {
    const account = this.answers.get(key);
    if (account && !this.closed.includes(account.accountId)) this.closed.push(account.accountId);
  }
}

export interface DnsZone {
  zone: string;
  nameservers: string[];
}

export class DnsApi extends Provider<DnsZone> {
  /** Each zone, with the key of the call that created it. */
  private readonly owners = new Map<string, string>();
  readonly deleted: string[] = [];

  /** Creates the tenant's zone, or answers with the one there (another job's: it stays that job's). */
  async createZone(key: string, tenant: string): Promise<DnsZone> {
    return this.once(key, `createZone ${tenant}`, () => {
      const zone = `${tenant}.example.net`;
      if (!this.owners.has(zone)) this.owners.set(zone, key);
      return { zone, nameservers: ["ns1.example.net", "ns2.example.net"] };
    });
  }

  /** Deletes the zone the call with this key created, if it created one. */
  async deleteZone(key: string): Promise<void> {
    const zone = this.answers.get(key)?.zone;
    if (zone === undefined || this.owners.get(zone) !== key) return;
    this.owners.delete(zone);
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
