/**
 * Storage and the memory backend, after TaskFlow's `test_storage.py` and
 * `unit/persistence/base.py` (reference §2 "Storage", "Persistence").
 */
import { describe, expect, it } from "vitest";
import { Failure, FlowRegistry, InvalidFormat, linearFlow, load, MemoryBackend, NotFound, StorageFailure, task, type AtomDetail, type FlowDetail, type LogBook, SCHEMA_VERSION } from "../../src/index.js";
import { memoryBackendFromDump } from "../../src/backend.js";
import { countCommits } from "../../src/backend.js";
import { failing, progressing, rejection, RuntimeError, storeEveryAtom } from "./helpers.js";

const book = (uuid = "lb-1", extra: Partial<LogBook> = {}): LogBook => ({
  schemaVersion: SCHEMA_VERSION, uuid, name: "book", createdAt: 1, updatedAt: 1, meta: {}, ...extra,
});
const flowDetail = (uuid = "fd-1", bookUuid = "lb-1", extra: Partial<FlowDetail> = {}): FlowDetail => ({
  schemaVersion: SCHEMA_VERSION, uuid, bookUuid, name: "flow", state: "PENDING", createdAt: 1, updatedAt: 1, meta: {}, ...extra,
});
const atomDetail = (uuid = "ad-1", flowUuid = "fd-1", extra: Partial<AtomDetail> = {}): AtomDetail => ({
  schemaVersion: SCHEMA_VERSION, uuid, flowUuid, name: `atom-${uuid}`, kind: "task", state: "PENDING", intention: "EXECUTE",
  version: "1.0", meta: {}, updatedAt: 1, ...extra,
});

