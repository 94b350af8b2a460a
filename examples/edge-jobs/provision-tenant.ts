import { FlowRegistry, linearFlow, sleep, task, Times, unorderedFlow, type FlowItem } from "taskflow-ts";
import { billing, dns, mailer, type BillingApi, type DnsApi, type DnsZone, type Mailer, type TenantRecord, type TenantRecords } from "./services.js";

/** Arguments of the "provision-tenant" factory (the `args` of a start, as JSON). */
export interface ProvisionOptions {
  /** How long DNS takes to propagate before the welcome message goes out. Default 5 s. */
  propagationMs?: number;
}

/** The providers a job calls: the isolate's own by default; a test passes fresh ones. */
export interface Providers {
  billing: BillingApi;
  dns: DnsApi;
  mailer: Mailer;
}

/** What a "provision-tenant" job needs in its store. */
export interface TenantRequest {
  tenant: string;
  plan: string;
  adminEmail: string;
}

// Provider calls are retried with backoff: 1 s, then 2 s, 4 s. Each wait is stored as a wake-up
// time and served by the Durable Object's alarm, so no isolate sits idle through it. One retry
// controller per task: each is an atom of its own (`<task>_retry`).
const retry = () => new Times(4, { backoff: { initialMs: 1_000, rate: 2, maxMs: 8_000 } });

/**
 * Provisions a tenant: its records, a billing account and a DNS zone (two providers, called
 * together), a wait for DNS to propagate, then a welcome message. A failure reverts what was
 * done, latest first: the account is closed, the zone deleted, the records removed; each revert
 * undoes only what its own step did (by its idempotency key), never another job's.
 */
export function provisionTenant(records: TenantRecords, options: ProvisionOptions = {}, { billing: bills, dns: zones, mailer: mail }: Providers = { billing, dns, mailer }): FlowItem {
  return linearFlow(
    "provision-tenant",
    task({
      name: "create-records",
      requires: ["tenant", "plan", "adminEmail"],
      provides: "record",
      execute: ({ tenant, plan, adminEmail }: TenantRequest, ctx): TenantRecord => records.create(ctx.idempotencyKey, { tenant, plan, adminEmail }),
      // Only what this step created: a second job for the tenant finds the first one's record.
      revert: ({ tenant }: TenantRequest, ctx) => records.delete(tenant, ctx.idempotencyKey),
    }),
    unorderedFlow(
      "providers",
      task({
        name: "billing-account",
        requires: ["tenant", "plan"],
        provides: "account",
        retry: retry(),
        execute: ({ tenant, plan }: TenantRequest, ctx) => bills.createAccount(ctx.idempotencyKey, tenant, plan),
        // Undone by the same key: the account this call opened, if any (also when execute never
        // returned, as after an eviction mid-call), never another job's.
        revert: (_args: TenantRequest, ctx) => bills.closeAccount(ctx.idempotencyKey),
      }),
      task({
        name: "dns-zone",
        requires: ["tenant"],
        provides: "zone",
        retry: retry(),
        execute: ({ tenant }: TenantRequest, ctx) => zones.createZone(ctx.idempotencyKey, tenant),
        revert: (_args: TenantRequest, ctx) => zones.deleteZone(ctx.idempotencyKey),
      }),
    ),
    sleep("dns-propagation", options.propagationMs ?? 5_000),
    task({
      name: "welcome-message",
      requires: ["adminEmail", "tenant", "zone"],
      provides: "welcome",
      execute: ({ adminEmail, tenant, zone }: TenantRequest & { zone: DnsZone }, ctx) =>
        mail.send(ctx.idempotencyKey, adminEmail, `Welcome to ${tenant}: https://${zone.zone}`),
    }),
  );
}

/** The flows a Jobs object can start, over that object's tenant records. */
export function jobFlows(records: TenantRecords): FlowRegistry {
  return new FlowRegistry().register("provision-tenant", (options?: ProvisionOptions) => provisionTenant(records, options));
}
