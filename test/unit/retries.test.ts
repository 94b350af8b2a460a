/**
 * Retry controllers and failure resolution, after TaskFlow's `tests/unit/test_retries.py`
 * (reference §1 "Atoms" / "Failure resolution", §2 "Retries" scenarios 1–8). Like the peer, every
 * scenario runs on the serial and the parallel engine; the peer's parallel-only tests and the
 * race of its bug #2043808 run on the parallel engine.
 */
import { describe, expect, it } from "vitest";
import { AlwaysRevert, AlwaysRevertAll, captureListener, CompilationFailure, Duplicate, Failure, ForEach, graphFlow, History, linearFlow, load, MemoryBackend, NotFound, ParameterizedForEach, registerErrorClass, Retry, task, Times, unorderedFlow, WrappedFailure, type AtomDetail, type EngineOptions, type FlowDetail, type FlowItem, type HistoryEntry, type MemoryDump, type RetryDecision } from "../../src/index.js";
import { memoryBackendFromDump } from "../../src/backend.js";
import { assertCrashSafe, checkCrashPoints } from "../../src/testing/index.js";
import { ENGINES, failing, nasty, noop, progressing, rejection, RuntimeError, storeEveryAtom, WOOT } from "./helpers.js";

/** Python's ValueError, for the peer's FailingRetry. */
class ValueError extends Error {
  override name = "ValueError";
}
registerErrorClass(ValueError);

type Extra = { rebind?: Record<string, string>; inject?: Record<string, unknown>; provides?: string };

/** TaskFlow's ConditionalTask: fails with RuntimeError('Woot!') unless x == y; returns nothing. */
function conditional(name: string, extra: Extra = {}) {
  return task<{ x: unknown; y: unknown }>({
    name,
    requires: ["x", "y"],
    ...(extra as object),
    execute: ({ x, y }) => {
      if (x !== y) throw new RuntimeError("Woot!");
      return undefined;
    },
    revert: () => undefined,
  });
}

/** TaskFlow's FailingTaskWithOneArg: raises RuntimeError('Woot with <x>'). */
function failingWithArg(name: string) {
  return task<{ x: unknown }>({
    name,
    requires: ["x"],
    execute: ({ x }) => {
      throw new RuntimeError(`Woot with ${String(x)}`);
    },
  });
}

/** TaskFlow's OneReturnRetry: provides 1, never retries. */
class OneReturnRetry extends AlwaysRevert {
  override execute(): number {
    return 1;
  }
}

/** The peer's FailingRetry: execute raises ValueError('OMG I FAILED'); revert keeps the history. */
class FailingRetry extends Retry {
  history: History | undefined;
  override execute(): never {
    throw new ValueError("OMG I FAILED");
  }
  override revert(history: History): undefined {
    this.history = history;
    return undefined;
  }
  onFailure(): RetryDecision {
    return "REVERT";
  }
}

/** The peer's NastyFailingRetry: its revert raises ValueError('WOOT!') too. */
class NastyFailingRetry extends FailingRetry {
  override revert(): never {
    throw new ValueError("WOOT!");
  }
}

const woot = (x: unknown) => `FAILURE(Failure: RuntimeError: Woot with ${String(x)})`;

/** The events of one retried try of `retry` over `atoms` (PENDING for each, then the retry runs). */
const retrying = (retry: string, value: unknown, ...atoms: string[]) => [
  `${retry}.r RETRYING`,
  ...atoms.map((a) => `${a} PENDING`),
  `${retry}.r RUNNING`,
  `${retry}.r SUCCESS(${value === undefined ? "None" : String(value)})`,
];

/** Builds an engine on a flow detail edited as a crashed host would have left it. */
async function crashed(
  makeFlow: () => FlowItem,
  options: EngineOptions,
  edit: (atoms: Record<string, AtomDetail>, flow: FlowDetail) => void,
) {
  const backend = new MemoryBackend();
  const first = load(makeFlow(), { ...options, backend });
  await storeEveryAtom(first);
  const dump = JSON.parse(JSON.stringify(backend.dump())) as MemoryDump;
  const atoms = Object.fromEntries((dump.atoms as AtomDetail[]).map((a) => [a.name, a]));
  edit(atoms, dump.flows[0] as FlowDetail);
  const { store: _store, ...rest } = options;
  return load(makeFlow(), { ...rest, backend: memoryBackendFromDump(dump), flowDetailId: first.flowDetailId });
}

const failureData = (error: Error) => Failure.fromError(error).toJSON();