describe("MemoryBackend", () => {
  it("stores a batch and returns what was stored", async () => {
    const b = countCommits(new MemoryBackend());
    await b.commit({ logBooks: [book()], flows: [flowDetail()], atoms: [atomDetail("ad-1"), atomDetail("ad-2")] });
    expect(b.commits).toBe(1);
    expect(await b.getLogBook("lb-1")).toEqual(book());
    expect(await b.getFlowDetail("fd-1")).toEqual(flowDetail());
    expect((await b.getFlowDetails("lb-1")).map((f) => f.uuid)).toEqual(["fd-1"]);
    expect((await b.getAtomDetails("fd-1")).map((a) => a.uuid).sort()).toEqual(["ad-1", "ad-2"]);
    expect((await b.listLogBooks()).map((l) => l.uuid)).toEqual(["lb-1"]);
  });

  it("mutating a returned record does not change what is stored", async () => {
    const b = new MemoryBackend();
    await b.commit({ logBooks: [book()], flows: [flowDetail()], atoms: [atomDetail()] });
    const fd = await b.getFlowDetail("fd-1");
    fd.state = "SUCCESS";
    fd.store = { hacked: true };
    const [ad] = await b.getAtomDetails("fd-1");
    ad!.state = "SUCCESS";
    ad!.progress = 0.5;
    const lb = await b.getLogBook("lb-1");
    lb.meta.x = 1;
    expect((await b.getFlowDetail("fd-1")).state).toBe("PENDING");
    expect((await b.getFlowDetail("fd-1")).store).toBeUndefined();
    expect((await b.getAtomDetails("fd-1"))[0]).toEqual(atomDetail());
    expect((await b.getLogBook("lb-1")).meta).toEqual({});
  });

  it("mutating a committed record or a dump afterwards does not change what is stored", async () => {
    const b = new MemoryBackend();
    const fd = flowDetail();
    await b.commit({ logBooks: [book()], flows: [fd], atoms: [] });
    fd.state = "FAILURE";
    const dump = b.dump();
    (dump.flows[0] as FlowDetail).state = "REVERTED";
    expect((await b.getFlowDetail("fd-1")).state).toBe("PENDING");
  });

  it("an atom detail whose flow detail is unknown is refused with NotFound and nothing is written", async () => {
    const memory = new MemoryBackend();
    const b = countCommits(memory);
    const error = await rejection(b.commit({ logBooks: [book()], flows: [], atoms: [atomDetail("ad-1", "fd-unknown")] }));
    expect(error).toBeInstanceOf(NotFound);
    expect(error.message).toContain("fd-unknown");
    expect(b.commits).toBe(0);
    await expect(b.getLogBook("lb-1")).rejects.toBeInstanceOf(NotFound);
    expect(memory.dump()).toEqual({ logBooks: [], flows: [], atoms: [], trail: [] });
  });

  it("a flow detail whose log book is unknown is refused with NotFound and nothing is written", async () => {
    const b = countCommits(new MemoryBackend());
    await b.commit({ logBooks: [book()], flows: [flowDetail()], atoms: [] });
    const error = await rejection(
      b.commit({ logBooks: [], flows: [flowDetail("fd-2", "lb-unknown")], atoms: [atomDetail("ad-9", "fd-1")] }),
    );
    expect(error).toBeInstanceOf(NotFound);
    expect(error.message).toContain("lb-unknown");
    expect(b.commits).toBe(1);
    await expect(b.getFlowDetail("fd-2")).rejects.toBeInstanceOf(NotFound);
    expect(await b.getAtomDetails("fd-1")).toEqual([]);
  });

  it("a record that cannot be cloned is refused with StorageFailure and nothing is written", async () => {
    const b = new MemoryBackend();
    const bad = atomDetail("ad-1", "fd-1", { result: { fn: () => 1 } });
    const error = await rejection(b.commit({ logBooks: [book()], flows: [flowDetail()], atoms: [bad] }));
    expect(error).toBeInstanceOf(StorageFailure);
    expect(b.dump()).toEqual({ logBooks: [], flows: [], atoms: [], trail: [] });
  });

  it("unknown records raise NotFound", async () => {
    const b = new MemoryBackend();
    await expect(b.getLogBook("nope")).rejects.toBeInstanceOf(NotFound);
    await expect(b.getFlowDetail("nope")).rejects.toBeInstanceOf(NotFound);
    await expect(b.getFlowDetails("nope")).rejects.toBeInstanceOf(NotFound);
    await expect(b.getAtomDetails("nope")).rejects.toBeInstanceOf(NotFound);
    await expect(b.destroyLogBook("nope")).rejects.toBeInstanceOf(NotFound);
  });

  it("destroying a log book removes its flow and atom details", async () => {
    const b = new MemoryBackend();
    await b.commit({ logBooks: [book(), book("lb-2")], flows: [flowDetail(), flowDetail("fd-2", "lb-2")], atoms: [atomDetail(), atomDetail("ad-2", "fd-2")] });
    await b.destroyLogBook("lb-1");
    await expect(b.getFlowDetail("fd-1")).rejects.toBeInstanceOf(NotFound);
    await expect(b.getAtomDetails("fd-1")).rejects.toBeInstanceOf(NotFound);
    const dump = b.dump();
    expect(dump.atoms.map((a) => (a as AtomDetail).uuid)).toEqual(["ad-2"]);
    expect(dump.flows.map((f) => (f as FlowDetail).uuid)).toEqual(["fd-2"]);
  });

  it("lists a book's flow details oldest first", async () => {
    const b = new MemoryBackend();
    await b.commit({
      logBooks: [book()],
      flows: [flowDetail("late", "lb-1", { createdAt: 30 }), flowDetail("early", "lb-1", { createdAt: 10 }), flowDetail("mid", "lb-1", { createdAt: 20 })],
      atoms: [],
    });
    expect((await b.getFlowDetails("lb-1")).map((f) => f.uuid)).toEqual(["early", "mid", "late"]);
  });

  it("a corrupted record in a dump raises InvalidFormat naming its id when read", async () => {
    const b = new MemoryBackend();
    await b.commit({ logBooks: [book()], flows: [flowDetail()], atoms: [atomDetail("ad-1"), atomDetail("ad-corrupt")] });
    const dump = b.dump();
    (dump.atoms.find((a) => (a as AtomDetail).uuid === "ad-corrupt") as Record<string, unknown>).state = "EXPLODED";
    const restored = memoryBackendFromDump(dump);
    const error = await rejection(restored.getAtomDetails("fd-1"));
    expect(error).toBeInstanceOf(InvalidFormat);
    expect(error.message).toContain("ad-corrupt");
    expect(error.message).toContain("atom detail");
  });

  it("a corrupted flow detail or log book raises InvalidFormat naming its id", async () => {
    const b = new MemoryBackend();
    await b.commit({ logBooks: [book()], flows: [flowDetail()], atoms: [] });
    const dump = b.dump();
    delete (dump.flows[0] as Record<string, unknown>).bookUuid;
    (dump.logBooks[0] as Record<string, unknown>).createdAt = "yesterday";
    const restored = memoryBackendFromDump(dump);
    const e1 = await rejection(restored.getFlowDetail("fd-1"));
    expect(e1).toBeInstanceOf(InvalidFormat);
    expect(e1.message).toContain("fd-1");
    const e2 = await rejection(restored.getLogBook("lb-1"));
    expect(e2).toBeInstanceOf(InvalidFormat);
    expect(e2.message).toContain("lb-1");
  });

  // Issue 11, item 14.
  it.each([
    ["a null log book", { logBooks: [null], flows: [], atoms: [] }, /logBooks\[0\]/],
    ["a null flow detail", { logBooks: [book()], flows: [flowDetail(), null], atoms: [] }, /flows\[1\]/],
    ["an atom detail that is a string", { logBooks: [], flows: [], atoms: ["ad-1"] }, /atoms\[0\]/],
    ["a flow detail with a numeric uuid", { logBooks: [], flows: [{ uuid: 7, bookUuid: "lb-1" }], atoms: [] }, /flows\[0\]/],
    ["a missing list", { logBooks: [], flows: [] }, /atoms/],
    ["a list that is not an array", { logBooks: {}, flows: [], atoms: [] }, /logBooks/],
    ["no dump at all", null, /dump/],
  ])("fromDump refuses %s with InvalidFormat naming it", (_what, dump, where) => {
    let error: unknown;
    try {
      memoryBackendFromDump(dump as never);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidFormat);
    expect((error as Error).message).toMatch(where);
  });

  it("a record of a future schema version is refused with a hint", async () => {
    const b = new MemoryBackend();
    await b.commit({ logBooks: [book()], flows: [flowDetail()], atoms: [] });
    const dump = b.dump();
    (dump.flows[0] as Record<string, unknown>).schemaVersion = SCHEMA_VERSION + 1;
    const error = await rejection(memoryBackendFromDump(dump).getFlowDetail("fd-1"));
    expect(error).toBeInstanceOf(InvalidFormat);
    expect(error.message).toContain(`schema version ${SCHEMA_VERSION + 1}; this build reads versions up to ${SCHEMA_VERSION}: upgrade taskflow-ts`);
  });

  it("a closed backend refuses every call with StorageFailure", async () => {
    const b = new MemoryBackend();
    await b.close();
    await expect(b.listLogBooks()).rejects.toBeInstanceOf(StorageFailure);
    await expect(b.commit({ logBooks: [book()], flows: [], atoms: [] })).rejects.toBeInstanceOf(StorageFailure);
  });

  it("intention, failures and results round-trip through a JSON dump", async () => {
    const b = new MemoryBackend();
    const failure = Failure.fromError(new RuntimeError("Woot!")).toJSON();
    const ad = atomDetail("ad-1", "fd-1", { state: "FAILURE", intention: "REVERT", failure, result: undefined, progress: 0.5, meta: { note: "x" } });
    const ad2 = atomDetail("ad-2", "fd-1", { state: "SUCCESS", intention: "EXECUTE", result: { a: [1, 2, { b: null }] } });
    await b.commit({ logBooks: [book()], flows: [flowDetail()], atoms: [ad, ad2] });
    const restored = memoryBackendFromDump(JSON.parse(JSON.stringify(b.dump())));
    const got = new Map((await restored.getAtomDetails("fd-1")).map((a) => [a.uuid, a]));
    expect(got.get("ad-1")?.intention).toBe("REVERT");
    expect(Failure.fromJSON(got.get("ad-1")?.failure).matches(Failure.fromJSON(failure))).toBe(true);
    expect(got.get("ad-1")?.progress).toBe(0.5);
    expect(got.get("ad-2")?.result).toEqual({ a: [1, 2, { b: null }] });
  });
});

