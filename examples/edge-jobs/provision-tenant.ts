import { FlowRegistry, linearFlow, sleep, task, unorderedFlow, type FlowItem } from "taskflow-ts";
import { billing, dns, mailer, type BillingAccount, type DnsZone, type TenantRecord, type TenantRecords } from "./services.js";

/** Arguments of the "provision-tenant" factory (the `args` of a start, as JSON). */
export interface ProvisionOptions {
  /** How long DNS takes to propagate before the welcome message goes out. Default 5 s. */
  propagationMs?: number;
}

/** What a "provision-tenant" job needs in its store. */
export interface TenantRequest {
  tenant: string;
  plan: string;
  adminEmail: string;
}

// Provider calls are retried with backoff: 1 s, then 2 s, 4 s. Each wait is stored as a wake-up
// time and served by the Durable Object's alarm, so no isolate sits idle through it.
const retry = { attempts: 4, backoff: { initialMs: 1_000, rate: 2, maxMs: 8_000 } };

/**
 * Provisions a tenant: its records, a billing account and a DNS zone (two providers, called
 * together), a wait for DNS to propagate, then a welcome message. A failure reverts what was
 * done, latest first: the account is closed, the zone deleted, the records removed.
 */
export function provisionTenant(records: TenantRecords, options: ProvisionOptions = {}): FlowItem {
  return linearFlow(
    "provision-tenant",
    task({
      name: "create-records",
      requires: ["tenant", "plan", "adminEmail"],
      provides: "record",
      execute: ({ tenant, plan, adminEmail }: TenantRequest): TenantRecord => records.create({ tenant, plan, adminEmail, createdAt: Date.now() }),
      revert: ({ tenant }: TenantRequest) => records.delete(tenant),
    }),
    unorderedFlow(
      "providers",
      task({
        name: "billing-account",
        requires: ["tenant", "plan"],
        provides: "account",
        retry,
        execute: ({ tenant, plan }: TenantRequest, ctx) => billing.createAccount(ctx.idempotencyKey, tenant, plan),
        // ctx.result is the account, or the Failure of a call that created none.
        revert: async (_args: TenantRequest, ctx) => {
          if (isAccount(ctx.result)) await billing.closeAccount(ctx.result.accountId);
        },
      }),
      task({
        name: "dns-zone",
        requires: ["tenant"],
        provides: "zone",
        retry,
        execute: ({ tenant }: TenantRequest, ctx) => dns.createZone(ctx.idempotencyKey, tenant),
        revert: async (_args: TenantRequest, ctx) => {
          if (isZone(ctx.result)) await dns.deleteZone(ctx.result.zone);
        },
      }),
    ),
    sleep("dns-propagation", options.propagationMs ?? 5_000),
    task({
      name: "welcome-message",
      requires: ["adminEmail", "tenant", "zone"],
      provides: "welcome",
      execute: ({ adminEmail, tenant, zone }: TenantRequest & { zone: DnsZone }, ctx) =>
        mailer.send(ctx.idempotencyKey, adminEmail, `Welcome to ${tenant}: https://${zone.zone}`),
    }),
  );
}

/** The flows a Jobs object can start, over that object's tenant records. */
export function jobFlows(records: TenantRecords): FlowRegistry {
  return new FlowRegistry().register("provision-tenant", (options?: ProvisionOptions) => provisionTenant(records, options));
}

const isAccount = (v: unknown): v is BillingAccount => typeof v === "object" && v !== null && "accountId" in v;
const isZone = (v: unknown): v is DnsZone => typeof v === "object" && v !== null && "zone" in v;