describe.each(ENGINES)("%s engine", (engine) => {
  const make = (flow: FlowItem, options: EngineOptions = {}) => load(flow, { engine, ...options });

  describe("empty flows with a retry", () => {
    it.each([
      ["linear", () => linearFlow("flow-1", { retry: new OneReturnRetry({ provides: "x" }) })],
      ["unordered", () => unorderedFlow("flow-1", { retry: new OneReturnRetry({ provides: "x" }) })],
      ["graph", () => graphFlow("flow-1", { retry: new OneReturnRetry({ provides: "x" }) })],
    ])("an empty %s flow runs its retry: {x: 1}", async (_kind, build) => {
      const e = make(build());
      await e.run();
      expect(e.storage.fetchAll()).toEqual({ x: 1 });
    });

    it("an unnamed retry is named <flow>_retry", () => {
      const flow = linearFlow("flow-1", { retry: new Times(3) });
      expect(flow.retry?.name).toBe("flow-1_retry");
      expect(linearFlow("f2", { retry: new Times(3, { name: "mine" }) }).retry?.name).toBe("mine");
    });
  });

  describe("1. Times(4): a failure is retried and the flow succeeds", () => {
    it("linear: exact event sequence, results {y: 2, x: 2} (states_retry_success_linear_flow)", async () => {
      const e = make(linearFlow("flow-1", { retry: new Times(4, { name: "r1", provides: "x" }) }, progressing("task1"), conditional("task2")), {
        store: { y: 2 },
      });
      const capture = captureListener(e);
      await e.run();
      expect(e.storage.fetchAll()).toEqual({ y: 2, x: 2 });
      expect(capture.values).toEqual([
        "flow-1.f RUNNING",
        "r1.r RUNNING", "r1.r SUCCESS(1)",
        "task1.t RUNNING", "task1.t SUCCESS(5)",
        "task2.t RUNNING", `task2.t ${WOOT}`,
        "task2.t REVERTING", "task2.t REVERTED(None)",
        "task1.t REVERTING", "task1.t REVERTED(None)",
        "r1.r RETRYING", "task1.t PENDING", "task2.t PENDING",
        "r1.r RUNNING", "r1.r SUCCESS(2)",
        "task1.t RUNNING", "task1.t SUCCESS(5)",
        "task2.t RUNNING", "task2.t SUCCESS(None)",
        "flow-1.f SUCCESS",
      ]);
    });

    it("a failure of an atom named like an Object.prototype member is recorded in the history (issue 11, item 2)", async () => {
      let calls = 0;
      const flaky = task({ name: "constructor", execute: () => {
        if (++calls === 1) throw new RuntimeError("Woot!");
      } });
      const e = make(linearFlow("flow-1", { retry: new Times(3, { name: "r1" }) }, flaky));
      await e.run();
      const entries = e.storage.detail("r1").result as HistoryEntry[];
      expect(entries).toHaveLength(2);
      expect(Object.keys(entries[0]?.failures ?? {})).toEqual(["constructor"]);
    });

    it("the history is stored in the retry's atom detail: one entry per try, failures by atom", async () => {
      const backend = new MemoryBackend();
      const e = make(linearFlow("flow-1", { retry: new Times(4, { name: "r1", provides: "x" }) }, progressing("task1"), conditional("task2")), {
        store: { y: 2 },
        backend,
      });
      await e.run();
      const stored = (await backend.getAtomDetails(e.flowDetailId)).find((d) => d.name === "r1") as AtomDetail;
      const entries = stored.result as HistoryEntry[];
      expect(entries.map((h) => h.value)).toEqual([1, 2]);
      expect(Object.keys(entries[0]?.failures ?? {})).toEqual(["task2"]);
      expect(entries[0]?.failures.task2?.exceptionStr).toBe("Woot!");
      expect(entries[1]?.failures).toEqual({});
      const history = new History(entries);
      expect(history.length).toBe(2);
      expect(history.provided).toEqual([1, 2]);
      expect(history.causedBy(RuntimeError)).toBe(true);
      expect(history.causedBy("ValueError")).toBe(false);
      expect(history.outcomes[0]?.[1].task2?.toString()).toBe("Failure: RuntimeError: Woot!");
    });

    it("a retry that does not retry the tasks that never ran (retry_tasks_that_has_not_been_reverted)", async () => {
      const e = make(linearFlow("flow-1", { retry: new Times(3, { name: "r1", provides: "x" }) }, conditional("c"), progressing("t1")), {
        store: { y: 2 },
      });
      const capture = captureListener(e);
      await e.run();
      expect(capture.values).toEqual([
        "flow-1.f RUNNING",
        "r1.r RUNNING", "r1.r SUCCESS(1)",
        "c.t RUNNING", `c.t ${WOOT}`,
        "c.t REVERTING", "c.t REVERTED(None)",
        "r1.r RETRYING", "c.t PENDING",
        "r1.r RUNNING", "r1.r SUCCESS(2)",
        "c.t RUNNING", "c.t SUCCESS(None)",
        "t1.t RUNNING", "t1.t SUCCESS(5)",
        "flow-1.f SUCCESS",
      ]);
    });

    it("unordered: both tasks are reverted and retried (unordered_flow_task_fails_parallel_tasks_should_be_reverted)", async () => {
      const e = make(unorderedFlow("flow-1", { retry: new Times(3, { name: "r", provides: "x" }) }, progressing("task1"), conditional("task2")), {
        store: { y: 2 },
      });
      const capture = captureListener(e);
      await e.run();
      expect(e.storage.fetchAll()).toEqual({ y: 2, x: 2 });
      expect([...capture.values].sort()).toEqual(
        [
          "flow-1.f RUNNING",
          "r.r RUNNING", "r.r SUCCESS(1)",
          "task1.t RUNNING", "task2.t RUNNING",
          "task1.t SUCCESS(5)", `task2.t ${WOOT}`,
          "task2.t REVERTING", "task1.t REVERTING",
          "task2.t REVERTED(None)", "task1.t REVERTED(None)",
          "r.r RETRYING", "task1.t PENDING", "task2.t PENDING",
          "r.r RUNNING", "r.r SUCCESS(2)",
          "task1.t RUNNING", "task2.t RUNNING",
          "task1.t SUCCESS(5)", "task2.t SUCCESS(None)",
          "flow-1.f SUCCESS",
        ].sort(),
      );
      // RETRYING comes only after both tasks are reverted.
      const at = (s: string) => capture.values.indexOf(s);
      expect(at("r.r RETRYING")).toBeGreaterThan(at("task1.t REVERTED(None)"));
      expect(at("r.r RETRYING")).toBeGreaterThan(at("task2.t REVERTED(None)"));
    });

    it("a reverted flow with a retry raises again when run again (restart_reverted_flow_with_retry)", async () => {
      const e = make(linearFlow("test", { retry: new OneReturnRetry({ provides: "x" }) }, failing("fail")));
      expect((await rejection(e.run())).message).toMatch(/^Woot/);
      expect((await rejection(e.run())).message).toMatch(/^Woot/);
      expect(e.storage.flowDetail.state).toBe("REVERTED");
    });
  });

  describe("2. Times(2) exhausted", () => {
    it("after the second try the retry reverts, the flow is REVERTED, its history is cleared and x is gone", async () => {
      const e = make(linearFlow("flow-1", { retry: new Times(2, { name: "r1", provides: "x" }) }, progressing("task1"), conditional("task2")), {
        store: { y: 4 },
      });
      const capture = captureListener(e);
      const error = await rejection(e.run());
      expect(error).toBeInstanceOf(RuntimeError);
      expect(error.message).toMatch(/^Woot/);
      expect(e.storage.fetchAll()).toEqual({ y: 4 });
      const round = [
        "task1.t RUNNING", "task1.t SUCCESS(5)",
        "task2.t RUNNING", `task2.t ${WOOT}`,
        "task2.t REVERTING", "task2.t REVERTED(None)",
        "task1.t REVERTING", "task1.t REVERTED(None)",
      ];
      expect(capture.values).toEqual([
        "flow-1.f RUNNING",
        "r1.r RUNNING", "r1.r SUCCESS(1)",
        ...round,
        ...retrying("r1", 2, "task1.t", "task2.t"),
        ...round,
        "r1.r REVERTING", "r1.r REVERTED(None)",
        "flow-1.f REVERTED",
      ]);
      expect(e.storage.getAtomState("r1")).toBe("REVERTED");
      expect(e.storage.detail("r1").result ?? []).toEqual([]);
    });

    it("the default Times(3) tries three times (default_times_retry)", async () => {
      const e = make(linearFlow("flow-1", { retry: new Times(3, { name: "r1" }) }, progressing("t1"), failing("t2")));
      const capture = captureListener(e);
      expect((await rejection(e.run())).message).toMatch(/^Woot/);
      const round = [
        "t1.t RUNNING", "t1.t SUCCESS(5)",
        "t2.t RUNNING", `t2.t ${WOOT}`,
        "t2.t REVERTING", "t2.t REVERTED(None)",
        "t1.t REVERTING", "t1.t REVERTED(None)",
      ];
      expect(capture.values).toEqual([
        "flow-1.f RUNNING",
        "r1.r RUNNING", "r1.r SUCCESS(1)",
        ...round,
        ...retrying("r1", 2, "t1.t", "t2.t"),
        ...round,
        ...retrying("r1", 3, "t1.t", "t2.t"),
        ...round,
        "r1.r REVERTING", "r1.r REVERTED(None)",
        "flow-1.f REVERTED",
      ]);
    });

    it("a revert that fails ends the flow FAILURE with 'Gotcha!'; x stays (states_retry_failure_linear_flow)", async () => {
      const e = make(linearFlow("flow-1", { retry: new Times(2, { name: "r1", provides: "x" }) }, nasty("task1"), conditional("task2")), {
        store: { y: 4 },
      });
      const capture = captureListener(e);
      const error = await rejection(e.run());
      expect(error).toBeInstanceOf(RuntimeError);
      expect(error.message).toMatch(/^Gotcha/);
      expect(e.storage.fetchAll()).toEqual({ y: 4, x: 1 });
      expect(capture.values).toEqual([
        "flow-1.f RUNNING",
        "r1.r RUNNING", "r1.r SUCCESS(1)",
        "task1.t RUNNING", "task1.t SUCCESS(None)",
        "task2.t RUNNING", `task2.t ${WOOT}`,
        "task2.t REVERTING", "task2.t REVERTED(None)",
        "task1.t REVERTING", "task1.t REVERT_FAILURE(Failure: RuntimeError: Gotcha!)",
        "flow-1.f FAILURE",
      ]);
    });
  });

  describe("3. nested retries: the nearest decides, REVERT defers to the parent", () => {
    const nested = () =>
      linearFlow(
        "flow-1",
        noop("task1"),
        linearFlow("flow-2", { retry: new Times(1, { name: "r1", provides: "x" }) }, noop("task2"), conditional("task3")),
        noop("task4"),
      );
    const inner = [
      "flow-1.f RUNNING",
      "task1.t RUNNING", "task1.t SUCCESS(None)",
      "r1.r RUNNING", "r1.r SUCCESS(1)",
      "task2.t RUNNING", "task2.t SUCCESS(None)",
      "task3.t RUNNING", `task3.t ${WOOT}`,
      "task3.t REVERTING", "task3.t REVERTED(None)",
      "task2.t REVERTING", "task2.t REVERTED(None)",
      "r1.r REVERTING", "r1.r REVERTED(None)",
    ];

    it("by default only the subflow reverts: task1 stays SUCCESS, flow REVERTED (new_revert_vs_old)", async () => {
      const e = make(nested(), { store: { y: 2 } });
      const capture = captureListener(e);
      await expect(e.run()).rejects.toBeInstanceOf(RuntimeError);
      expect(capture.values).toEqual([...inner, "flow-1.f REVERTED"]);
      expect(e.storage.getAtomState("task1")).toBe("SUCCESS");
      expect(e.storage.getAtomState("task4")).toBe("PENDING");
      expect(e.storage.flowDetail.state).toBe("REVERTED");
    });

    it("with deferReverts, task1 is reverted too", async () => {
      const e = make(nested(), { store: { y: 2 }, deferReverts: true });
      const capture = captureListener(e);
      await expect(e.run()).rejects.toBeInstanceOf(RuntimeError);
      expect(capture.values).toEqual([...inner, "task1.t REVERTING", "task1.t REVERTED(None)", "flow-1.f REVERTED"]);
      expect(e.storage.getAtomState("task1")).toBe("REVERTED");
    });

    it("with neverResolve, nothing is reverted and the flow ends FAILURE", async () => {
      const e = make(nested(), { store: { y: 2 }, neverResolve: true });
      const capture = captureListener(e);
      await expect(e.run()).rejects.toBeInstanceOf(RuntimeError);
      expect(capture.values).toEqual([...inner.slice(0, 9), "flow-1.f FAILURE"]);
      expect(e.storage.flowDetail.state).toBe("FAILURE");
      expect(e.storage.getAtomState("task2")).toBe("SUCCESS");
    });

    it("a nested Times(0) reverts its subflow only; the outer results stay (nested_flow_with_retry_revert)", async () => {
      const e = make(
        linearFlow("flow-1", progressing("task1"), linearFlow("flow-2", { retry: new Times(0, { name: "r1", provides: "x2" }) }, conditional("task2", { inject: { x: 1 } }))),
        { store: { y: 2 } },
      );
      const capture = captureListener(e);
      await expect(e.run()).rejects.toBeInstanceOf(RuntimeError);
      expect(capture.values).toEqual([
        "flow-1.f RUNNING",
        "task1.t RUNNING", "task1.t SUCCESS(5)",
        "r1.r RUNNING", "r1.r SUCCESS(1)",
        "task2.t RUNNING", `task2.t ${WOOT}`,
        "task2.t REVERTING", "task2.t REVERTED(None)",
        "r1.r REVERTING", "r1.r REVERTED(None)",
        "flow-1.f REVERTED",
      ]);
      // The peer's fetch_all() gives {y: 2}: a REVERTED flow's SUCCESS atoms are not read. Here
      // task1 stays SUCCESS, so what matters is that the reverted retry's x2 is gone.
      expect(e.storage.fetchAll()).not.toHaveProperty("x2");
    });

    it("an outer AlwaysRevert does not stop an inner Times(3) from retrying (states_retry_failure_nested_flow_fails)", async () => {
      const e = make(
        linearFlow(
          "flow-1",
          { retry: new AlwaysRevert({ name: "r1" }) },
          noop("task1"),
          linearFlow("flow-2", { retry: new Times(3, { name: "r2", provides: "x" }) }, noop("task2"), conditional("task3")),
          noop("task4"),
        ),
        { store: { y: 2 } },
      );
      const capture = captureListener(e);
      await e.run();
      expect(e.storage.fetchAll()).toEqual({ y: 2, x: 2 });
      expect(capture.values).toEqual([
        "flow-1.f RUNNING",
        "r1.r RUNNING", "r1.r SUCCESS(None)",
        "task1.t RUNNING", "task1.t SUCCESS(None)",
        "r2.r RUNNING", "r2.r SUCCESS(1)",
        "task2.t RUNNING", "task2.t SUCCESS(None)",
        "task3.t RUNNING", `task3.t ${WOOT}`,
        "task3.t REVERTING", "task3.t REVERTED(None)",
        "task2.t REVERTING", "task2.t REVERTED(None)",
        ...retrying("r2", 2, "task2.t", "task3.t"),
        "task2.t RUNNING", "task2.t SUCCESS(None)",
        "task3.t RUNNING", "task3.t SUCCESS(None)",
        "task4.t RUNNING", "task4.t SUCCESS(None)",
        "flow-1.f SUCCESS",
      ]);
    });
  });

  describe("4. a nested Times(0) inside a Times(3): the parent retries everything", () => {
    it("the inner reverts, then the parent retries with r2 reset to PENDING (nested_flow_reverts_parent_retries)", async () => {
      const e = make(
        linearFlow(
          "flow-1",
          { retry: new Times(3, { name: "r1", provides: "x" }) },
          progressing("task1"),
          linearFlow("flow-2", { retry: new Times(0, { name: "r2", provides: "x2" }) }, conditional("task2")),
        ),
        { store: { y: 2 } },
      );
      const capture = captureListener(e);
      await e.run();
      expect(e.storage.fetchAll()).toEqual({ y: 2, x: 2, x2: 1 });
      expect(capture.values).toEqual([
        "flow-1.f RUNNING",
        "r1.r RUNNING", "r1.r SUCCESS(1)",
        "task1.t RUNNING", "task1.t SUCCESS(5)",
        "r2.r RUNNING", "r2.r SUCCESS(1)",
        "task2.t RUNNING", `task2.t ${WOOT}`,
        "task2.t REVERTING", "task2.t REVERTED(None)",
        "r2.r REVERTING", "r2.r REVERTED(None)",
        "task1.t REVERTING", "task1.t REVERTED(None)",
        ...retrying("r1", 2, "task1.t", "r2.r", "task2.t"),
        "task1.t RUNNING", "task1.t SUCCESS(5)",
        "r2.r RUNNING", "r2.r SUCCESS(1)",
        "task2.t RUNNING", "task2.t SUCCESS(None)",
        "flow-1.f SUCCESS",
      ]);
    });

    it("a failure after a nested flow retries the parent, the nested retry starting over (states_retry_failure_parent_flow_fails)", async () => {
      const e = make(
        linearFlow(
          "flow-1",
          { retry: new Times(3, { name: "r1", provides: "x1" }) },
          noop("task1"),
          linearFlow("flow-2", { retry: new Times(3, { name: "r2", provides: "x2" }) }, noop("task2"), noop("task3")),
          conditional("task4", { rebind: { x: "x1" } }),
        ),
        { store: { y: 2 } },
      );
      const capture = captureListener(e);
      await e.run();
      expect(e.storage.fetchAll()).toEqual({ y: 2, x1: 2, x2: 1 });
      const forward = [
        "task1.t RUNNING", "task1.t SUCCESS(None)",
        "r2.r RUNNING", "r2.r SUCCESS(1)",
        "task2.t RUNNING", "task2.t SUCCESS(None)",
        "task3.t RUNNING", "task3.t SUCCESS(None)",
        "task4.t RUNNING",
      ];
      expect(capture.values).toEqual([
        "flow-1.f RUNNING",
        "r1.r RUNNING", "r1.r SUCCESS(1)",
        ...forward, `task4.t ${WOOT}`,
        "task4.t REVERTING", "task4.t REVERTED(None)",
        "task3.t REVERTING", "task3.t REVERTED(None)",
        "task2.t REVERTING", "task2.t REVERTED(None)",
        "r2.r REVERTING", "r2.r REVERTED(None)",
        "task1.t REVERTING", "task1.t REVERTED(None)",
        ...retrying("r1", 2, "task1.t", "r2.r", "task2.t", "task3.t", "task4.t"),
        ...forward, "task4.t SUCCESS(None)",
        "flow-1.f SUCCESS",
      ]);
    });
  });

  describe("5. revertAll / AlwaysRevertAll: the whole flow reverts", () => {
    it("an inner AlwaysRevertAll reverts everything, the outer Times(3) too, without retrying (revert_all_retry)", async () => {
      const e = make(
        linearFlow(
          "flow-1",
          { retry: new Times(3, { name: "r1", provides: "x" }) },
          progressing("task1"),
          linearFlow("flow-2", { retry: new AlwaysRevertAll({ name: "r2" }) }, conditional("task2")),
        ),
        { store: { y: 2 } },
      );
      const capture = captureListener(e);
      expect((await rejection(e.run())).message).toMatch(/^Woot/);
      expect(e.storage.fetchAll()).toEqual({ y: 2 });
      expect(capture.values).toEqual([
        "flow-1.f RUNNING",
        "r1.r RUNNING", "r1.r SUCCESS(1)",
        "task1.t RUNNING", "task1.t SUCCESS(5)",
        "r2.r RUNNING", "r2.r SUCCESS(None)",
        "task2.t RUNNING", `task2.t ${WOOT}`,
        "task2.t REVERTING", "task2.t REVERTED(None)",
        "r2.r REVERTING", "r2.r REVERTED(None)",
        "task1.t REVERTING", "task1.t REVERTED(None)",
        "r1.r REVERTING", "r1.r REVERTED(None)",
        "flow-1.f REVERTED",
      ]);
    });

    it("a nested Times(0, { revertAll }) reverts the outer tasks too (nested_flow_with_retry_revert_all)", async () => {
      const e = make(
        linearFlow(
          "flow-1",
          progressing("task1"),
          linearFlow("flow-2", { retry: new Times(0, { name: "r1", provides: "x2", revertAll: true }) }, conditional("task2", { inject: { x: 1 } })),
        ),
        { store: { y: 2 } },
      );
      const capture = captureListener(e);
      await expect(e.run()).rejects.toBeInstanceOf(RuntimeError);
      expect(e.storage.fetchAll()).toEqual({ y: 2 });
      expect(capture.values).toEqual([
        "flow-1.f RUNNING",
        "task1.t RUNNING", "task1.t SUCCESS(5)",
        "r1.r RUNNING", "r1.r SUCCESS(1)",
        "task2.t RUNNING", `task2.t ${WOOT}`,
        "task2.t REVERTING", "task2.t REVERTED(None)",
        "r1.r REVERTING", "r1.r REVERTED(None)",
        "task1.t REVERTING", "task1.t REVERTED(None)",
        "flow-1.f REVERTED",
      ]);
    });

    it("Times(2, { revertAll }) inside a Times(3): once spent, the parent does not retry", async () => {
      const e = make(
        linearFlow(
          "flow-1",
          { retry: new Times(3, { name: "r1", provides: "x1" }) },
          progressing("task1"),
          linearFlow("flow-2", { retry: new Times(2, { name: "r2", provides: "x", revertAll: true }) }, conditional("task2")),
        ),
        { store: { y: 9 } },
      );
      const capture = captureListener(e, { flow: false });
      await expect(e.run()).rejects.toBeInstanceOf(RuntimeError);
      expect(capture.values.filter((v) => v === "r1.r RUNNING")).toHaveLength(1);
      expect(capture.values.filter((v) => v === "r2.r RUNNING")).toHaveLength(2);
      expect(capture.values.slice(-4)).toEqual(["task1.t REVERTING", "task1.t REVERTED(None)", "r1.r REVERTING", "r1.r REVERTED(None)"]);
      expect(e.storage.flowDetail.state).toBe("REVERTED");
    });
  });

  describe("6. ForEach and ParameterizedForEach", () => {
    const tries = (retry: string, task: string, values: number[]) => {
      const out: string[] = [];
      values.forEach((v, i) => {
        if (i === 0) out.push(`${retry}.r RUNNING`, `${retry}.r SUCCESS(${v})`);
        else out.push(...retrying(retry, v, `${task}.t`));
        out.push(`${task}.t RUNNING`, `${task}.t ${woot(v)}`, `${task}.t REVERTING`, `${task}.t REVERTED(None)`);
      });
      return out;
    };

    it("ForEach([3, 2, 3, 5]) tries 3, 2, 3, 5, then reverts (for_each_with_list)", async () => {
      const e = make(linearFlow("flow-1", { retry: new ForEach([3, 2, 3, 5], { name: "r1", provides: "x" }) }, failingWithArg("t1")));
      const capture = captureListener(e);
      expect((await rejection(e.run())).message).toMatch(/^Woot/);
      expect(capture.values).toEqual([
        "flow-1.f RUNNING",
        ...tries("r1", "t1", [3, 2, 3, 5]),
        "r1.r REVERTING", "r1.r REVERTED(None)",
        "flow-1.f REVERTED",
      ]);
    });

    it("a nested ForEach reverts only its subflow once exhausted (nested_for_each_revert)", async () => {
      const e = make(
        linearFlow("flow-1", progressing("task1"), linearFlow("flow-2", { retry: new ForEach([3, 2, 3, 5], { name: "r1", provides: "x" }) }, failingWithArg("task2"))),
      );
      const capture = captureListener(e);
      expect((await rejection(e.run())).message).toMatch(/^Woot/);
      expect(capture.values).toEqual([
        "flow-1.f RUNNING",
        "task1.t RUNNING", "task1.t SUCCESS(5)",
        ...tries("r1", "task2", [3, 2, 3, 5]),
        "r1.r REVERTING", "r1.r REVERTED(None)",
        "flow-1.f REVERTED",
      ]);
    });

    it("a nested ForEach with revertAll reverts everything once exhausted (nested_for_each_revert_all)", async () => {
      const e = make(
        linearFlow(
          "flow-1",
          progressing("task1"),
          linearFlow("flow-2", { retry: new ForEach([3, 2, 3, 5], { name: "r1", provides: "x", revertAll: true }) }, failingWithArg("task2")),
        ),
      );
      const capture = captureListener(e);
      expect((await rejection(e.run())).message).toMatch(/^Woot/);
      expect(capture.values).toEqual([
        "flow-1.f RUNNING",
        "task1.t RUNNING", "task1.t SUCCESS(5)",
        ...tries("r1", "task2", [3, 2, 3, 5]),
        "r1.r REVERTING", "r1.r REVERTED(None)",
        "task1.t REVERTING", "task1.t REVERTED(None)",
        "flow-1.f REVERTED",
      ]);
    });

    it("ForEach stops at the first value that works", async () => {
      const e = make(linearFlow("flow-1", { retry: new ForEach([3, 2, 5], { name: "r1", provides: "x" }) }, conditional("t1")), { store: { y: 2 } });
      await e.run();
      expect(e.storage.fetchAll()).toEqual({ y: 2, x: 2 });
      expect(e.storage.detail("r1").result).toEqual([
        { value: 3, failures: { t1: expect.objectContaining({ exceptionStr: "Woot!" }) } },
        { value: 2, failures: {} },
      ]);
    });

    it("an empty ForEach raises NotFound 'No elements left' (for_each_empty_collection)", async () => {
      const e = make(linearFlow("flow-1", { retry: new ForEach([], { name: "r1", provides: "x" }) }, conditional("t1")), { store: { y: 1 } });
      const error = await rejection(e.run());
      expect(error).toBeInstanceOf(NotFound);
      expect(error.message).toMatch(/^No elements left/);
    });

    it("ParameterizedForEach takes the list from `values` (parameterized_for_each_with_list)", async () => {
      const e = make(linearFlow("flow-1", { retry: new ParameterizedForEach({ name: "r1", provides: "x" }) }, failingWithArg("t1")), {
        store: { values: [3, 2, 5], y: 1 },
      });
      const capture = captureListener(e);
      expect((await rejection(e.run())).message).toMatch(/^Woot/);
      expect(capture.values).toEqual([
        "flow-1.f RUNNING",
        ...tries("r1", "t1", [3, 2, 5]),
        "r1.r REVERTING", "r1.r REVERTED(None)",
        "flow-1.f REVERTED",
      ]);
    });

    it("a nested ParameterizedForEach reverts its subflow, or everything with revertAll", async () => {
      for (const revertAll of [false, true]) {
        const e = make(
          linearFlow(
            "flow-1",
            progressing("task-1"),
            linearFlow("flow-2", { retry: new ParameterizedForEach({ name: "r1", provides: "x", revertAll }) }, failingWithArg("task-2")),
          ),
          { store: { values: [3, 2, 5], y: 1 } },
        );
        const capture = captureListener(e);
        expect((await rejection(e.run())).message).toMatch(/^Woot/);
        expect(capture.values).toEqual([
          "flow-1.f RUNNING",
          "task-1.t RUNNING", "task-1.t SUCCESS(5)",
          ...tries("r1", "task-2", [3, 2, 5]),
          "r1.r REVERTING", "r1.r REVERTED(None)",
          ...(revertAll ? ["task-1.t REVERTING", "task-1.t REVERTED(None)"] : []),
          "flow-1.f REVERTED",
        ]);
      }
    });

    it("ParameterizedForEach reads `values` through rebind", async () => {
      const e = make(linearFlow("flow-1", { retry: new ParameterizedForEach({ name: "r1", provides: "x", rebind: { values: "candidates" } }) }, conditional("t1")), {
        store: { candidates: [7, 1], y: 1 },
      });
      await e.run();
      expect(e.storage.fetch("x")).toBe(1);
    });

    it("an empty ParameterizedForEach raises NotFound 'No elements left' (parameterized_for_each_empty_collection)", async () => {
      const e = make(linearFlow("flow-1", { retry: new ParameterizedForEach({ name: "r1", provides: "x" }) }, conditional("t1")), {
        store: { values: [], y: 1 },
      });
      const error = await rejection(e.run());
      expect(error).toBeInstanceOf(NotFound);
      expect(error.message).toMatch(/^No elements left/);
    });
  });

  describe("7. resuming after a crash at each step of a retry round", () => {
    // The peer's _pretend_to_run_a_flow_and_crash: the retry ran (1), task1 failed, and the host
    // went away at one of the steps of resolving that failure.
    const flow = () => unorderedFlow("flow-1", { retry: new Times(3, { provides: "x" }) }, progressing("task1"));
    const fail = failureData(new RuntimeError("foo"));
    const steps = ["task fails", "retry queried", "retry updated", "task updated", "revert scheduled"] as const;
    const until = (when: (typeof steps)[number]) => (atoms: Record<string, AtomDetail>, fd: FlowDetail) => {
      const r = atoms["flow-1_retry"] as AtomDetail;
      const t = atoms.task1 as AtomDetail;
      fd.state = "RUNNING";
      Object.assign(r, { state: "SUCCESS", intention: "EXECUTE", result: [{ value: 1, failures: {} }] });
      Object.assign(t, { state: "FAILURE", intention: "EXECUTE", failure: fail });
      if (when === "task fails") return;
      r.result = [{ value: 1, failures: { task1: fail } }];
      if (when === "retry queried") return;
      r.intention = "RETRY";
      if (when === "retry updated") return;
      t.intention = "REVERT";
      if (when === "task updated") return;
      t.state = "REVERTING";
    };
    const rest = [
      "task1.t REVERTED(None)",
      "flow-1_retry.r RETRYING", "task1.t PENDING",
      "flow-1_retry.r RUNNING", "flow-1_retry.r SUCCESS(2)",
      "task1.t RUNNING", "task1.t SUCCESS(5)",
    ];

    it.each(steps.filter((s) => s !== "revert scheduled"))("crash after '%s': the revert finishes, RETRYING, SUCCESS(2), flow SUCCESS", async (when) => {
      const e = await crashed(flow, { engine }, until(when));
      const atoms = captureListener(e, { flow: false });
      const flows = captureListener(e, { atoms: false });
      await e.run();
      expect(atoms.values).toEqual(["task1.t REVERTING", ...rest]);
      expect(flows.values).toEqual(["flow-1.f RESUMING", "flow-1.f SUSPENDED", "flow-1.f RUNNING", "flow-1.f SUCCESS"]);
      expect(e.storage.fetchAll()).toEqual({ x: 2 });
      // The failure of the first try is recorded once, however many times it was resolved.
      const history = e.storage.detail("flow-1_retry").result as HistoryEntry[];
      expect(history.map((h) => h.value)).toEqual([1, 2]);
      expect(Object.keys(history[0]?.failures ?? {})).toEqual(["task1"]);
    });

    it("crash after 'revert scheduled': the revert runs again, RETRYING, SUCCESS(2), flow SUCCESS", async () => {
      const e = await crashed(flow, { engine }, until("revert scheduled"));
      const atoms = captureListener(e, { flow: false });
      await e.run();
      // As the peer: the revert starts again, but REVERTING → REVERTING is no transition to announce.
      expect(atoms.values).toEqual(rest);
      expect(e.storage.flowDetail.state).toBe("SUCCESS");
      expect(e.storage.fetchAll()).toEqual({ x: 2 });
    });

    // Regression test for a fixed bug (src/engine/runner.ts, run()/rebuild(): RESUMING re-resolves stored FAILURE atoms but
    // not RETRYING retries). Expected (peer test_resume_flow_that_had_been_interrupted_during_
    // retrying; reference §1 "RESUMING … re-resolving stored FAILURE atoms and RETRYING
    // retries"): the reverted atoms of a RETRYING retry are reset to PENDING and the flow ends
    // SUCCESS. Actual: t2 and t3 stay REVERTED, the run ends REVERTED without an error. This
    // engine writes RETRYING and the resets in one batch, so only a log book written otherwise
    // (by hand, or by another implementation) is in this state.
    it("a flow interrupted while RETRYING resets its reverted atoms and runs the retry (resume_..._interrupted_during_retrying)", async () => {
      const three = () => linearFlow("flow-1", { retry: new Times(3, { name: "r1" }) }, progressing("t1"), progressing("t2"), progressing("t3"));
      const e = await crashed(three, { engine }, (atoms) => {
        Object.assign(atoms.r1 as AtomDetail, { state: "RETRYING" });
        Object.assign(atoms.t2 as AtomDetail, { state: "REVERTED" });
        Object.assign(atoms.t3 as AtomDetail, { state: "REVERTED" });
      });
      const capture = captureListener(e, { flow: false });
      await e.run();
      expect(capture.values).toEqual([
        "t2.t PENDING", "t3.t PENDING",
        "r1.r RUNNING", "r1.r SUCCESS(1)",
        "t1.t RUNNING", "t1.t SUCCESS(5)",
        "t2.t RUNNING", "t2.t SUCCESS(5)",
        "t3.t RUNNING", "t3.t SUCCESS(5)",
      ]);
      expect(e.storage.flowDetail.state).toBe("SUCCESS");
    });

    it("a flow whose retry has intention RETRY and reverted tasks retries at once (resume_flow_that_should_be_retried)", async () => {
      const two = () => linearFlow("flow-1", { retry: new Times(3, { name: "r1" }) }, progressing("t1"), progressing("t2"));
      const e = await crashed(two, { engine }, (atoms) => {
        Object.assign(atoms.r1 as AtomDetail, { state: "SUCCESS", intention: "RETRY" });
        Object.assign(atoms.t1 as AtomDetail, { state: "REVERTED" });
        Object.assign(atoms.t2 as AtomDetail, { state: "REVERTED" });
      });
      const capture = captureListener(e, { flow: false });
      await e.run();
      expect(capture.values).toEqual([
        "r1.r RETRYING", "t1.t PENDING", "t2.t PENDING",
        "r1.r RUNNING", "r1.r SUCCESS(1)",
        "t1.t RUNNING", "t1.t SUCCESS(5)",
        "t2.t RUNNING", "t2.t SUCCESS(5)",
      ]);
      expect(e.storage.flowDetail.state).toBe("SUCCESS");
    });

    it("a graph flow whose nested retried subflow failed earlier is retried on resume (nested_provides_graph_retried_correctly)", async () => {
      const g = () =>
        graphFlow(
          "test",
          progressing("a", { requires: ["x"] }),
          linearFlow("test2", { retry: new Times(2) }, progressing("b", { provides: "x" }), progressing("c")),
        );
      const e = await crashed(g, { engine }, (atoms) => {
        Object.assign(atoms.test2_retry as AtomDetail, { state: "SUCCESS", result: [{ value: 1, failures: {} }] });
        Object.assign(atoms.b as AtomDetail, { state: "SUCCESS", result: 11 });
        Object.assign(atoms.c as AtomDetail, { state: "FAILURE", failure: failureData(new RuntimeError("Woot!")) });
      });
      const capture = captureListener(e, { flow: false });
      await e.run();
      expect([...capture.values.slice(0, 4)].sort()).toEqual(["b.t REVERTED(None)", "b.t REVERTING", "c.t REVERTED(None)", "c.t REVERTING"]);
      expect([...capture.values.slice(4)].sort()).toEqual(
        [
          "test2_retry.r RETRYING", "b.t PENDING", "c.t PENDING",
          "test2_retry.r RUNNING", "test2_retry.r SUCCESS(2)",
          "b.t RUNNING", "b.t SUCCESS(5)",
          "a.t RUNNING", "c.t RUNNING",
          "a.t SUCCESS(5)", "c.t SUCCESS(5)",
        ].sort(),
      );
      expect(e.storage.flowDetail.state).toBe("SUCCESS");
    });

    const harnessFlows = [
      ["Times(4) succeeding on the second try", () => linearFlow("flow-1", { retry: new Times(4, { name: "r1", provides: "x" }) }, progressing("task1"), conditional("task2")), { y: 2 }],
      ["Times(2) exhausted", () => linearFlow("flow-1", { retry: new Times(2, { name: "r1", provides: "x" }) }, progressing("task1"), conditional("task2")), { y: 4 }],
      [
        "a Times(0) inside a Times(3)",
        () =>
          linearFlow(
            "flow-1",
            { retry: new Times(3, { name: "r1", provides: "x" }) },
            progressing("task1"),
            linearFlow("flow-2", { retry: new Times(0, { name: "r2", provides: "x2" }) }, conditional("task2")),
          ),
        { y: 2 },
      ],
      [
        "an unordered flow under a Times(3)",
        () => unorderedFlow("flow-1", { retry: new Times(3, { name: "r", provides: "x" }) }, progressing("task1"), conditional("task2")),
        { y: 2 },
      ],
      ["ForEach([3, 2, 3, 5])", () => linearFlow("flow-1", { retry: new ForEach([3, 2, 3, 5], { name: "r1", provides: "x" }) }, failingWithArg("t1")), {}],
      ["a task with the retry shorthand, its attempts spent", () => linearFlow("flow-1", progressing("task1"), failing("task2", { retry: new Times(3) })), {}],
    ] as const;

    it.each(harnessFlows)("the crash-point harness over %s: every crash resumes to the same end", async (_what, makeFlow, store) => {
      const report = await checkCrashPoints({ makeFlow, store: { ...store }, engine: { engine } });
      expect(report.points).toBeGreaterThan(5);
      expect(report.scenarios).toBe(report.points * 2);
      expect(report.problems).toEqual([]);
    });

    // Regression test for a fixed bug (src/testing/crash-points.ts, checkCrashPoints(): the resume listener forgets a stored
    // SUCCESS only on REVERTED). Expected: assertCrashSafe passes over a flow with a retry whose
    // round is interrupted. Actual: CrashSafetyError 'atom "r1" was stored as SUCCESS but executed
    // again on resume' for the retry atom, which legitimately goes SUCCESS → RETRYING → RUNNING
    // (it should also forget it on RETRYING).
    it("assertCrashSafe over a retried flow (the harness counts a retry's next try as a re-execution)", async () => {
      const [, makeFlow, store] = harnessFlows[0];
      await assertCrashSafe({ makeFlow, store: { ...store }, engine: { engine } });
    });
  });

  describe("8. misuse and failing retries", () => {
    it("a retry as the root is refused with CompilationFailure (TaskFlow: TypeError) (run_just_retry)", async () => {
      const e = make(new OneReturnRetry({ provides: "x" }));
      await expect(e.run()).rejects.toBeInstanceOf(CompilationFailure);
      expect(() => e.compile()).toThrow(/cannot be the root/);
    });

    // Regression test for a fixed bug (src/engine/compiler.ts, compile()/visit()): a retry added to a flow as an item (not as
    // the flow's `retry` option) is compiled as an ordinary node. Expected (peer
    // test_use_retry_as_a_task, reference §2.8): the run is refused (TypeError there,
    // CompilationFailure here). Actual: the run succeeds and the retry executes like a task.
    it("a retry used as a task is refused (use_retry_as_a_task)", async () => {
      const e = make(linearFlow("test", new OneReturnRetry({ provides: "x" })));
      await expect(e.run()).rejects.toBeInstanceOf(CompilationFailure);
    });

    it("a retry whose execute throws raises that error; history.failure is set (retry_fails)", async () => {
      const r = new FailingRetry();
      const e = make(linearFlow("testflow", { retry: r }));
      const error = await rejection(e.run());
      expect(error).toBeInstanceOf(ValueError);
      expect(error.message).toMatch(/^OMG/);
      expect(r.name).toBe("testflow_retry");
      expect(r.history).toBeDefined();
      const history = r.history as History;
      expect(history.length).toBe(0);
      expect(history.outcomes).toEqual([]);
      expect(history.failure).toBeDefined();
      expect(history.failure?.check(ValueError)).toBe("ValueError");
      expect(e.storage.getAtomState("testflow_retry")).toBe("REVERTED");
      expect(e.storage.flowDetail.state).toBe("REVERTED");
    });

    it("a failing retry whose revert fails too raises the revert's error (retry_revert_fails)", async () => {
      const e = make(linearFlow("testflow", { retry: new NastyFailingRetry() }));
      const error = await rejection(e.run());
      expect(error).toBeInstanceOf(ValueError);
      expect(error.message).toMatch(/^WOOT/);
      expect(e.storage.flowDetail.state).toBe("FAILURE");
    });

    /** A retry that provides 1, then throws ValueError('second') when executed again. */
    const secondFails = () => {
      const seen: { history?: History } = {};
      class SecondFails extends Retry {
        override execute(history: History): number {
          if (history.length >= 1) throw new ValueError("second");
          return history.length + 1;
        }
        override revert(history: History): undefined {
          seen.history = history;
          return undefined;
        }
        onFailure(): RetryDecision {
          return "RETRY";
        }
      }
      return { seen, flow: linearFlow("f", { retry: new SecondFails({ name: "r", provides: "x" }) }, failing("t")) };
    };

    it("a retry whose execute throws on a later try: the retry fails, reverts and the flow is REVERTED", async () => {
      const { seen, flow } = secondFails();
      const e = make(flow);
      const capture = captureListener(e);
      const error = await rejection(e.run());
      // The peer raises WrappedFailure([Woot!, second]): it still holds t's failure of the first
      // try although t was reset to PENDING. Here only the failure that ended the flow is raised.
      expect(error).toBeInstanceOf(ValueError);
      expect(error.message).toBe("second");
      expect(capture.values).toEqual([
        "f.f RUNNING",
        "r.r RUNNING", "r.r SUCCESS(1)",
        "t.t RUNNING", `t.t ${WOOT}`,
        "t.t REVERTING", "t.t REVERTED(None)",
        "r.r RETRYING", "t.t PENDING",
        "r.r RUNNING", "r.r FAILURE(Failure: ValueError: second)",
        "r.r REVERTING", "r.r REVERTED(None)",
        "f.f REVERTED",
      ]);
      expect(seen.history?.failure?.check(ValueError)).toBe("ValueError");
    });

    // Regression test for a fixed bug (src/engine/runner.ts, analyze(): the FAILURE transition patches `result: undefined`
    // for retries too): when a retry's execute throws on a later try, its stored history is
    // wiped. Expected (peer RetryDetail.put keeps the results when execute fails): the revert sees
    // history.provided == [1] and history.failure == ValueError('second'). Actual: provided == [].
    it("…and its revert still sees the history of the earlier tries", async () => {
      const { seen, flow } = secondFails();
      const e = make(flow);
      await rejection(e.run());
      expect(seen.history?.provided).toEqual([1]);
    });

    it("a custom retry sees its history and its arguments in onFailure", async () => {
      const calls: Array<{ tries: number; limit: unknown }> = [];
      class UpTo extends Retry<{ limit: number }> {
        override execute(history: History): number {
          return history.length * 10;
        }
        onFailure(history: History, args: { limit: number }): RetryDecision {
          calls.push({ tries: history.length, limit: args.limit });
          return history.length < args.limit ? "RETRY" : "REVERT";
        }
      }
      const e = make(linearFlow("f", { retry: new UpTo({ name: "r", provides: "x", requires: ["limit"] }) }, conditional("c")), {
        store: { limit: 3, y: 20 },
      });
      await e.run();
      expect(e.storage.fetch("x")).toBe(20);
      expect(calls).toEqual([
        { tries: 1, limit: 3 },
        { tries: 2, limit: 3 },
      ]);
    });
  });

  describe("the per-task retry shorthand", () => {
    it("task({ retry: new Times(n) }) compiles to <task>_retry in <task>[retry] and retries the task alone", async () => {
      let calls = 0;
      const flaky = task({
        name: "flaky",
        provides: "v",
        retry: new Times(3),
        execute: () => {
          calls++;
          if (calls < 3) throw new RuntimeError("Woot!");
          return calls;
        },
      });
      const e = make(linearFlow("f", progressing("before"), flaky));
      const capture = captureListener(e, { flow: false });
      await e.run();
      expect(e.compile().atoms.has("flaky_retry")).toBe(true);
      expect(e.compile().nodes.some((n) => n.name === "flaky[retry]")).toBe(true);
      expect(e.storage.fetch("v")).toBe(3);
      expect(capture.values.filter((v) => v.startsWith("before."))).toEqual(["before.t RUNNING", "before.t SUCCESS(5)"]);
      expect(capture.values.filter((v) => v.startsWith("flaky_retry.r SUCCESS"))).toEqual([
        "flaky_retry.r SUCCESS(1)", "flaky_retry.r SUCCESS(2)", "flaky_retry.r SUCCESS(3)",
      ]);
    });

    it("once its attempts are spent, only the task's own flow reverts, unless revertAll", async () => {
      for (const revertAll of [false, true]) {
        const e = make(linearFlow("f", progressing("before"), failing("boom", { retry: new Times(2, { revertAll }) })));
        const capture = captureListener(e, { flow: false });
        await expect(e.run()).rejects.toBeInstanceOf(RuntimeError);
        expect(capture.values.filter((v) => v === "boom.t RUNNING")).toHaveLength(2);
        expect(e.storage.getAtomState("before")).toBe(revertAll ? "REVERTED" : "SUCCESS");
        expect(e.storage.getAtomState("boom_retry")).toBe("REVERTED");
      }
    });

    it("takes any retry controller, keeping the name it was given", async () => {
      const servers: unknown[] = [];
      const send = task({
        name: "send",
        requires: ["server"],
        retry: new ForEach(["smtp-a", "smtp-b"], { name: "servers", provides: "server" }),
        execute: ({ server }: { server: string }) => {
          servers.push(server);
          if (server === "smtp-a") throw new RuntimeError("Woot!");
          return server;
        },
      });
      const e = make(linearFlow("f", send));
      await e.run();
      expect(servers).toEqual(["smtp-a", "smtp-b"]);
      expect(e.compile().atoms.has("servers")).toBe(true);
      expect(e.storage.getAtomState("servers")).toBe("SUCCESS");
    });

    it("refuses one retry given to two tasks: each task needs its own controller", () => {
      const shared = new Times(2);
      const flow = linearFlow("f", task({ name: "a", retry: shared, execute: () => 1 }), task({ name: "b", retry: shared, execute: () => 2 }));
      expect(() => make(flow).compile()).toThrow(Duplicate);
    });
  });
});

