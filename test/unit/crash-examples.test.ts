// The crash-point harness over the flows the examples ship, with no filter: every write of each
// is a crash point, and the flow must end as if uninterrupted. Their results hold what the README
// recommends (ctx.idempotencyKey), timestamps and a sleep's wake-up time: the harness gives each
// scenario the same ids and its own copy of the clock, so these compare equal.
import { describe, it } from "vitest";
import { provisionTenant } from "../../examples/edge-jobs/provision-tenant.js";
import { BillingApi, DnsApi, Mailer, TenantRecords } from "../../examples/edge-jobs/services.js";
import { bookingFlow } from "../../examples/wizard/flow.js";
import { MemoryBackend, type Engine, provide, waitingFor } from "../../src/index.js";
import { assertCrashSafe, ManualClock } from "../../src/testing/index.js";
import { MapKv } from "./helpers.js";

const START = Date.parse("2026-03-01T09:00:00Z");

describe("the examples' flows survive a crash at every write", () => {
  it("edge-jobs: provision-tenant (retries with backoff, a sleep, idempotency keys and timestamps in results)", async () => {
    // The outside world outlives a crash but not a scenario: each scenario starts with a new one
    // (a scenario starts with a new backend, so that is where it is made).
    let world = { records: new TenantRecords(new MapKv(), () => START), providers: { billing: new BillingApi(), dns: new DnsApi(), mailer: new Mailer() } };
    await assertCrashSafe({
      makeFlow: () => provisionTenant(world.records, { propagationMs: 60_000 }, world.providers),
      store: { tenant: "acme", plan: "pro", adminEmail: "ada@acme.test" },
      engine: { engine: "parallel", clock: new ManualClock(START, { autoAdvance: true }) },
      makeBackend: () => {
        world = { records: new TenantRecords(new MapKv(), () => START), providers: { billing: new BillingApi(), dns: new DnsApi(), mailer: new Mailer() } };
        return new MemoryBackend();
      },
    });
  });

  it("wizard: booking (waits for each answer, then pays)", async () => {
    const answers: Record<string, unknown> = { name: "Ada", nights: 2, room: "double", confirm: "yes" };
    const ledger = { executed: () => {}, reverted: () => {}, pause: async () => {} };
    await assertCrashSafe({
      makeFlow: () => bookingFlow(ledger),
      drive: async (engine: Engine) => {
        await engine.run();
        for (let w = await waitingFor(engine); w.length > 0; w = await waitingFor(engine)) {
          for (const { name } of w) await provide(engine, name, answers[name]);
        }
      },
    });
  });
});
