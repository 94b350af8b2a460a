// One reader of a stored flow (src/snapshot/): what it reads from the records alone must agree
// with what the engine that wrote them holds, for flows that retry, sleep, wait for input, fail.
import { afterEach, describe, expect, it, vi } from "vitest";
import { linearFlow, load, MemoryBackend, nextWakeup, NotFound, readSnapshot, sleep, snapshotOf, task, Times, unorderedFlow, waitFor, type AtomDetail, type Engine, type EngineOptions, type FlowDetail, type FlowItem, SCHEMA_VERSION, provide, waitingFor } from "../../src/index.js";
import { memoryBackendFromDump } from "../../src/backend.js";
import { FINAL_FLOW_STATES, pendingAtomDetail, providedValue } from "../../src/backend.js";
import { compile as compileGraph } from "../../src/engine/compiler.js";
import { atomDetailId } from "../../src/ports/ids.js";
import { ManualClock } from "../../src/testing/index.js";
import { failing, progressing, rejection } from "./helpers.js";

/** What the engine holds, read through its own API, next to what a snapshot read from the backend says. */
async function expectAgreement(engine: Engine, backend: MemoryBackend): Promise<void> {
  const snap = await readSnapshot(memoryBackendFromDump(JSON.parse(JSON.stringify(backend.dump()))), engine.flowDetailId);
  const storage = engine.storage;
  const at = `${engine.flow.name} ${storage.flowState}`;
  expect(snap.state, at).toBe(storage.flowState);
  expect(snap.isFinal, at).toBe(FINAL_FLOW_STATES.has(storage.flowState));
  expect(snap.wakeAt, at).toBe(engine.nextWakeup());
  expect(snap.atoms.map((a) => a.name), at).toEqual(storage.atomDetails().map((d) => d.name));
  const waiting = storage.flowState === "SUSPENDED" ? (await waitingFor(engine)).map((w) => ({ name: w.name, deadline: w.deadline })) : [];
  expect(snap.waitingFor.map((w) => ({ name: w.name, deadline: w.deadline })), at).toEqual(waiting);
  const stored = new Set((await backend.getAtomDetails(engine.flowDetailId)).map((d) => d.name));
  for (const atom of snap.atoms) {
    const d = storage.detail(atom.name);
    const where = `${at}: atom ${atom.name}`;
    expect({ state: atom.state, intention: atom.intention, attempts: atom.attempts, stored: atom.stored }, where)
      .toEqual({ state: d.state, intention: d.intention, attempts: d.attempts ?? 0, stored: stored.has(atom.name) });
    // An atom never stored reads as the engine fills it in, under the id it would write it with.
    expect({ ...atom.detail, updatedAt: 0 }, where).toEqual({ ...d, updatedAt: 0 });
    if (d.state === "SUCCESS" && d.intention === "EXECUTE") {
      const provides = [...(compileGraph(engine.flow).atoms.get(atom.name)?.atom.provides ?? [])];
      for (const name of provides) expect(atom.result, where).toEqual(storage.fetch(name));
    }
    expect(atom.failure?.toJSON(), where).toEqual(storage.getFailure(atom.name)?.toJSON());
    expect(atom.revertFailure?.toJSON(), where).toEqual(storage.getRevertFailure(atom.name)?.toJSON());
  }
}

interface Scenario {
  flow: () => FlowItem;
  options?: EngineOptions;
  /** Moves the flow on from where its last run stopped (a timer, an input); the engine then runs again. */
  next?: (engine: Engine, clock: ManualClock) => Promise<void>;
}

