// The IndexedDB adapter under fake-indexeddb: fast, in Node. That it survives a real page reload
// is proven in Chromium (test/browser).
import "fake-indexeddb/auto";
import { openDB } from "idb";
import { afterEach, describe, expect, it } from "vitest";
import { IndexedDbBackend } from "../../adapters/idb/index.js";
import { linearFlow, load, NotFound, StorageFailure, task, unorderedFlow } from "../../src/index.js";
import { assertCrashSafe } from "../../src/testing/index.js";
import { atom, book, describeBackendContract, flow } from "../contract/backend-contract.js";
import { idbHooks } from "../contract/idb-hooks.js";

const { fresh, corrupt, reopen, cleanUp } = idbHooks("tf-node");
afterEach(cleanUp);

describeBackendContract("IndexedDB (fake-indexeddb)", { make: () => fresh(), corrupt });

const add = (name: string, requires: string[], provides: string) =>
  task({ name, requires, provides, execute: (a: Record<string, number>) => requires.reduce((s, r) => s + (a[r] as number), 1), revert: () => `undo ${name}` });

describe("IndexedDbBackend", () => {
  for (const engine of ["serial", "parallel"] as const) {
    it(`survives a crash at every write (${engine}), resumed through a new connection`, async () => {
      const report = await assertCrashSafe({
        makeFlow: () => linearFlow("l", add("a", ["x"], "a"), unorderedFlow("fan", add("u1", ["a"], "u1"), add("u2", ["a"], "u2")), add("z", ["u1", "u2"], "z")),
        store: { x: 1 },
        engine: { engine },
        makeBackend: () => fresh(),
        reopen,
      });
      expect(report.points).toBeGreaterThan(3);
    });
  }

  it("commits a serial flow in one transaction per atom", async () => {
    const backend = await fresh();
    const engine = load(linearFlow("l", ...[1, 2, 3, 4, 5].map((i) => add(`t${i}`, [], `v${i}`))), { backend });
    await engine.run();
    expect(engine.statistics.commits).toBe(6);
    expect((await backend.getAtomDetails(engine.flowDetailId)).every((d) => d.state === "SUCCESS")).toBe(true);
  });

  it("refuses a database written by a newer schema version, and leaves it as it was", async () => {
    const name = `tf-newer-${crypto.randomUUID()}`;
    const db = await openDB(name, 7, { upgrade: (d) => void d.createObjectStore("future").put("kept", "k") });
    db.close();
    const error = await IndexedDbBackend.open(name).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StorageFailure);
    expect((error as Error).message).toMatch(/newer version of taskflow-ts.*nothing was changed/);
    const again = await openDB(name);
    expect(await again.get("future", "k")).toBe("kept");
    again.close();
  });

  it("aborts a whole batch when one record cannot be stored: nothing half-written", async () => {
    const backend = await fresh();
    const lb = book();
    const fd = flow(lb.uuid);
    const good = atom(fd.uuid, { state: "SUCCESS", result: 1 });
    const bad = atom(fd.uuid, { state: "SUCCESS", result: () => 1 });
    const error = await backend.commit({ logBooks: [lb], flows: [fd], atoms: [good, bad] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StorageFailure);
    expect((error as Error).message).toMatch(/cannot be stored in IndexedDB/);
    await expect(backend.getLogBook(lb.uuid)).rejects.toBeInstanceOf(NotFound);
    await expect(backend.getFlowDetail(fd.uuid)).rejects.toBeInstanceOf(NotFound);
  });

  it("says so clearly when IndexedDB is not available", async () => {
    const g = globalThis as { indexedDB?: unknown };
    const saved = g.indexedDB;
    Object.defineProperty(g, "indexedDB", { value: undefined, configurable: true, writable: true });
    try {
      await expect(IndexedDbBackend.open("nowhere")).rejects.toThrow(/IndexedDB is not available here/);
    } finally {
      Object.defineProperty(g, "indexedDB", { value: saved, configurable: true, writable: true });
    }
  });

  it("lets go of the database when another tab upgrades it, and tells the app", async () => {
    const name = `tf-upgrade-${crypto.randomUUID()}`;
    let told = 0;
    const backend = await IndexedDbBackend.open(name, { onVersionChange: () => told++ });
    const other = await openDB(name, 2); // another tab, with a newer version of the app
    other.close();
    expect(told).toBe(1);
    await expect(backend.listLogBooks()).rejects.toThrow(/newer version of taskflow-ts/);
  });

  it("lists finished log books and expires them by age, keeping unfinished ones", async () => {
    const backend = await fresh();
    const done = load(linearFlow("done", add("a", [], "a")), { backend, book: { name: "done" } });
    await done.run();
    const waiting = load(linearFlow("waiting", add("b", [], "b")), { backend, book: { name: "waiting" } });
    await waiting.prepare();
    waiting.suspend();
    await waiting.storage.commit();
    expect((await backend.listFinished()).map((b) => b.name)).toEqual(["done"]);
    expect(await backend.expire({ olderThanMs: 60_000, now: Date.now() })).toEqual([]);
    const expired = await backend.expire({ olderThanMs: 0, now: Date.now() + 1 });
    expect(expired).toEqual([done.storage.book.uuid]);
    expect((await backend.listLogBooks()).map((b) => b.name)).toEqual(["waiting"]);
  });
});
