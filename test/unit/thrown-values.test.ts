/**
 * Whatever a task throws, the engine records a failure it can read back (issue 11, items 3, 4
 * and 7): a run over odd thrown values — strings, numbers, symbols, objects with odd message,
 * stack, name or cause types, cyclic and deep cause chains, getters that throw, revoked proxies,
 * frozen objects, unstorable `extra` — always settles, reverts the flow, and leaves a log book
 * that survives a JSON round trip and loads again.
 */
import { describe, expect, it } from "vitest";
import { InvalidFormat, linearFlow, load, MemoryBackend, readSnapshot, task, type Failure } from "../../src/index.js";
import { memoryBackendFromDump } from "../../src/backend.js";

/** A small deterministic generator (mulberry32), so that a failing case can be replayed by its index. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const revoked = (): object => {
  const { proxy, revoke } = Proxy.revocable({}, {});
  revoke();
  return proxy;
};
const thrower = (what: string) => () => {
  throw new Error(`cannot read ${what}`);
};

/** Values of every odd type, for a message, a stack, a name, a cause or `extra`. */
const ODD: Array<() => unknown> = [
  () => 42, () => -0, () => NaN, () => 10n, () => true, () => null, () => undefined, () => "", () => Symbol("odd"),
  () => ({}), () => [], () => Object.create(null), () => ({ toString: thrower("toString") }), () => () => "a function",
  () => new Date(0), () => new Map([[1, () => 1]]), () => Object.freeze({ frozen: [1] }), revoked,
  () => new URL("https://example.com/"), () => new Error("an error"), () => Promise.resolve(1), () => new WeakMap(),
  () => {
    const a: Record<string, unknown> = { name: "a" };
    a.self = a;
    return a;
  },
];

/** Ways to spoil an error: an odd value or a throwing getter on one of its properties, a frozen error, odd causes. */
const SPOILERS: Array<(error: Error, r: () => number) => void> = [
  ...["message", "stack", "name", "cause", "extra"].flatMap((key) => [
    (e: Error, r: () => number) => Object.defineProperty(e, key, { value: pick(ODD, r)(), configurable: true }),
    (e: Error) => Object.defineProperty(e, key, { get: thrower(key), configurable: true }),
  ]),
  (e) => Object.freeze(e),
  (e) => Object.defineProperty(e, "cause", { value: e }), // its own cause
  (e) => {
    const other = new Error("the other", { cause: e });
    Object.defineProperty(e, "cause", { value: other }); // a cycle of two
  },
  (e) => {
    let deep: unknown = "the root";
    for (let i = 0; i < 100; i++) deep = new Error(`cause ${i}`, { cause: deep }); // deeper than the 32 levels kept
    Object.defineProperty(e, "cause", { value: deep });
  },
  (e) => Object.setPrototypeOf(e, revoked()),
];

function pick<T>(list: readonly T[], r: () => number): T {
  return list[Math.floor(r() * list.length)] as T;
}

/** The n-th odd thrown value: first each odd value itself, then errors spoiled one to three ways. */
function oddThrown(n: number): unknown {
  if (n < ODD.length) return (ODD[n] as () => unknown)();
  const r = random(n);
  const base = pick([() => new Error("base"), () => new TypeError("typed"), () => new InvalidFormat("ours"), () => new (class Custom extends Error {})("custom")], r)();
  const times = 1 + Math.floor(r() * 3);
  for (let i = 0; i < times; i++) {
    try {
      pick(SPOILERS, r)(base, r);
    } catch {
      // a frozen error refuses later spoilers: it stays as it is
    }
  }
  return base;
}

const CASES = 240;
const BATCH = 30;
const batches = Array.from({ length: CASES / BATCH }, (_, i) => i * BATCH);

describe("a task that throws an odd value", () => {
  it.each(batches)(`fails and is reverted, and its log book reads back: generated values %i to +${BATCH - 1}`, async (first) => {
    for (let n = first; n < first + BATCH; n++) {
      const backend = new MemoryBackend();
      const flow = () => linearFlow("odd", task({ name: "throws", execute: () => Promise.reject(oddThrown(n)) }));
      const engine = load(flow(), { backend });
      const outcome = await engine.run().then(() => "resolved", () => "rejected");
      const at = `case ${n}`;
      expect(outcome, at).toBe("rejected");
      expect(["REVERTED", "FAILURE"], at).toContain(engine.storage.flowState);
      const failure = engine.storage.getFailure("throws");
      expect(typeof failure?.exceptionStr, at).toBe("string");

      const copy = memoryBackendFromDump(JSON.parse(JSON.stringify(backend.dump())));
      const snap = await readSnapshot(copy, engine.flowDetailId);
      expect(snap.state, at).toBe(engine.storage.flowState);
      expect(snap.atoms[0]?.failure?.matches(failure as Failure), at).toBe(true);
      const again = load(flow(), { backend: copy, flowDetailId: engine.flowDetailId });
      await again.prepare();
      expect(again.storage.getFailure("throws")?.matches(failure as Failure), at).toBe(true);
    }
  });
});
