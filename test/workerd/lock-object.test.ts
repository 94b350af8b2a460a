// The LockObject (a lock service as a Durable Object, for runners outside the object that keeps
// their flows) and its client: one holder per name, leases that run out by alarm, a token per
// grant, and engines in the Worker kept apart by it.
import { env } from "cloudflare:workers";
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { DurableObjectLockService, type LockObjectRpc } from "../../adapters/durable-object/index.js";
import { linearFlow, load, task } from "../../src/index.js";
import { ManualClock } from "../../src/testing/index.js";
import { describeLockContract, type LockSpace } from "../contract/lock-contract.js";
import { HostedBackend } from "./hosted-backend.js";

const MINUTE = 60_000;
const fresh = () => env.LOCKS.get(env.LOCKS.newUniqueId());

/**
 * One LockObject, its clients sharing one ManualClock (their renewals come when the test moves
 * it) with leases of a minute; the object's clock is moved apart (TestLocks.advanceClock).
 */
function lockSpace(): LockSpace {
  const stub = fresh();
  const clock = new ManualClock(0);
  const renewing = new Set<Promise<unknown>>();
  const rpc = stub as unknown as LockObjectRpc;
  const counted: LockObjectRpc = {
    acquire: (name, options) => rpc.acquire(name, options),
    cancel: (name, ticket) => rpc.cancel(name, ticket),
    release: (name, token) => rpc.release(name, token),
    renew: (name, token, ttlMs) => {
      const renewal = rpc.renew(name, token, ttlMs);
      renewing.add(renewal);
      void renewal.catch(() => undefined).then(() => renewing.delete(renewal));
      return renewal;
    },
  };
  /** The clients' renewals due by the clock's time have reached the object and come back. */
  const renewed = async (ms: number) => {
    clock.advance(ms);
    await new Promise((resolve) => setTimeout(resolve, 0)); // the woken renewal loops call renew
    await Promise.allSettled([...renewing]);
  };
  return {
    service: () => new DurableObjectLockService(counted, { ttlMs: MINUTE, clock }),
    settle: async () => void (await runInDurableObject(stub, () => undefined)),
    notice: () => renewed(MINUTE / 3), // a holder hears of its loss at its next renewal
    leases: {
      kind: "renewed",
      ttlMs: MINUTE,
      passTime: async (ms) => {
        await renewed(ms);
        await stub.advanceClock(ms);
        await runDurableObjectAlarm(stub);
      },
      expire: async () => {
        await stub.advanceClock(MINUTE + 1); // the object's clock only: nobody renewed meanwhile
        await runDurableObjectAlarm(stub);
      },
    },
  };
}

describeLockContract("DurableObjectLockService (a LockObject in workerd)", lockSpace);

describe("LockObject", () => {
  it("gives each grant a token one more than the name's last, kept in storage across releases and expiries", async () => {
    const stub = fresh();
    const locks = new DurableObjectLockService(stub as unknown as LockObjectRpc, { clock: new ManualClock(0) });
    await (await locks.acquire("taskflow:flow:x")).release();
    await (await locks.acquire("taskflow:flow:x")).release();
    expect(await stub.acquire("taskflow:flow:x", { wait: false })).toMatchObject({ token: 3 });
    expect(await stub.acquire("taskflow:flow:y", { wait: false })).toMatchObject({ token: 1 }); // per name
    await stub.advanceClock(MINUTE);
    expect(await stub.acquire("taskflow:flow:x", { wait: false })).toMatchObject({ token: 4 }); // the expired lease's name
  });

  it("a waiter that gives up is withdrawn from the object: it is never granted the name, not even for a moment", async () => {
    const stub = fresh();
    const locks = new DurableObjectLockService(stub as unknown as LockObjectRpc, { clock: new ManualClock(0) });
    const holder = await locks.acquire("taskflow:flow:x"); // token 1
    const controller = new AbortController();
    const waiting = locks.acquire("taskflow:flow:x", { signal: controller.signal });
    await runInDurableObject(stub, () => undefined); // the wait has reached the object
    controller.abort(new Error("gave up"));
    await expect(waiting).rejects.toThrow("gave up");
    await holder.release();
    // Had the waiter been granted the name on release (and given it back), this would be token 3.
    expect(await stub.acquire("taskflow:flow:x", { wait: false })).toMatchObject({ token: 2 });
  });

  it("its client takes the lease and the renewal period as readable durations, and refuses one that is not", async () => {
    const rpc = fresh() as unknown as LockObjectRpc;
    const asked: Array<number | undefined> = [];
    const renewals: Array<number | undefined> = [];
    const spy: LockObjectRpc = {
      acquire: (name, options) => (asked.push(options?.ttlMs), rpc.acquire(name, options)),
      cancel: (name, ticket) => rpc.cancel(name, ticket),
      release: (name, token) => rpc.release(name, token),
      renew: (name, token, ttlMs) => (renewals.push(ttlMs), rpc.renew(name, token, ttlMs)),
    };
    const clock = new ManualClock(0);
    const lease = await new DurableObjectLockService(spy, { ttlMs: "2 minutes", renewEveryMs: "30s", clock }).acquire("taskflow:flow:d");
    expect(asked).toEqual([2 * MINUTE]);
    clock.advance(29_999);
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(renewals).toEqual([]);
    clock.advance(1);
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(renewals).toEqual([2 * MINUTE]);
    await lease.release();
    expect(() => new DurableObjectLockService(spy, { ttlMs: "soon" as never })).toThrow(/ttlMs: "soon" is not a duration/);
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
