// cloneRecord: how the memory backend keeps what it is given apart from the caller's objects.
import { describe, expect, it } from "vitest";
import { cloneRecord } from "../../src/backend.js";
import { keptClone } from "../../src/persistence/clone.js";
import { linearFlow, load, MemoryBackend, StorageFailure, NotFound, SCHEMA_VERSION, task, type AtomDetail, type FlowDetail, type LogBook, type Transition } from "../../src/index.js";

describe("cloneRecord", () => {
  it("copies plain objects and arrays at every depth, primitives as they are", () => {
    const value = { a: 1, s: "x", n: null, u: undefined, b: true, big: 10n, list: [1, { deep: [2, "y"] }], nested: { more: { k: [null] } } };
    const copy = cloneRecord(value);
    expect(copy).toEqual(value);
    expect(copy).not.toBe(value);
    expect(copy.list).not.toBe(value.list);
    expect(copy.list[1]).not.toBe(value.list[1]);
    expect(copy.nested.more).not.toBe(value.nested.more);
    (value.list[1] as { deep: unknown[] }).deep.push(3);
    value.nested.more.k.push(null);
    expect(copy.list[1]).toEqual({ deep: [2, "y"] });
    expect(copy.nested.more.k).toEqual([null]);
    expect(Object.hasOwn(copy, "u")).toBe(true);
  });

  it("keeps a __proto__ key an own property, not a prototype", () => {
    const value = JSON.parse('{"__proto__": {"polluted": true}, "x": 1}') as Record<string, unknown>;
    const copy = cloneRecord(value);
    expect(Object.getPrototypeOf(copy)).toBe(Object.prototype);
    expect(Object.hasOwn(copy, "__proto__")).toBe(true);
    expect((copy as { polluted?: unknown }).polluted).toBeUndefined();
  });

  it("hands what is not plain data to structuredClone: a Date and a Map are cloned, a function or a symbol refused wherever it is", () => {
    const at = new Date(0);
    const copy = cloneRecord({ at, map: new Map([["k", 1]]) });
    expect(copy.at).toEqual(at);
    expect(copy.at).not.toBe(at);
    expect(copy.map.get("k")).toBe(1);
    for (const bad of [{ f: () => 1 }, { deep: { s: Symbol("s") } }, [1, () => 2], [[Symbol("t")]], () => 3]) {
      expect(() => cloneRecord(bad)).toThrow(/could not be cloned/i);
    }
  });

  it("keptClone keeps a frozen plain object of primitives (or of such objects) as it is: nothing can change it; copies a frozen one that holds an object", () => {
    const entry = Object.freeze({ flowUuid: "f1", atom: "t", from: "PENDING", to: "RUNNING", at: 1, attempt: undefined, n: null });
    const list = [entry];
    const copy = keptClone(list);
    expect(copy).not.toBe(list);
    expect(copy[0]).toBe(entry);
    const both = Object.freeze({ entry, at: 2 });
    expect(keptClone(both)).toBe(both);
    const holding = Object.freeze({ at: 1, inner: { k: 1 } });
    const copied = keptClone(holding);
    expect(copied).not.toBe(holding);
    expect(copied.inner).not.toBe(holding.inner);
    expect(Object.isFrozen(copied)).toBe(false);
    holding.inner.k = 2;
    expect(copied.inner.k).toBe(1);
    expect(() => keptClone(Object.freeze({ f: () => 1 }))).toThrow(/could not be cloned/i);
    expect(() => keptClone(Object.freeze({ s: Symbol("s") }))).toThrow(/could not be cloned/i);
  });

  it("keptClone keeps a frozen list of primitives or frozen objects as it is; copies one that holds an object, unfrozen", () => {
    const names = Object.freeze(["a", "b"]);
    const entries = Object.freeze([Object.freeze({ name: "a", requires: names }), Object.freeze({ name: "b", requires: names })]);
    expect(keptClone(entries)).toBe(entries);
    const holding = Object.freeze([1, { k: 1 }] as const);
    const copied = keptClone(holding);
    expect(copied).not.toBe(holding);
    expect(copied).toEqual([1, { k: 1 }]);
    expect(Object.isFrozen(copied)).toBe(false);
    expect(copied[1]).not.toBe(holding[1]);
  });

  it("copies frozen objects too, unfrozen, at every depth, as structuredClone does: what it returns is the caller's", () => {
    const inner = Object.freeze({ k: 1 });
    const record = Object.freeze({ at: 1, inner, list: Object.freeze([inner]) });
    const copy = cloneRecord(record);
    expect(copy).toEqual(record);
    expect([copy === record, copy.inner === inner, copy.list[0] === inner]).toEqual([false, false, false]);
    expect([Object.isFrozen(copy), Object.isFrozen(copy.inner), Object.isFrozen(copy.list)]).toEqual([false, false, false]);
  });

  it("clones a value nested deeper than 64 levels, and refuses a cycle", () => {
    let deep: Record<string, unknown> = { leaf: 1 };
    for (let i = 0; i < 100; i++) deep = { next: deep };
    expect(cloneRecord(deep)).toEqual(deep);
    const cycle: Record<string, unknown> = { a: 1 };
    cycle.self = cycle;
    const copy = cloneRecord(cycle);
    expect(copy.self).toBe(copy); // structuredClone keeps the cycle, as IndexedDB would
  });
});

