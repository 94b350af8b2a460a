// The LockObject (a lock service as a Durable Object, for runners outside the object that keeps
// their flows) and its client: one holder per name, leases that run out by alarm, a token per
// grant, and engines in the Worker kept apart by it.
import { env } from "cloudflare:workers";
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { DurableObjectLockService, type LockObjectRpc } from "../../adapters/durable-object/index.js";
import { linearFlow, load, LockHeld, LockLost, task } from "../../src/index.js";
import { ManualClock } from "../../src/testing/index.js";
import { HostedBackend } from "./hosted-backend.js";
import { eventually } from "./runner-helpers.js";

const MINUTE = 60_000;
const fresh = () => env.LOCKS.get(env.LOCKS.newUniqueId());
const alarmOf = (stub: ReturnType<typeof fresh>) => runInDurableObject(stub, (_, state) => state.storage.getAlarm());

describe("LockObject", () => {
  it("grants a name to one holder at a time: wait: false gets LockHeld, a waiter gets it on release, with the next token", async () => {
    const stub = fresh();
    const clock = new ManualClock(0); // renewals wait for this clock: none happens here
    const a = new DurableObjectLockService(stub as unknown as LockObjectRpc, { clock });
    const b = new DurableObjectLockService(stub as unknown as LockObjectRpc, { clock });
    const first = await a.acquire("taskflow:flow:x");
    await expect(b.acquire("taskflow:flow:x", { wait: false })).rejects.toBeInstanceOf(LockHeld);
    expect(await b.acquire("taskflow:flow:other", { wait: false })).toMatchObject({ name: "taskflow:flow:other" });
    let granted = false;
    const second = b.acquire("taskflow:flow:x").then((lease) => ((granted = true), lease));
    await eventually(async () => (await alarmOf(stub)) !== null); // the waiter armed the alarm for the lease's expiry
    expect(granted).toBe(false);
    await first.release();
    await (await second).release();
    expect(granted).toBe(true);
    expect(await stub.acquire("taskflow:flow:x", { wait: false })).toMatchObject({ token: 3 });
  });

  it("frees a lease that is not renewed by alarm at its expiry: the waiter gets it, the old holder's signal aborts with LockLost", async () => {
    const stub = fresh();
    const clock = new ManualClock(0);
    const a = new DurableObjectLockService(stub as unknown as LockObjectRpc, { ttlMs: MINUTE, clock });
    const b = new DurableObjectLockService(stub as unknown as LockObjectRpc, { ttlMs: MINUTE, clock: new ManualClock(0) });
    const frozen = await a.acquire("taskflow:flow:x"); // a holder that stops renewing (a frozen or dead Worker)
    const waiting = b.acquire("taskflow:flow:x");
    await eventually(async () => (await alarmOf(stub)) !== null);
    await stub.advanceClock(MINUTE + 1);
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    const successor = await waiting;
    expect(frozen.signal.aborted).toBe(false); // it does not know yet
    const lost = new Promise<unknown>((resolve) => frozen.signal.addEventListener("abort", () => resolve(frozen.signal.reason)));
    clock.advance(MINUTE / 3); // its renewal comes, too late
    expect(await lost).toBeInstanceOf(LockLost);
    await frozen.release(); // releases nothing of its successor's
    await expect(stub.acquire("taskflow:flow:x", { wait: false })).resolves.toEqual({ held: true });
    await successor.release();
  });

  it("keeps engines in the Worker apart: two runners of one flow, each with its own client, execute each step once", async () => {
    const locks = fresh();
    const backend = HostedBackend.fresh();
    const executed: string[] = [];
    const step = (n: string) => task({ name: n, provides: n, execute: async () => (executed.push(n), await Promise.resolve(), n) });
    const definition = () => linearFlow("race", step("a"), step("b"), step("c"));
    const client = () => new DurableObjectLockService(locks as unknown as LockObjectRpc, { clock: new ManualClock(0) });
    const first = load(definition(), { backend, lock: client() });
    await first.save();
    const engines = [first, load(definition(), { backend, lock: client(), flowDetailId: first.flowDetailId })];
    await Promise.all(engines.map((e) => e.run()));
    expect(executed).toEqual(["a", "b", "c"]);
    expect((await backend.getFlowDetail(first.flowDetailId)).epoch).toBe(2); // each run claimed the flow in turn
  });
});
