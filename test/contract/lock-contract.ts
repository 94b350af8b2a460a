// The lock service contract (issue 12, item 1): what the engine relies on from a LockService,
// run against each one in its real runtime, as the backend contract is: MemoryLockService in
// Node (test/contract/locks.test.ts), WebLockService in Chromium (test/browser/web-locks.test.ts),
// DurableObjectLockService with its LockObject in workerd (test/workerd/lock-object.test.ts).
import { describe, expect, it } from "vitest";
import { LockHeld, LockLost, type Lease, type LockService } from "../../src/index.js";

/** How a service's leases end, besides `release()` and a steal. */
export type LeaseLife =
  /** Memory, Web Locks: a lease lasts until released, stolen, or its context (process, tab, worker) ends. */
  | { kind: "until-released" }
  /**
   * Durable Object: a lease lasts `ttlMs` unless its holder renews it (the client does, on its
   * own). `passTime(ms)` moves both the holders' clocks (their renewals land) and the lock's (its
   * alarm runs); `expire(name)` lets the name's lease run out as if its holder had stopped renewing
   * (frozen or dead) and runs the alarm that frees it.
   */
  | { kind: "renewed"; ttlMs: number; passTime(ms: number): Promise<void>; expire(name: string): Promise<void> };

/** One lock space (a process, an origin's Web Locks, a LockObject) and what the suite needs of it. */
export interface LockSpace {
  /** A client of the space, as another tab, Worker or engine would have its own. */
  service(): LockService;
  /** A round trip to the lock manager: a request made before it has reached it (so it is queued, or granted). */
  settle(): Promise<void>;
  /**
   * Lets a holder learn of a loss its service only hears of later (the Durable Object client: at
   * its next renewal). Nothing to do where a loss is told at once.
   */
  notice(): Promise<void>;
  leases: LeaseLife;
  /** Breaks the name's lock from outside, telling its holder (MemoryLockService.breakLock), where the service can. */
  breakLock?(name: string): Promise<void>;
}

/** Resolves with the signal's reason once it aborts. */
const lost = (lease: Lease): Promise<unknown> =>
  lease.signal.aborted ? Promise.resolve(lease.signal.reason) : new Promise((resolve) => lease.signal.addEventListener("abort", () => resolve(lease.signal.reason), { once: true }));

function track<T>(promise: Promise<T>): { done: boolean; value?: T; promise: Promise<T> } {
  const t: { done: boolean; value?: T; promise: Promise<T> } = { done: false, promise };
  promise.then(
    (value) => ((t.done = true), (t.value = value)),
    () => (t.done = true),
  );
  return t;
}

let names = 0;
const fresh = () => `taskflow:flow:contract-${++names}-${Math.random().toString(36).slice(2)}`;