describe("MemoryBackend commit", () => {
  const now = 1_700_000_000_000;
  const book: LogBook = { schemaVersion: SCHEMA_VERSION, uuid: "b1", name: "b", createdAt: now, updatedAt: now, meta: {} };
  const flow: FlowDetail = { schemaVersion: SCHEMA_VERSION, uuid: "f1", bookUuid: "b1", name: "f", state: "RUNNING", createdAt: now, updatedAt: now, meta: {} };
  const atom = (result: unknown): AtomDetail => ({
    schemaVersion: SCHEMA_VERSION, uuid: "f1:t", flowUuid: "f1", name: "t", kind: "task", state: "SUCCESS", intention: "EXECUTE", version: "1.0", meta: {}, updatedAt: now, result,
  });

  it("refuses a batch holding a value that cannot be cloned, and stores nothing of it", async () => {
    const backend = new MemoryBackend();
    const error = await backend.commit({ logBooks: [book], flows: [flow], atoms: [atom({ callback: () => 1 })] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StorageFailure);
    expect((error as Error).message).toMatch(/not structured-cloneable/);
    await expect(backend.getLogBook("b1")).rejects.toBeInstanceOf(NotFound);
    await expect(backend.getFlowDetail("f1")).rejects.toBeInstanceOf(NotFound);
  });

  it("keeps the engine's trail entries (frozen) without a copy, and reads them back as copies a caller may change", async () => {
    const backend = new MemoryBackend();
    const engine = load(linearFlow("f", task({ name: "a", execute: () => 1 })), { backend });
    const seen: Transition[] = [];
    engine.on("committed", (e) => seen.push(...e.transitions));
    await engine.run();
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.every((t) => Object.isFrozen(t))).toBe(true);
    const trail = await backend.getTrail(engine.flowDetailId);
    expect(trail.map((t) => `${t.atom ?? "flow"} ${t.from}>${t.to}`)).toEqual(seen.map((t) => `${t.atom ?? "flow"} ${t.from}>${t.to}`));
    expect(trail.some((t) => Object.isFrozen(t))).toBe(false);
    trail[0]!.to = "changed";
    expect((await backend.getTrail(engine.flowDetailId))[0]?.to).toBe(seen[0]?.to);
  });

  it("keeps the engine's atom details and fingerprints frozen (not the task's result), and reads and dumps them as copies a caller may change", async () => {
    const backend = new MemoryBackend();
    const result = { items: ["a"] };
    const engine = load(linearFlow("f", task({ name: "a", execute: () => result })), { backend });
    await engine.prepare();
    expect(Object.isFrozen(engine.storage.detail("a"))).toBe(true); // PENDING, not yet written: the journal's all the same
    await engine.run();
    const own = engine.storage.atomDetails()[0]!;
    expect([Object.isFrozen(own), Object.isFrozen(own.timestamps), Object.isFrozen(own.meta)]).toEqual([true, true, true]);
    const { fingerprint, flows } = engine.storage.flowDetail; // an entry per atom, kept by each copy of the flow detail
    expect([fingerprint, fingerprint?.[0], fingerprint?.[0]?.requires, flows, flows?.[0], flows?.[0]?.items].every((x) => Object.isFrozen(x))).toBe(true);
    expect(Object.isFrozen(result)).toBe(false); // the task's value is its own: copied when stored, never frozen
    result.items.push("later");
    const [read] = await backend.getAtomDetails(engine.flowDetailId);
    const dumped = backend.dump().atoms[0] as AtomDetail;
    for (const d of [read!, dumped]) {
      expect(d.result).toEqual({ items: ["a"] });
      expect([Object.isFrozen(d), Object.isFrozen(d.timestamps), Object.isFrozen(d.meta)]).toEqual([false, false, false]);
      d.state = "FAILURE";
      d.meta.note = "changed";
    }
    const [again] = await backend.getAtomDetails(engine.flowDetailId);
    expect([again?.state, again?.meta]).toEqual(["SUCCESS", {}]);
  });

  it("resumes from atom details a backend hands out frozen (its own cached records), empty meta and all", async () => {
    const deepFrozen = (d: AtomDetail) => Object.freeze({ ...d, meta: Object.freeze({ ...d.meta }), timestamps: d.timestamps && Object.freeze({ ...d.timestamps }) });
    class FrozenReads extends MemoryBackend {
      override async getAtomDetails(uuid: string): Promise<AtomDetail[]> {
        return (await super.getAtomDetails(uuid)).map(deepFrozen);
      }
    }
    const backend = new FrozenReads();
    const flow = () => linearFlow("f", task({ name: "a", provides: "x", execute: () => 1 }), task({ name: "b", requires: ["x"], provides: "y", execute: ({ x }: { x: number }) => x + 1 }));
    const first = load(flow(), { backend });
    first.on("atom", (e) => e.name === "b" && e.state === "RUNNING" && first.suspend());
    await first.run();
    expect((await backend.getAtomDetails(first.flowDetailId)).every((d) => Object.isFrozen(d) && Object.keys(d.meta).length === 0)).toBe(true);
    const again = load(flow(), { backend, flowDetailId: first.flowDetailId });
    await again.run();
    expect([again.storage.flowDetail.state, again.storage.fetch("y")]).toEqual(["SUCCESS", 2]);
  });

  it("stores a copy: changing the committed result afterwards changes nothing stored", async () => {
    const backend = new MemoryBackend();
    const result = { items: [{ sku: "a" }] };
    await backend.commit({ logBooks: [book], flows: [flow], atoms: [atom(result)] });
    result.items[0]!.sku = "changed";
    result.items.push({ sku: "b" });
    const [stored] = await backend.getAtomDetails("f1");
    expect(stored?.result).toEqual({ items: [{ sku: "a" }] });
  });
});