describe("parallel engine", () => {
  /** A promise and its resolver. */
  const gate = () => {
    let open!: () => void;
    const opened = new Promise<void>((resolve) => (open = resolve));
    return { opened, open };
  };

  it("a subflow fails while a sibling still runs: the running task finishes, then reverts (when_subflow_fails_revert_running_tasks)", async () => {
    const g = gate();
    const task1 = task({
      name: "task1",
      execute: async () => {
        await g.opened;
        return 5;
      },
    });
    const e = load(unorderedFlow("flow-1", { retry: new Times(3, { name: "r", provides: "x" }) }, task1, conditional("task2")), {
      engine: "parallel",
      store: { y: 2 },
    });
    e.on("atom", (ev) => {
      if (ev.name === "task2" && (ev.state === "SUCCESS" || ev.state === "FAILURE")) g.open();
    });
    const capture = captureListener(e, { flow: false });
    await e.run();
    expect(e.storage.fetchAll()).toEqual({ y: 2, x: 2 });
    expect([...capture.values].sort()).toEqual(
      [
        "r.r RUNNING", "r.r SUCCESS(1)",
        "task1.t RUNNING", "task2.t RUNNING",
        `task2.t ${WOOT}`, "task2.t REVERTING", "task2.t REVERTED(None)",
        "task1.t SUCCESS(5)", "task1.t REVERTING", "task1.t REVERTED(None)",
        "r.r RETRYING", "task1.t PENDING", "task2.t PENDING",
        "r.r RUNNING", "r.r SUCCESS(2)",
        "task1.t RUNNING", "task2.t RUNNING",
        "task2.t SUCCESS(None)", "task1.t SUCCESS(5)",
      ].sort(),
    );
    const at = (s: string) => capture.values.indexOf(s);
    expect(at("task1.t REVERTING")).toBeGreaterThan(at("task1.t SUCCESS(5)"));
    expect(at("r.r RETRYING")).toBeGreaterThan(at("task1.t REVERTED(None)"));
  });

  it("a task of a nested flow fails: the siblings are reverted, then retried (when_subflow_fails_revert_success_tasks)", async () => {
    const e = load(
      unorderedFlow("flow-1", { retry: new Times(3, { name: "r", provides: "x" }) }, progressing("task1"), linearFlow("flow-2", progressing("task2"), conditional("task3"))),
      { engine: "parallel", store: { y: 2 } },
    );
    const capture = captureListener(e, { flow: false });
    await e.run();
    expect(e.storage.fetchAll()).toEqual({ y: 2, x: 2 });
    const at = (s: string) => capture.values.indexOf(s);
    expect(at("task2.t REVERTING")).toBeGreaterThan(at("task3.t REVERTED(None)"));
    expect(at("r.r RETRYING")).toBeGreaterThan(at("task1.t REVERTED(None)"));
    expect(at("r.r RETRYING")).toBeGreaterThan(at("task2.t REVERTED(None)"));
    expect(capture.values.filter((v) => v === "r.r RUNNING")).toHaveLength(2);
  });

  describe("a RETRY never overrides a REVERT intention set by a concurrent failure (TaskFlow bug #2043808)", () => {
    /**
     * Two subflows fail at the same moment: one under AlwaysRevertAll, one under a Times(5). The
     * order in which the two failures are analysed is set by `retriedFirst`.
     */
    async function race(retriedFirst: boolean) {
      const both = gate();
      let arrived = 0;
      const meet = async () => {
        if (++arrived === 2) both.open();
        await both.opened;
      };
      const doomed = task({
        name: "doomed",
        execute: async () => {
          await meet();
          if (retriedFirst) await Promise.resolve();
          throw new RuntimeError("Woot!");
        },
      });
      let retriedRuns = 0;
      const retried = task({
        name: "retried",
        execute: async () => {
          retriedRuns++;
          await meet();
          if (!retriedFirst) await Promise.resolve();
          throw new RuntimeError("Woot!");
        },
      });
      const e = load(
        unorderedFlow(
          "root",
          progressing("bystander"),
          linearFlow("a", { retry: new AlwaysRevertAll({ name: "ra" }) }, doomed),
          linearFlow("b", { retry: new Times(5, { name: "rb" }) }, retried),
        ),
        { engine: "parallel" },
      );
      const capture = captureListener(e, { flow: false });
      const error = await rejection(e.run());
      return { e, capture: capture.values, error, retriedRuns };
    }

    it.each([
      ["the REVERT_ALL failure", false],
      ["the RETRY failure", true],
    ])("%s analysed first: the whole flow ends REVERTED and the retry does not run again", async (_first, retriedFirst) => {
      const { e, capture, error, retriedRuns } = await race(retriedFirst);
      // Two failures of one run: a WrappedFailure of both (as the peer raises them).
      expect(error).toBeInstanceOf(WrappedFailure);
      expect((error as WrappedFailure).failures.map((f) => f.toString())).toEqual(["Failure: RuntimeError: Woot!", "Failure: RuntimeError: Woot!"]);
      // Both failures were analysed before anything was reverted: they were concurrent.
      const firstRevert = capture.findIndex((v) => v.endsWith(" REVERTING"));
      expect(capture.indexOf(`doomed.t ${WOOT}`)).toBeLessThan(firstRevert);
      expect(capture.indexOf(`retried.t ${WOOT}`)).toBeLessThan(firstRevert);
      const order = [capture.indexOf(`doomed.t ${WOOT}`), capture.indexOf(`retried.t ${WOOT}`)];
      expect(order[0] as number > (order[1] as number)).toBe(retriedFirst);
      expect(e.storage.flowDetail.state).toBe("REVERTED");
      expect(retriedRuns).toBe(1);
      expect(capture.filter((v) => v === "rb.r RUNNING")).toHaveLength(1);
      expect(capture).not.toContain("rb.r RETRYING");
      for (const name of ["bystander", "ra", "doomed", "rb", "retried"]) expect(e.storage.getAtomState(name)).toBe("REVERTED");
      expect(e.storage.detail("rb").intention).toBe("REVERT");
    });
  });
});