export function describeLockContract(label: string, make: () => LockSpace | Promise<LockSpace>): void {
  describe(`lock contract: ${label}`, () => {
    it("acquire gives a lease on the name, unaborted; release frees it and the name can be taken again", async () => {
      const space = await make();
      const name = fresh();
      const lease = await space.service().acquire(name);
      expect(lease.name).toBe(name);
      expect(lease.signal.aborted).toBe(false);
      await expect(space.service().acquire(name, { wait: false })).rejects.toBeInstanceOf(LockHeld);
      await lease.release();
      expect(lease.signal.aborted).toBe(false); // released, not lost
      const again = await space.service().acquire(name, { wait: false });
      expect(again.name).toBe(name);
      await again.release();
    });

    it("wait: false fails fast with LockHeld naming the lock; the holder keeps it", async () => {
      const space = await make();
      const name = fresh();
      const holder = await space.service().acquire(name);
      const error = await space.service().acquire(name, { wait: false }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(LockHeld);
      expect((error as Error).name).toBe("LockHeld");
      expect((error as Error).message).toContain(name);
      expect(holder.signal.aborted).toBe(false);
      await holder.release();
    });

    it("a waiter gets the lock only once it is released; of two waiters one at a time", async () => {
      const space = await make();
      const name = fresh();
      const holder = await space.service().acquire(name);
      const first = track(space.service().acquire(name));
      const second = track(space.service().acquire(name));
      await space.settle();
      expect([first.done, second.done]).toEqual([false, false]);
      await holder.release();
      const next = await Promise.race([first.promise, second.promise]);
      await space.settle();
      expect([first.done, second.done].filter(Boolean)).toHaveLength(1); // one holds it, the other still waits
      const other = next === first.value ? second : first;
      await next.release();
      const last = await other.promise;
      expect(next.signal.aborted).toBe(false);
      await last.release();
    });

    it("names are independent: holding one never blocks another", async () => {
      const space = await make();
      const [a, b] = [fresh(), fresh()];
      const one = await space.service().acquire(a);
      const two = await space.service().acquire(b, { wait: false });
      await expect(space.service().acquire(a, { wait: false })).rejects.toBeInstanceOf(LockHeld);
      await one.release();
      await expect(space.service().acquire(b, { wait: false })).rejects.toBeInstanceOf(LockHeld); // b still held
      await two.release();
    });

    it("release is idempotent and never frees a later holder's lock", async () => {
      const space = await make();
      const name = fresh();
      const lease = await space.service().acquire(name);
      await lease.release();
      await lease.release();
      const next = await space.service().acquire(name, { wait: false });
      await lease.release(); // the old lease again: the new holder keeps the name
      await expect(space.service().acquire(name, { wait: false })).rejects.toBeInstanceOf(LockHeld);
      expect(next.signal.aborted).toBe(false);
      await next.release();
    });

    it("a waiter whose signal aborts gives up with the signal's reason and never holds the name", async () => {
      const space = await make();
      const name = fresh();
      const holder = await space.service().acquire(name);
      const controller = new AbortController();
      const waiting = space.service().acquire(name, { signal: controller.signal });
      await space.settle();
      controller.abort(new Error("gave up"));
      await expect(waiting).rejects.toThrow("gave up");
      await holder.release();
      await space.settle();
      const next = await space.service().acquire(name, { wait: false }); // free: the one that gave up does not hold it
      await next.release();
      // An already aborted signal: nothing is asked.
      const aborted = new AbortController();
      aborted.abort(new Error("too late"));
      await expect(space.service().acquire(name, { signal: aborted.signal })).rejects.toThrow("too late");
      await (await space.service().acquire(name, { wait: false })).release();
    });

    it("steal takes the lock at once; the holder's signal aborts with LockLost; its release frees nothing of the thief's", async () => {
      const space = await make();
      const name = fresh();
      const holder = await space.service().acquire(name);
      const thief = await space.service().acquire(name, { steal: true });
      await space.notice();
      const reason = await lost(holder);
      expect(reason).toBeInstanceOf(LockLost);
      expect((reason as Error).message).toContain(name);
      expect(thief.signal.aborted).toBe(false);
      await holder.release();
      await expect(space.service().acquire(name, { wait: false })).rejects.toBeInstanceOf(LockHeld);
      await thief.release();
      // A steal of a free name simply takes it.
      const taken = await space.service().acquire(name, { steal: true });
      await taken.release();
    });

    it("a lease lost without release lets the next waiter in", async () => {
      const space = await make();
      const name = fresh();
      const holder = await space.service().acquire(name);
      const waiting = track(space.service().acquire(name));
      await space.settle();
      const thief = await space.service().acquire(name, { steal: true });
      await space.notice();
      await lost(holder);
      expect(waiting.done).toBe(false); // the thief holds it now
      await thief.release();
      await (await waiting.promise).release();
    });

    it("lease expiry: how a lease ends besides release and steal", async () => {
        const space = await make();
        const name = fresh();
        const { leases } = space;
        if (leases.kind === "until-released") {
          // Nothing runs out: the lease holds until released, stolen or its context ends.
          const lease = await space.service().acquire(name);
          await space.settle();
          await expect(space.service().acquire(name, { wait: false })).rejects.toBeInstanceOf(LockHeld);
          expect(lease.signal.aborted).toBe(false);
          await lease.release();
          return;
        }
        // Renewed leases: a holder that renews keeps the name well past one lease's length…
        const lease = await space.service().acquire(name);
        for (let i = 0; i < 6; i++) await leases.passTime(leases.ttlMs / 3);
        await expect(space.service().acquire(name, { wait: false })).rejects.toBeInstanceOf(LockHeld);
        expect(lease.signal.aborted).toBe(false);
        // …one that stops renewing loses it at its expiry: the waiter gets it, and the old holder
        // learns at its next renewal that its lease is gone.
        const waiting = space.service().acquire(name);
        await space.settle();
        await leases.expire(name);
        const successor = await waiting;
        await space.notice();
        expect(await lost(lease)).toBeInstanceOf(LockLost);
        await lease.release(); // gives back nothing of the successor's
        await expect(space.service().acquire(name, { wait: false })).rejects.toBeInstanceOf(LockHeld);
        await successor.release();
      });

    it("a broken lock (from outside) aborts its holder's signal with LockLost and frees the name", async () => {
      const space = await make();
      if (!space.breakLock) return; // this service has no way to break a lock from outside (a steal does it)
      const name = fresh();
      const holder = await space.service().acquire(name);
      await space.breakLock(name);
      expect(await lost(holder)).toBeInstanceOf(LockLost);
      const next = await space.service().acquire(name, { wait: false });
      await next.release();
    });
  });
}
