// WebLockService against Chromium's own Web Locks (navigator.locks): what the engine relies on
// from a lock service, and that IndexedDbBackend offers it scoped to its database.
import { afterEach, describe, expect, it } from "vitest";
import { IndexedDbBackend, WebLockService } from "../../adapters/idb/index.js";
import { LockHeld, LockLost } from "../../src/index.js";

const name = () => `flow-${crypto.randomUUID()}`;
const opened: IndexedDbBackend[] = [];
afterEach(async () => {
  for (const b of opened.splice(0)) {
    await b.close();
    indexedDB.deleteDatabase(b.name);
  }
});

describe("WebLockService (Chromium's navigator.locks)", () => {
  it("holds a name until released; a second acquire waits, one with wait: false fails with LockHeld", async () => {
    const locks = new WebLockService({ scope: "t" });
    const lock = name();
    const first = await locks.acquire(lock);
    expect((await navigator.locks.query()).held?.map((l) => l.name)).toContain(`taskflow-ts/t/${lock}`);
    await expect(locks.acquire(lock, { wait: false })).rejects.toBeInstanceOf(LockHeld);
    let second = false;
    const waiting = locks.acquire(lock).then((lease) => ((second = true), lease));
    await navigator.locks.query(); // a round trip to the lock manager: the waiter is queued, not granted
    expect(second).toBe(false);
    await first.release();
    const lease = await waiting;
    expect(first.signal.aborted).toBe(false); // released, not lost
    await lease.release();
    await lease.release(); // idempotent
  });

  it("a steal takes the lock at once and aborts the holder's signal with LockLost", async () => {
    const lock = name();
    const holder = await new WebLockService({ scope: "t" }).acquire(lock);
    const thief = await new WebLockService({ scope: "t", steal: true }).acquire(lock);
    if (!holder.signal.aborted) await new Promise((resolve) => holder.signal.addEventListener("abort", resolve, { once: true }));
    expect(holder.signal.reason).toBeInstanceOf(LockLost);
    expect(thief.signal.aborted).toBe(false);
    await holder.release(); // nothing to give back any more; the thief keeps it
    await expect(new WebLockService({ scope: "t" }).acquire(lock, { wait: false })).rejects.toBeInstanceOf(LockHeld);
    await thief.release();
  });

  it("gives up waiting when the caller's signal aborts", async () => {
    const locks = new WebLockService();
    const lock = name();
    const held = await locks.acquire(lock);
    const controller = new AbortController();
    const waiting = locks.acquire(lock, { signal: controller.signal });
    controller.abort(new Error("gave up"));
    await expect(waiting).rejects.toThrow("gave up");
    await held.release();
  });

  it("IndexedDbBackend offers Web Locks scoped to its database: two databases never share a flow's lock", async () => {
    const a = await IndexedDbBackend.open(`tf-locks-${crypto.randomUUID()}`);
    const b = await IndexedDbBackend.open(`tf-locks-${crypto.randomUUID()}`);
    opened.push(a, b);
    expect(a.locks).toBeInstanceOf(WebLockService);
    const lock = name();
    const inA = await a.locks.acquire(lock);
    const inB = await b.locks.acquire(lock, { wait: false }); // another database: free
    await expect(a.locks.acquire(lock, { wait: false })).rejects.toBeInstanceOf(LockHeld);
    await Promise.all([inA.release(), inB.release()]);
  });
});