let calls = 0;
const scenarios: Record<string, Scenario> = {
  "a retry with backoff": {
    flow: () => linearFlow("call", { retry: new Times(3, { backoff: { initialMs: 60_000, jitter: "none" } }) },
      task({ name: "dial", provides: "answer", execute: () => (++calls % 2 === 1 ? Promise.reject(new RangeError("busy")) : "hello") }),
      task({ name: "log", requires: ["answer"], provides: "logged", execute: ({ answer }: { answer: string }) => `${answer}!` })),
    next: async (_engine, clock) => clock.advance(60_000),
  },
  "a sleep": {
    flow: () => linearFlow("remind", progressing("email", { provides: "sent" }), sleep("nap", 3_600_000), progressing("again")),
    next: async (_engine, clock) => clock.advance(3_600_000),
  },
  "a wait for input with a deadline": {
    flow: () => linearFlow("stay", progressing("hold", { provides: "held" }), waitFor("nights", { timeoutMs: 600_000, description: "How many nights" }),
      task({ name: "quote", requires: ["nights"], provides: "price", execute: ({ nights }: { nights: number }) => nights * 80 })),
    next: (engine) => provide(engine, "nights", 3, { run: false }),
  },
  "a failure, reverted": { flow: () => linearFlow("order", progressing("reserve"), unorderedFlow("pay", progressing("card"), failing("charge"))) },
  "a failure, not resolved": { flow: () => linearFlow("order", progressing("reserve"), failing("charge"), progressing("email")), options: { neverResolve: true } },
  // Issue 11, item 2: an input named like an Object.prototype member is looked up as an own key.
  "waits for inputs named constructor and __proto__": {
    flow: () => linearFlow("ask", waitFor("x"), waitFor("constructor"), waitFor("__proto__"),
      task({ name: "echo", requires: ["constructor", "__proto__"], provides: "both", execute: (args: Record<string, unknown>) => [args.constructor, args.__proto__] })),
    next: async (engine) => {
      const [waiting] = await waitingFor(engine);
      await provide(engine, waiting!.name, { v: waiting!.name }, { run: false });
    },
  },
  "parallel, to the end": { flow: () => unorderedFlow("fan", progressing("a"), progressing("b"), progressing("c")), options: { engine: "parallel" } },
};

describe("FlowSnapshot", () => {
  for (const [name, s] of Object.entries(scenarios)) {
    it(`agrees with what the engine stored at every stop: ${name}`, async () => {
      const backend = new MemoryBackend();
      const clock = new ManualClock(1_000);
      const engine = load(s.flow(), { backend, clock, maxWaitMs: 0, ...s.options });
      await engine.save();
      await expectAgreement(engine, backend); // nothing ran: every atom PENDING, none stored
      for (let stop = 0; stop < 5; stop++) {
        await engine.run().catch(() => undefined);
        await expectAgreement(engine, backend);
        if (engine.storage.flowState !== "SUSPENDED" || !s.next) break;
        await s.next(engine, clock);
      }
      expect(FINAL_FLOW_STATES.has(engine.storage.flowState)).toBe(true);
    });
  }

  it("reads what each kind of stop stores: a retry's value, a timer, an input, a failure", async () => {
    const backend = new MemoryBackend();
    const clock = new ManualClock(1_000);
    const engine = load(scenarios["a retry with backoff"]!.flow(), { backend, clock, maxWaitMs: 0 });
    calls = 0;
    await engine.run();
    let snap = await readSnapshot(backend, engine.flowDetailId);
    expect(snap).toMatchObject({ state: "SUSPENDED", suspendedReason: "waiting", wakeAt: 61_000, isFinal: false, waitingFor: [] });
    expect(snap.atoms.map((a) => [a.name, a.state])).toEqual([["call_retry", "RETRYING"], ["dial", "PENDING"], ["log", "PENDING"]]);
    clock.advance(60_000);
    await engine.run();
    snap = await readSnapshot(backend, engine.flowDetailId);
    expect(snap).toMatchObject({ state: "SUCCESS", isFinal: true, wakeAt: undefined, suspendedReason: undefined });
    expect(snap.atoms.map((a) => [a.name, a.result])).toEqual([["call_retry", 2], ["dial", "hello"], ["log", "hello!"]]);
    expect(snap.atoms[0]?.detail.result).toHaveLength(2); // the log book keeps the whole history
    expect(snap.atoms[1]?.attempts).toBe(2);
  });

  it("leaves out an input already provided, and rebuilds failures with their class", async () => {
    const backend = new MemoryBackend();
    const engine = load(scenarios["a wait for input with a deadline"]!.flow(), { backend, clock: new ManualClock(0) });
    await engine.run();
    expect((await readSnapshot(backend, engine.flowDetailId)).waitingFor).toEqual([{ name: "nights", description: "How many nights", deadline: 600_000 }]);
    await provide(engine, "nights", 2, { run: false });
    expect((await readSnapshot(backend, engine.flowDetailId)).waitingFor).toEqual([]);

    const failed = load(linearFlow("f", failing("charge")), { backend });
    await failed.run().catch(() => undefined);
    const charge = (await readSnapshot(backend, failed.flowDetailId)).atoms[0];
    expect(charge?.failure?.check("RuntimeError")).toBe("RuntimeError");
    expect(charge?.failure?.exceptionStr).toBe("Woot!");
  });

  it("reads a record without a fingerprint, and stored atoms the fingerprint does not list, after it", () => {
    const flow: FlowDetail = { schemaVersion: SCHEMA_VERSION, uuid: "f1", bookUuid: "b1", name: "old", state: "RUNNING", createdAt: 5, updatedAt: 9, meta: {} };
    const atom = (name: string, patch: Partial<AtomDetail> = {}): AtomDetail => ({ ...pendingAtomDetail("f1", { name, kind: "task", version: "1.0" }, 7), ...patch });
    expect(snapshotOf(flow, [atom("x", { state: "RUNNING" })]).atoms.map((a) => [a.name, a.state])).toEqual([["x", "RUNNING"]]);
    const withPrint: FlowDetail = { ...flow, fingerprint: [{ name: "a", kind: "task", requires: [], optional: [], provides: [], version: "2.1" }] };
    const snap = snapshotOf(withPrint, [atom("gone", { state: "SUCCESS" })]);
    expect(snap.atoms.map((a) => [a.name, a.state, a.stored])).toEqual([["a", "PENDING", false], ["gone", "SUCCESS", true]]);
    expect(snap.atoms[0]?.detail).toMatchObject({ uuid: atomDetailId("f1", "a"), version: "2.1", intention: "EXECUTE", updatedAt: 5 });
  });

  it("refuses an unknown flow detail with NotFound", async () => {
    expect(await rejection(readSnapshot(new MemoryBackend(), "nope"))).toBeInstanceOf(NotFound);
  });
});