describe("engine storage", () => {
  it("refuses a compiled node of another engine's flow (records are kept by node index, so it would find another atom's)", async () => {
    const mine = load(linearFlow("mine", task({ name: "a", requires: ["v"], execute: () => 1 })), { store: { v: 0 } });
    const theirs = load(linearFlow("theirs", task({ name: "b", execute: () => 2 })));
    await Promise.all([mine.prepare(), theirs.prepare()]);
    const node = theirs.compile().atoms.get("b");
    expect(node?.index).toBe(mine.compile().atoms.get("a")?.index); // the same index in both graphs
    const reader = mine.storage as unknown as { fetchArgs(n: unknown): unknown };
    expect(() => reader.fetchArgs(node)).toThrow(NotFound);
    expect(() => reader.fetchArgs(node)).toThrow('flow "mine" has no atom named "b"');
  });

  it("is not available before prepare()", () => {
    const e = load(progressing("a"));
    expect(() => e.storage).toThrow();
  });

  it("two hosts that load one flow write a never-started atom under one key, not two", async () => {
    const backend = new MemoryBackend();
    const first = load(linearFlow("f", progressing("a"), progressing("b")), { backend });
    await first.save(); // no atom detail stored yet
    const hosts = [0, 1].map(() => load(linearFlow("f", progressing("a"), progressing("b")), { backend, flowDetailId: first.flowDetailId }));
    for (const h of hosts) await h.prepare();
    expect(hosts[0]?.storage.detail("a").uuid).toBe(hosts[1]?.storage.detail("a").uuid);
    for (const h of hosts) {
      h.injectAtomArgs("a", { seen: true }); // a first change: the detail gets written
      await h.save();
    }
    expect((await backend.getAtomDetails(first.flowDetailId)).map((d) => d.name)).toEqual(["a"]);
  });

  it("save() stores a flow that never ran, so that a later host finds it by id and runs it", async () => {
    const memory = new MemoryBackend();
    const backend = countCommits(memory);
    const e = load(linearFlow("f", progressing("a"), progressing("b", { provides: "x" })), { backend, store: { k: 1 } });
    await e.prepare();
    await expect(backend.getFlowDetail(e.flowDetailId)).rejects.toBeInstanceOf(NotFound); // prepare writes nothing
    await e.save();
    expect(backend.commits).toBe(1);
    await e.save(); // nothing new: no write
    expect(backend.commits).toBe(1);
    const later = load(linearFlow("f", progressing("a"), progressing("b", { provides: "x" })), {
      backend: memoryBackendFromDump(JSON.parse(JSON.stringify(memory.dump()))),
      flowDetailId: e.flowDetailId,
    });
    await later.run();
    expect(later.storage.fetchAll()).toEqual({ k: 1, x: 5 });
  });

  it("results are readable in SUCCESS only (here), NotFound otherwise; reset clears them", async () => {
    const e = load(linearFlow("f", progressing("a", { provides: "x" }), progressing("b")));
    await e.prepare();
    expect(() => e.storage.getResult("a")).toThrow(NotFound);
    expect(() => e.storage.getAtomState("zzz")).toThrow(NotFound);
    await e.run();
    expect(e.storage.getResult("a")).toBe(5);
    expect(e.storage.getAtomState("a")).toBe("SUCCESS");
    await e.reset();
    expect(e.storage.getAtomState("a")).toBe("PENDING");
    expect(() => e.storage.getResult("a")).toThrow(NotFound);
    expect(() => e.storage.fetch("x")).toThrow(NotFound);
    expect(e.storage.detail("a").result).toBeUndefined();
  });

  it("a failed atom's result is its Failure while FAILURE (never resolved)", async () => {
    const e = load(linearFlow("f", failing("bad")), { neverResolve: true });
    await expect(e.run()).rejects.toBeInstanceOf(RuntimeError);
    expect(e.storage.flowDetail.state).toBe("FAILURE");
    expect(e.storage.getAtomState("bad")).toBe("FAILURE");
    const result = e.storage.getResult("bad");
    expect(result).toBeInstanceOf(Failure);
    expect((result as Failure).check(RuntimeError)).toBe("RuntimeError");
  });

  // As TaskFlow 5.0 answers it (its storage._get returns a stored failure in any state); checked
  // with the peer on linear_flow.Flow("f").add(Ok("ok", provides="y"), Fail("fail", provides="x")):
  //   fetch("x") -> Failure, fetch("y") -> NotFound, fetch_all() -> {"x": Failure},
  //   get_execute_result("fail") -> Failure (REVERTED), get_execute_result("ok") -> NotFound;
  // and Fail("fail", provides=("a", "b")): fetch("a") -> NotFound (nothing to extract from a failure).
  it("a failed provider's Failure is what fetch, fetchAll and getResult return, also once it is REVERTED, as in TaskFlow", async () => {
    const backend = new MemoryBackend();
    const flow = () => linearFlow("f", progressing("ok", { provides: "y" }), failing("fail", { provides: "x" }), failing("pair", { provides: ["a", "b"] }));
    const e = load(flow(), { backend, engine: "parallel" });
    await expect(e.run()).rejects.toBeInstanceOf(RuntimeError);
    for (const engine of [e, load(flow(), { backend: memoryBackendFromDump(JSON.parse(JSON.stringify(backend.dump()))), flowDetailId: e.flowDetailId })]) {
      await engine.prepare();
      const storage = engine.storage;
      expect(storage.getAtomState("fail")).toBe("REVERTED");
      const failure = storage.getFailure("fail") as Failure;
      expect(failure.check(RuntimeError)).toBe("RuntimeError");
      expect(storage.getResult("fail")).toBe(failure);
      expect(storage.fetch("x")).toBe(failure);
      expect(storage.fetchAll()).toEqual({ x: failure });
      expect(() => storage.fetch("y")).toThrow(NotFound);
      expect(() => storage.getResult("ok")).toThrow(NotFound);
      expect(storage.getAtomState("pair")).toBe("PENDING");
    }
    // A difference (README): with two providers of "x", one reverted without a failure, TaskFlow
    // finds nothing for "x" (NotFound, and fetch_all leaves it out); here the other one's value.
    const two = load(linearFlow("two", progressing("ok", { provides: "x" }), failing("fail", { provides: "x" })));
    await expect(two.run()).rejects.toBeInstanceOf(RuntimeError);
    expect(two.storage.fetch("x")).toBe(two.storage.getFailure("fail"));
    expect(two.storage.fetchAll()).toEqual({ x: two.storage.getFailure("fail") });
    const pair = load(linearFlow("p", failing("pair", { provides: ["a", "b"] })));
    await expect(pair.run()).rejects.toBeInstanceOf(RuntimeError);
    expect(pair.storage.getResult("pair")).toBeInstanceOf(Failure);
    expect(() => pair.storage.fetch("a")).toThrow(NotFound);
    expect(pair.storage.fetchAll()).toEqual({});
  });

  it("a failure reloaded from the backend matches the cached one", async () => {
    const backend = new MemoryBackend();
    const e = load(linearFlow("f", progressing("ok"), failing("fail")), { backend });
    await expect(e.run()).rejects.toBeInstanceOf(RuntimeError);
    const cached = e.storage.getFailure("fail");
    expect(cached?.check(RuntimeError)).toBe("RuntimeError");

    const again = load(linearFlow("f", progressing("ok"), failing("fail")), { backend, flowDetailId: e.flowDetailId });
    await again.prepare();
    const fromBackend = again.storage.getFailure("fail");
    expect(fromBackend).toBeDefined();
    expect(fromBackend?.exception).toBeUndefined();
    expect(fromBackend?.matches(cached as Failure)).toBe(true);
    expect(Object.keys(again.storage.executeFailures())).toEqual(["fail"]);
  });

  // Regression test for a fixed bug (src/engine/engine.ts analyze() + src/storage/storage.ts setAtom): the live failure is
  // remembered and then dropped from the cache by the setAtom that stores its JSON, so the
  // engine's own storage no longer has the live error (TaskFlow keeps failures cached in memory
  // because serialisation drops the exception). Expected: getFailure(...).exception is the
  // error the task threw, for execute failures and revert failures alike.
  it("the engine's storage keeps the live error of a failure it saw", async () => {
    const thrownError = new RuntimeError("Woot!");
    const e = load(linearFlow("f", task({ name: "fail", execute: () => { throw thrownError; } })));
    await expect(e.run()).rejects.toBeInstanceOf(RuntimeError);
    expect(e.storage.getFailure("fail")?.exception).toBe(thrownError);
  });

  it("the store is persisted in the flow detail; a persistent inject survives a new engine, a transient one does not", async () => {
    const backend = new MemoryBackend();
    const flow = () => linearFlow("f", task<{ a: number }>({ name: "t", requires: ["a"], provides: "out", execute: ({ a }) => a }));
    const e = load(flow(), { backend, store: { s: 1 } });
    await e.prepare();
    e.inject({ a: 1 });
    e.inject({ b: 2 }, { transient: true });
    expect(e.storage.fetchAll()).toEqual({ s: 1, a: 1, b: 2 });
    await e.save();
    expect((await backend.getFlowDetail(e.flowDetailId)).store).toEqual({ s: 1, a: 1 });

    const e2 = load(flow(), { backend, flowDetailId: e.flowDetailId });
    await e2.prepare();
    expect(e2.storage.isInjected("a")).toBe(true);
    expect(e2.storage.isInjected("s")).toBe(true);
    expect(e2.storage.isInjected("b")).toBe(false);
    expect(e2.storage.fetchAll()).toEqual({ s: 1, a: 1 });
    await e2.run();
    expect(e2.storage.fetch("out")).toBe(1);
  });

  it("store given when resuming is injected on top of the stored one (TaskFlow's load(flow, store, flow_detail)), also through FlowRegistry.loadFromDetail", async () => {
    const backend = new MemoryBackend();
    const flow = () => linearFlow("f", progressing("first"), task<{ key: string; region: string }>({ name: "call", requires: ["key", "region"], provides: "out", execute: ({ key, region }) => `${key}@${region}` }));
    const first = load(flow(), { backend, store: { region: "eu" } });
    await first.prepare();
    first.inject({ key: "k-1" }, { transient: true }); // a secret the log book must not keep
    first.on("atom", (e) => {
      if (e.name === "first" && e.state === "SUCCESS") first.suspend();
    });
    await first.run();
    expect(first.storage.flowState).toBe("SUSPENDED");
    // Another host resumes and gives the secret again, and a new region.
    const again = load(flow(), { backend, flowDetailId: first.flowDetailId, store: { key: "k-2", region: "us" } });
    await again.run();
    expect(again.storage.fetch("out")).toBe("k-2@us");
    expect((await backend.getFlowDetail(first.flowDetailId)).store).toEqual({ region: "us", key: "k-2" });

    const registry = new FlowRegistry().register("f", flow);
    const started = registry.load("f", [], { backend, store: { region: "eu", key: "k-3" } });
    await started.save();
    const resumed = await registry.loadFromDetail(backend, started.flowDetailId, { store: { key: "k-4" } });
    await resumed.run();
    expect(resumed.storage.fetch("out")).toBe("k-4@eu");
  });

  it("engine.inject() and injectAtomArgs() before prepare() are kept and applied when the flow detail loads (TaskFlow injects before running)", async () => {
    const backend = new MemoryBackend();
    const e = load(linearFlow("f", task<{ a: number; v: number }>({ name: "t", requires: ["a", "v"], provides: "out", execute: ({ a, v }) => a + v })), { backend });
    e.inject({ a: 1 });
    e.inject({ secret: "s" }, { transient: true });
    e.injectAtomArgs("t", { v: 10 });
    expect(() => e.injectAtomArgs("nope", { v: 1 })).toThrow(NotFound);
    await e.run();
    expect(e.storage.fetch("out")).toBe(11);
    expect(e.storage.fetch("secret")).toBe("s");
    expect((await backend.getFlowDetail(e.flowDetailId)).store).toEqual({ a: 1 });
    // On a resumed flow detail too: they win over what was stored, as an inject after prepare() would.
    const again = load(linearFlow("f", task<{ a: number; v: number }>({ name: "t", requires: ["a", "v"], provides: "out", execute: ({ a, v }) => a + v })), { backend, flowDetailId: e.flowDetailId });
    again.inject({ a: 5 });
    await again.prepare();
    expect(again.storage.fetch("a")).toBe(5);
  });

  it("persistent atom-level injects are stored in the atom's meta", async () => {
    const backend = new MemoryBackend();
    const e = load(linearFlow("f", task<{ v: number }>({ name: "t", requires: ["v"], provides: "out", execute: ({ v }) => v })), { backend });
    await e.prepare();
    e.injectAtomArgs("t", { v: 9 });
    await e.run();
    const [ad] = await backend.getAtomDetails(e.flowDetailId);
    expect(ad?.injected).toEqual({ v: 9 });
    expect(e.storage.fetch("out")).toBe(9);
  });

  it("writes RUNNING to the backend before the task starts (write-ahead)", async () => {
    const backend = new MemoryBackend();
    let seen: string | undefined;
    let flowState: string | undefined;
    let engine: ReturnType<typeof load>;
    const probe = task({
      name: "probe",
      execute: async () => {
        const details = await backend.getAtomDetails(engine.flowDetailId);
        seen = details.find((d) => d.name === "probe")?.state;
        flowState = (await backend.getFlowDetail(engine.flowDetailId)).state;
      },
    });
    engine = load(linearFlow("f", progressing("before"), probe), { backend });
    await engine.run();
    expect(seen).toBe("RUNNING");
    expect(flowState).toBe("RUNNING");
  });

  it("the backend holds the final states, results and failures after a run", async () => {
    const backend = new MemoryBackend();
    const e = load(linearFlow("f", progressing("ok", { provides: "x" }), failing("fail")), { backend });
    await expect(e.run()).rejects.toBeInstanceOf(RuntimeError);
    const fd = await backend.getFlowDetail(e.flowDetailId);
    expect(fd.state).toBe("REVERTED");
    expect(fd.name).toBe("f");
    expect(fd.fingerprint?.map((a) => a.name)).toEqual(["ok", "fail"]);
    const byName = new Map((await backend.getAtomDetails(e.flowDetailId)).map((a) => [a.name, a]));
    expect(byName.get("ok")?.state).toBe("REVERTED");
    expect(byName.get("fail")?.state).toBe("REVERTED");
    expect(byName.get("fail")?.failure?.excTypeNames).toEqual(["RuntimeError", "Error"]);
    expect(byName.get("ok")?.timestamps?.SUCCESS).toBeTypeOf("number");
    expect(byName.get("ok")?.timestamps?.REVERTED).toBeTypeOf("number");
    const lb = await backend.getLogBook(fd.bookUuid);
    expect(lb.name).toBe("f");
  });

  it("several flow details can share one log book", async () => {
    const backend = new MemoryBackend();
    const e1 = load(progressing("a"), { backend, book: { name: "jobs" } });
    await e1.run();
    const bookUuid = e1.storage.book.uuid;
    const e2 = load(progressing("b"), { backend, book: { uuid: bookUuid } });
    await e2.run();
    const details = await backend.getFlowDetails(bookUuid);
    expect(details.map((d) => d.name).sort()).toEqual(["a", "b"]);
    expect((await backend.listLogBooks()).map((b) => b.name)).toEqual(["jobs"]);
  });

  it("a corrupted atom record makes resuming fail with InvalidFormat naming the record", async () => {
    const backend = new MemoryBackend();
    const e = load(linearFlow("f", progressing("a")), { backend });
    await storeEveryAtom(e);
    const dump = backend.dump();
    const ad = dump.atoms[0] as Record<string, unknown>;
    ad.intention = "DANCE";
    const e2 = load(linearFlow("f", progressing("a")), { backend: memoryBackendFromDump(dump), flowDetailId: e.flowDetailId });
    const error = await rejection(e2.run());
    expect(error).toBeInstanceOf(InvalidFormat);
    expect(error.message).toContain(String(ad.uuid));
  });

  it("resuming an unknown flow detail raises NotFound", async () => {
    const e = load(progressing("a"), { backend: new MemoryBackend(), flowDetailId: "no-such-detail" });
    await expect(e.run()).rejects.toBeInstanceOf(NotFound);
  });
});
