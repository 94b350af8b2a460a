// WebLockService against Chromium's own Web Locks (navigator.locks): what the engine relies on
// from a lock service, and that IndexedDbBackend offers it scoped to its database.
import { afterEach, describe, expect, it } from "vitest";
import { IndexedDbBackend, WebLockService } from "../../adapters/idb/index.js";
import { LockHeld, LockLost } from "../../src/index.js";
import { describeLockContract } from "../contract/lock-contract.js";

const name = () => `flow-${crypto.randomUUID()}`;
const opened: IndexedDbBackend[] = [];
afterEach(async () => {
  for (const b of opened.splice(0)) {
    await b.close();
    indexedDB.deleteDatabase(b.name);
  }
});

// The contract every lock service keeps (test/contract/lock-contract.ts), on Chromium's own Web Locks.
describeLockContract("WebLockService (Chromium's navigator.locks)", () => {
  const scope = `contract-${crypto.randomUUID()}`;
  return {
    service: () => new WebLockService({ scope }),
    settle: async () => void (await navigator.locks.query()), // a round trip to the lock manager
    notice: async () => {}, // a steal rejects the holder's request at once
    leases: { kind: "until-released" }, // or until the tab or worker holding it goes away (test/e2e/tabs.test.ts)
    // Another context of the origin steals the name and lets it go at once.
    breakLock: (name) => navigator.locks.request(`taskflow-ts/${scope}/${name}`, { steal: true }, () => undefined).then(() => undefined),
  };
});

describe("WebLockService (Chromium's navigator.locks)", () => {
  it("holds the name as a Web Lock of the origin, scoped: taskflow-ts/<scope>/<name>", async () => {
    const lock = name();
    const lease = await new WebLockService({ scope: "t" }).acquire(lock);
    expect((await navigator.locks.query()).held?.map((l) => l.name)).toContain(`taskflow-ts/t/${lock}`);
    await lease.release();
    expect((await navigator.locks.query()).held?.map((l) => l.name)).not.toContain(`taskflow-ts/t/${lock}`);
  });

  it("a service made with steal: true takes every name it asks for from its holder", async () => {
    const lock = name();
    const holder = await new WebLockService({ scope: "t" }).acquire(lock);
    const thief = await new WebLockService({ scope: "t", steal: true }).acquire(lock);
    if (!holder.signal.aborted) await new Promise((resolve) => holder.signal.addEventListener("abort", resolve, { once: true }));
    expect(holder.signal.reason).toBeInstanceOf(LockLost);
    await thief.release();
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