describe("the rules of reading a log book", () => {
  const detail = (patch: Partial<AtomDetail>): AtomDetail => ({ ...pendingAtomDetail("f", { name: "n", kind: "task", version: "1.0" }, 0), ...patch });

  it("next wake-up: the earliest timer or deadline of an atom still to execute; none once the flow ended", () => {
    const atoms = [
      detail({ wakeAt: 50 }),
      detail({ state: "RETRYING", wakeAt: 30 }),
      detail({ deadline: 40 }),
      detail({ intention: "REVERT", wakeAt: 10 }),
      detail({ state: "SUCCESS", wakeAt: 5 }),
    ];
    expect(nextWakeup("SUSPENDED", atoms)).toBe(30);
    expect(nextWakeup("RUNNING", atoms.slice(2))).toBe(40);
    expect(nextWakeup("RUNNING", [])).toBeUndefined();
    for (const state of FINAL_FLOW_STATES) expect(nextWakeup(state, atoms)).toBeUndefined();
  });

  it("a retry provides its latest try's value; a task its result", () => {
    expect(providedValue({ kind: "retry", result: [{ value: 1, failures: {} }, { value: "b", failures: {} }] })).toBe("b");
    expect(providedValue({ kind: "retry", result: undefined })).toBeUndefined();
    expect(providedValue({ kind: "task", result: [1, 2] })).toEqual([1, 2]);
  });
});

describe("examples/read-a-log-book.ts", () => {
  afterEach(() => vi.restoreAllMocks());

  it("runs and prints what it says", async () => {
    const log = vi.spyOn(console, "log").mockImplementation(() => {});
    await import("../../examples/read-a-log-book.js");
    expect(log.mock.calls).toEqual([
      ["SUSPENDED", "waiting", false],
      ["email", "SUCCESS", "sent to ada"],
      ["a-day-later", "PENDING", ""],
      ["reminder", "PENDING", ""],
      [true],
    ]);
  });
});
