/**
 * Engine behaviour, after TaskFlow's `tests/unit/test_engines.py` (reference §2, "Engines").
 * Most scenarios run on both the serial and the parallel engine, as the peer runs them.
 */
import { describe, expect, it } from "vitest";
import { captureListener, Failure, graphFlow, InvalidFormat, linearFlow, load, MemoryBackend, MissingDependencies, run, task, unorderedFlow, type FlowItem, type ProgressEvent, runIter } from "../../src/index.js";
import { memoryBackendFromDump } from "../../src/backend.js";
import {
  collectStates,
  ENGINES,
  failing,
  nasty,
  neverRun,
  noop,
  progressing,
  rejection,
  RuntimeError,
  sleep,
  storeEveryAtom,
  WOOT,
} from "./helpers.js";

const EMPTY_TRANSITIONS = ["RESUMING", "SCHEDULING", "WAITING", "ANALYZING", "SUCCESS"];

describe.each(ENGINES)("%s engine", (engine) => {
  const make = (flow: FlowItem, options: Parameters<typeof load>[1] = {}) => load(flow, { engine, ...options });

  // Issue 15, item 2: engine.state, documented, instead of engine.storage.flowState.
  it("engine.state is the flow's state: refused before the flow detail is loaded, then PENDING, SUCCESS or REVERTED", async () => {
    const ok = make(linearFlow("f", noop("a")));
    expect(() => ok.state).toThrow(/not prepared yet/);
    await ok.prepare();
    expect(ok.state).toBe("PENDING");
    await ok.run();
    expect(ok.state).toBe("SUCCESS");
    const bad = make(linearFlow("g", noop("a"), failing("b")));
    await expect(bad.run()).rejects.toThrow("Woot!");
    expect(bad.state).toBe("REVERTED");
    expect(bad.state).toBe(bad.storage.flowState);
  });

  describe("runner states (runIter)", () => {
    it.each([
      ["linear", () => linearFlow("flow-1")],
      ["unordered", () => unorderedFlow("p-1")],
      ["graph", () => graphFlow("g-1")],
      ["nested graph", () => graphFlow("g-1", linearFlow("l-1"), graphFlow("g-2"))],
      ["nested linear", () => linearFlow("l-1", unorderedFlow("u-1"), linearFlow("l-2", graphFlow("g-2")))],
    ])("an empty %s flow yields RESUMING, SCHEDULING, WAITING, ANALYZING, SUCCESS", async (_kind, build) => {
      const e = make(build());
      expect(await collectStates(e)).toEqual(EMPTY_TRANSITIONS);
      expect(e.storage.flowDetail.state).toBe("SUCCESS");
    });

    it("a 2-task linear flow yields two scheduling rounds", async () => {
      const e = make(linearFlow("flow-2", progressing("task1"), progressing("task2")));
      const capture = captureListener(e, { flow: false });
      expect(await collectStates(e)).toEqual([
        "RESUMING", "SCHEDULING", "WAITING", "ANALYZING",
        "SCHEDULING", "WAITING", "ANALYZING", "SUCCESS",
      ]);
      expect(capture.values).toEqual(["task1.t RUNNING", "task1.t SUCCESS(5)", "task2.t RUNNING", "task2.t SUCCESS(5)"]);
    });
  });

  describe("a task as the root", () => {
    it("reports flow and task transitions", async () => {
      const e = make(progressing("task1"));
      const capture = captureListener(e);
      await e.run();
      expect(capture.values).toEqual(["task1.f RUNNING", "task1.t RUNNING", "task1.t SUCCESS(5)", "task1.f SUCCESS"]);
    });

    it("a failing root task reverts, rethrows, and reverts the same way when run again", async () => {
      const e = make(failing("fail"));
      const capture = captureListener(e);
      const expected = [
        "fail.f RUNNING",
        "fail.t RUNNING",
        `fail.t ${WOOT}`,
        "fail.t REVERTING",
        "fail.t REVERTED(None)",
        "fail.f REVERTED",
      ];
      const first = await rejection(e.run());
      expect(first).toBeInstanceOf(RuntimeError);
      expect(first.message).toMatch(/^Woot/);
      expect(capture.values).toEqual(expected);
      expect(e.storage.flowDetail.state).toBe("REVERTED");

      const second = await rejection(e.run());
      expect(second).toBeInstanceOf(RuntimeError);
      expect(second.message).toMatch(/^Woot/);
      expect(capture.values).toEqual([...expected, "fail.t PENDING", "fail.f PENDING", ...expected]);
      expect(e.storage.flowDetail.state).toBe("REVERTED");
    });

    it("running a reverted engine again keeps its flow detail", async () => {
      const backend = new MemoryBackend();
      const e = make(failing("fail"), { backend });
      await expect(e.run()).rejects.toBeInstanceOf(RuntimeError);
      const id = e.flowDetailId;
      await expect(e.run()).rejects.toBeInstanceOf(RuntimeError);
      expect(e.flowDetailId).toBe(id);
      expect(backend.dump().flows).toHaveLength(1);
      expect((await backend.getFlowDetail(id)).state).toBe("REVERTED");
    });

    it("run() rejects with the error a task threw when it is a registered class, even after reverting", async () => {
      const e = make(linearFlow("f", progressing("ok"), failing("fail")));
      const error = await rejection(e.run());
      expect(error).toBeInstanceOf(RuntimeError);
      expect(error.message).toBe("Woot!");
    });

    // Regression test for a fixed bug (src/engine/engine.ts, analyze(), with src/storage/storage.ts setAtom): analyze()
    // calls storage.rememberFailure(name, "execute", failure) and then setAtomState(..., "FAILURE",
    // { failure: ... }), whose storage.setAtom deletes the cache entry because "failure" is in the
    // patch (the same for "revert"/revertFailure). The live error is lost at once, so a run that
    // ends REVERTED rethrows an error rebuilt from JSON: a different object, and for a class not
    // registered with registerErrorClass not even an instance of it. TaskFlow reraises the
    // original exception (failure.reraise() with its exc_info); Failure.toError documents "the
    // live error itself when it is still at hand". Expected: the very error object thrown.
    it("run() rejects with the very error object the task threw (unregistered class)", async () => {
      class NotRegistered extends Error {
        override name = "NotRegistered";
      }
      const original = new NotRegistered("mine");
      const e = make(linearFlow("f", task({ name: "t", execute: () => { throw original; } })));
      const error = await rejection(e.run());
      expect(error).toBe(original);
      expect(error).toBeInstanceOf(NotRegistered);
    });
  });

  describe("reverting", () => {
    it("nested linear flows revert in reverse order and leave nothing to fetch", async () => {
      const e = make(linearFlow("root-1", progressing("task1"), linearFlow("child-1", progressing("task2"), failing("fail"))));
      const capture = captureListener(e, { flow: false });
      await expect(e.run()).rejects.toThrow(/^Woot/);
      expect(capture.values).toEqual([
        "task1.t RUNNING", "task1.t SUCCESS(5)",
        "task2.t RUNNING", "task2.t SUCCESS(5)",
        "fail.t RUNNING", `fail.t ${WOOT}`,
        "fail.t REVERTING", "fail.t REVERTED(None)",
        "task2.t REVERTING", "task2.t REVERTED(None)",
        "task1.t REVERTING", "task1.t REVERTED(None)",
      ]);
      expect(e.storage.flowDetail.state).toBe("REVERTED");
      for (const name of ["task1", "task2", "fail"]) expect(e.storage.getAtomState(name)).toBe("REVERTED");
      expect(e.storage.fetchAll()).toEqual({});
    });

    it("reverting removes provided data (revert_removes_data)", async () => {
      const e = make(
        linearFlow(
          "revert-removes",
          task({ name: "one", provides: "one", execute: () => 1 }),
          task({ name: "multi", provides: ["a", "b", "c"], execute: () => [1, 3, 5] }),
          failing("fail"),
        ),
      );
      await expect(e.run()).rejects.toThrow(/^Woot/);
      expect(e.storage.fetchAll()).toEqual({});
    });

    it("a task after the failing one never runs and is not reverted", async () => {
      const e = make(linearFlow("revert-not-run", failing("fail"), neverRun("never")));
      const capture = captureListener(e, { flow: false });
      await expect(e.run()).rejects.toThrow(/^Woot/);
      expect(capture.values).toEqual(["fail.t RUNNING", `fail.t ${WOOT}`, "fail.t REVERTING", "fail.t REVERTED(None)"]);
      expect(e.storage.getAtomState("never")).toBe("PENDING");
    });

    it("revert receives the execute result or failure, and the flow failures", async () => {
      const seen: Array<{ name: string; result: unknown; failures: string[] }> = [];
      const record = (name: string) => (_args: unknown, ctx: { result: unknown; flowFailures: Record<string, unknown> }) => {
        seen.push({ name, result: ctx.result, failures: Object.keys(ctx.flowFailures) });
      };
      const e = make(
        linearFlow(
          "f",
          task({ name: "ok", execute: () => 7, revert: record("ok") }),
          failing("bad", { revert: record("bad") }),
        ),
      );
      await expect(e.run()).rejects.toThrow(/^Woot/);
      expect(seen.map((s) => s.name)).toEqual(["bad", "ok"]);
      expect(seen[1]?.result).toBe(7);
      const failureResult = seen[0]?.result as { check(...c: unknown[]): string | undefined };
      expect(failureResult.check(RuntimeError)).toBe("RuntimeError");
      expect(seen[0]?.failures).toEqual(["bad"]);
      expect(seen[1]?.failures).toEqual(["bad"]);
    });

    it("a revert that throws ends the flow FAILURE, rethrows it, and stops later reverts", async () => {
      const e = make(linearFlow("revert", progressing("task1"), nasty("nasty"), failing("fail")));
      const capture = captureListener(e, { flow: false });
      const error = await rejection(e.run());
      expect(error).toBeInstanceOf(RuntimeError);
      expect(error.message).toMatch(/^Gotcha/);
      expect(e.storage.flowDetail.state).toBe("FAILURE");
      expect(e.storage.getAtomState("fail")).toBe("REVERTED");
      expect(e.storage.getAtomState("nasty")).toBe("REVERT_FAILURE");
      expect(e.storage.getAtomState("task1")).toBe("SUCCESS");
      expect(capture.values).not.toContain("task1.t REVERTING");
      expect(capture.values).toContain("nasty.t REVERT_FAILURE(Failure: RuntimeError: Gotcha!)");
      expect(Object.keys(e.storage.executeFailures())).toEqual(["fail"]);
      expect(Object.keys(e.storage.revertFailures())).toEqual(["nasty"]);
      expect(e.storage.getRevertFailure("nasty")?.check(RuntimeError)).toBe("RuntimeError");
    });

    it("a nasty revert in a graph ends FAILURE (graph_flow_four_tasks_revert_failure)", async () => {
      const e = make(
        graphFlow(
          "g-3-nasty",
          nasty("task2", { provides: "b", requires: ["a"] }),
          failing("task3", { requires: ["b"] }),
          progressing("task1", { provides: "a" }),
        ),
      );
      await expect(e.run()).rejects.toThrow(/^Gotcha/);
      expect(e.storage.flowDetail.state).toBe("FAILURE");
    });
  });

  describe("graph flows", () => {
    it("runs tasks added out of order by their requires and provides", async () => {
      const flow = graphFlow("g-4")
        .add(progressing("task4", { provides: "d", requires: ["c"] }))
        .add(progressing("task2", { provides: "b", requires: ["a"] }))
        .add(progressing("task3", { provides: "c", requires: ["b"] }))
        .add(progressing("task1", { provides: "a" }));
      const e = make(flow);
      const capture = captureListener(e, { flow: false });
      await e.run();
      expect(capture.values).toEqual([
        "task1.t RUNNING", "task1.t SUCCESS(5)",
        "task2.t RUNNING", "task2.t SUCCESS(5)",
        "task3.t RUNNING", "task3.t SUCCESS(5)",
        "task4.t RUNNING", "task4.t SUCCESS(5)",
      ]);
      expect(e.storage.fetchAll()).toEqual({ a: 5, b: 5, c: 5, d: 5 });
    });

    it("a failure in the middle reverts in reverse dependency order", async () => {
      const e = make(
        graphFlow(
          "g-4-failing",
          progressing("task4", { provides: "d", requires: ["c"] }),
          progressing("task2", { provides: "b", requires: ["a"] }),
          failing("task3", { provides: "c", requires: ["b"] }),
          progressing("task1", { provides: "a" }),
        ),
      );
      const capture = captureListener(e, { flow: false });
      await expect(e.run()).rejects.toThrow(/^Woot/);
      expect(capture.values).toEqual([
        "task1.t RUNNING", "task1.t SUCCESS(5)",
        "task2.t RUNNING", "task2.t SUCCESS(5)",
        "task3.t RUNNING", `task3.t ${WOOT}`,
        "task3.t REVERTING", "task3.t REVERTED(None)",
        "task2.t REVERTING", "task2.t REVERTED(None)",
        "task1.t REVERTING", "task1.t REVERTED(None)",
      ]);
      expect(e.storage.flowDetail.state).toBe("REVERTED");
      expect(e.storage.getAtomState("task4")).toBe("PENDING");
    });

    it("multi-return and multi-argument tasks in a graph (rebind lists)", async () => {
      const sum = (name: string, rebind: string[], provides: string) =>
        task<{ x: number; y: number; z: number }>({
          name,
          requires: ["x", "y", "z"],
          rebind,
          provides,
          execute: ({ x, y, z }) => x + y + z,
        });
      const e = make(
        graphFlow(
          "g-3-multi",
          sum("task1", ["a", "b", "y"], "z"),
          task({ name: "task2", provides: ["a", "b", "c"], execute: () => [1, 3, 5] }),
          sum("task3", ["c", "b", "x"], "y"),
        ),
      );
      await e.prepare();
      e.inject({ x: 30 });
      await e.run();
      expect(e.storage.fetchAll()).toEqual({ a: 1, b: 3, c: 5, x: 30, y: 38, z: 42 });
    });
  });

  describe("deciders", () => {
    it.each([
      ["ALL", 1],
      ["ATOM", 4],
      ["FLOW", 2],
      ["NEIGHBORS", 3],
    ] as const)("depth %s: %i atoms run (decider_various_depths)", async (depth, ranHowMany) => {
      const sub = graphFlow("g_1", progressing("g_1-1"));
      const g1 = progressing("g-1");
      const g2 = progressing("g-2");
      const g3 = progressing("g-3");
      const g4 = progressing("g-4");
      const flow = graphFlow("g", g1, g2, sub, g3, g4);
      flow.link(g1, g2, { decider: () => false, deciderDepth: depth });
      flow.link(g2, sub);
      flow.link(g2, g3);
      flow.link(g3, g4);
      flow.link(g1, sub, { decider: () => true, deciderDepth: depth });
      const e = make(flow);
      const capture = captureListener(e, { flow: false });
      await e.run();
      expect(capture.values.filter((v) => v.endsWith("RUNNING"))).toHaveLength(ranHowMany);
      expect(e.storage.flowDetail.state).toBe("SUCCESS");
      expect(e.storage.getAtomState("g-2")).toBe("IGNORE");
    });

    it("jumps over an ignored atom at ATOM depth (decider_jump_over_atom)", async () => {
      // TaskFlow adds a, b, c with resolve_requires=False, all providing `value`; a graph flow
      // here refuses two providers of one name, so b provides its own name and c reads a's.
      const addOne = (name: string, provides: string, extra: { inject?: Record<string, unknown> } = {}) =>
        task<{ value: number }>({ name, requires: ["value"], provides, ...extra, execute: ({ value }) => value + 1 });
      const a = addOne("a", "value", { inject: { value: 0 } });
      const b = addOne("b", "b_value");
      const c = addOne("c", "c_value");
      const flow = graphFlow("g", a, b, c);
      flow.link(a, b, { decider: () => false, deciderDepth: "ATOM" });
      flow.link(b, c);
      const e = make(flow);
      await e.run();
      expect(e.storage.getResult("c")).toBe(2);
      expect(e.storage.getAtomState("b")).toBe("IGNORE");
      expect(e.storage.fetchAll()).toEqual({ value: 1, c_value: 2 });
    });

    it("jumps over a failing atom at ATOM depth (decider_jump_over_bad_atom)", async () => {
      const a = noop("a");
      const b = failing("b");
      const c = noop("c");
      const flow = graphFlow("g", a, b, c);
      flow.link(a, b, { decider: () => false, deciderDepth: "ATOM" });
      flow.link(b, c);
      const e = make(flow);
      await e.run();
      expect(e.storage.getAtomState("b")).toBe("IGNORE");
      expect(e.storage.getAtomState("c")).toBe("SUCCESS");
    });

    // Regression test for a fixed bug (src/engine/engine.ts, startReverting/openBackward with src/engine/gates.ts): the
    // backward gates count only direct successors and treat an IGNOREd atom as done from the
    // start, so "a" (whose only successor is the ignored "b") is ready to revert at once, while
    // "c" (after "b") has not been reverted yet. TaskFlow waits for every transitive successor
    // (selector._get_maybe_ready_for_revert walks depth_first_iterate FORWARD): c REVERTED comes
    // before a REVERTING on every engine. The parallel engine starts both reverts together.
    it("reverts around an ignored atom (decider_revert)", async () => {
      const a = noop("a");
      const b = noop("b");
      const c = failing("c");
      const flow = graphFlow("g", a, b, c);
      flow.link(a, b, { decider: () => false, deciderDepth: "ATOM" });
      flow.link(b, c);
      const e = make(flow);
      const capture = captureListener(e, { flow: false });
      await expect(e.run()).rejects.toBeInstanceOf(RuntimeError);
      expect(capture.values).toEqual([
        "a.t RUNNING",
        "a.t SUCCESS(None)",
        "b.t IGNORE",
        "c.t RUNNING",
        `c.t ${WOOT}`,
        "c.t REVERTING",
        "c.t REVERTED(None)",
        "a.t REVERTING",
        "a.t REVERTED(None)",
      ]);
    });

    // BUG: as above. Added in the order c, b, a the serial engine also reverts "a" before "c"
    // (reverse compile order picks a first, since the ignored b counts as already reverted).
    // Expected, as TaskFlow 5.0 gives on both engines for this add order: c reverts, then a.
    it("reverts the failed atom before an atom linked to it through an ignored one (any add order)", async () => {
      const a = noop("a");
      const b = noop("b");
      const c = failing("c");
      const flow = graphFlow("g", c, b, a);
      flow.link(a, b, { decider: () => false, deciderDepth: "ATOM" });
      flow.link(b, c);
      const e = make(flow);
      const capture = captureListener(e, { flow: false });
      await expect(e.run()).rejects.toBeInstanceOf(RuntimeError);
      expect(capture.values).toEqual([
        "a.t RUNNING",
        "a.t SUCCESS(None)",
        "b.t IGNORE",
        "c.t RUNNING",
        `c.t ${WOOT}`,
        "c.t REVERTING",
        "c.t REVERTED(None)",
        "a.t REVERTING",
        "a.t REVERTED(None)",
      ]);
    });

    it("a False decider into a subflow ignores all its tasks; the deciders get the sources' results", async () => {
      const histories: Array<Record<string, unknown>> = [];
      const task1 = progressing("task1");
      const task2 = progressing("task2");
      const sub = linearFlow("more-work", linearFlow("more-more-work", progressing("task3"), progressing("task4")));
      const flow = graphFlow("main-work", task1, task2);
      flow.link(task1, task2);
      flow.add(sub);
      flow.link(task2, sub, {
        decider: (h) => {
          histories.push(h);
          return false;
        },
      });
      const e = make(flow);
      const capture = captureListener(e, { flow: false });
      await e.run();
      expect(capture.values).toEqual([
        "task1.t RUNNING", "task1.t SUCCESS(5)",
        "task2.t RUNNING", "task2.t SUCCESS(5)",
        "task3.t IGNORE", "task4.t IGNORE",
      ]);
      expect(histories).toEqual([{ task2: 5 }]);
      expect(e.storage.flowDetail.state).toBe("SUCCESS");
    });

    it("a join where one incoming link votes False is ignored (diamond)", async () => {
      const [t1, t2, t3, t4] = ["task1", "task2", "task3", "task4"].map((n) => progressing(n)) as [
        ReturnType<typeof progressing>, ReturnType<typeof progressing>, ReturnType<typeof progressing>, ReturnType<typeof progressing>,
      ];
      const flow = graphFlow("root", t1, t2, t3, t4);
      flow.link(t1, t2);
      flow.link(t2, t4, { decider: () => false });
      flow.link(t1, t3);
      flow.link(t3, t4, { decider: () => true });
      const e = make(flow);
      const capture = captureListener(e, { flow: false });
      await e.run();
      expect(new Set(capture.values)).toEqual(
        new Set([
          "task1.t RUNNING", "task1.t SUCCESS(5)",
          "task2.t RUNNING", "task2.t SUCCESS(5)",
          "task3.t RUNNING", "task3.t SUCCESS(5)",
          "task4.t IGNORE",
        ]),
      );
      expect(capture.values).toHaveLength(7);
      expect(e.storage.getAtomState("task4")).toBe("IGNORE");
      expect(e.storage.detail("task4").intention).toBe("IGNORE");
    });

    it("reset() puts ignored atoms back to PENDING and they run when the decider allows", async () => {
      let allow = false;
      const [t1, t2, t3] = ["task1", "task2", "task3"].map((n) => progressing(n)) as [
        ReturnType<typeof progressing>, ReturnType<typeof progressing>, ReturnType<typeof progressing>,
      ];
      const flow = graphFlow("root", t1, t2, t3);
      flow.link(t1, t2);
      flow.link(t2, t3, { decider: () => allow });
      const e = make(flow);
      const capture = captureListener(e, { flow: false });
      await e.run();
      expect(capture.values).toEqual(["task1.t RUNNING", "task1.t SUCCESS(5)", "task2.t RUNNING", "task2.t SUCCESS(5)", "task3.t IGNORE"]);
      expect(e.storage.getAtomState("task3")).toBe("IGNORE");
      expect(e.storage.detail("task3").intention).toBe("IGNORE");

      await e.reset();
      for (const n of ["task1", "task2", "task3"]) {
        expect(e.storage.getAtomState(n)).toBe("PENDING");
        expect(e.storage.detail(n).intention).toBe("EXECUTE");
      }
      allow = true;
      capture.values.length = 0;
      await e.run();
      expect(capture.values).toEqual([
        "task1.t RUNNING", "task1.t SUCCESS(5)",
        "task2.t RUNNING", "task2.t SUCCESS(5)",
        "task3.t RUNNING", "task3.t SUCCESS(5)",
      ]);
    });
  });

  describe("stored values and optional arguments", () => {
    const one = () => task({ name: "one", provides: "x", execute: () => 1 });

    it("a store value wins over a task's own output", async () => {
      const e = make(linearFlow("flow", one()), { store: { x: 0 } });
      await e.run();
      expect(e.storage.fetch("x")).toBe(0);
      expect(e.storage.fetchAll()).toEqual({ x: [0, 1] });
    });

    it("a single result is fetched as is", async () => {
      const e = make(linearFlow("flow", one()));
      await e.run();
      expect(e.storage.fetch("x")).toBe(1);
      expect(e.storage.fetchAll()).toEqual({ x: 1 });
    });

    it("a task requiring and providing the same name sees the stored value", async () => {
      const e = make(
        linearFlow("flow", task<{ x: number }>({ name: "t", requires: ["x"], provides: "x", execute: () => 1 })),
        { store: { x: 0 } },
      );
      await e.run();
      expect(e.storage.fetchAll()).toEqual({ x: [0, 1] });
    });

    it("every task sees the stored value rather than the previous task's output", async () => {
      const seen: number[] = [];
      const addOne = (name: string) =>
        task<{ value: number }>({
          name,
          requires: ["value"],
          provides: "value",
          execute: ({ value }) => {
            seen.push(value);
            return value + 1;
          },
        });
      await run(linearFlow("flow", addOne("a"), addOne("b"), addOne("c")), { engine, store: { value: 0 } });
      expect(seen).toEqual([0, 0, 0]);
    });

    it("without a store value, each task sees the previous one's output", async () => {
      const seen: number[] = [];
      const addOne = (name: string, rebind?: Record<string, string>) =>
        task<{ value: number }>({
          name,
          requires: ["value"],
          provides: "value",
          ...(rebind ? { rebind } : {}),
          execute: ({ value }) => {
            seen.push(value);
            return value + 1;
          },
        });
      await run(linearFlow("flow", addOne("a", { value: "source" }), addOne("b"), addOne("c")), { engine, store: { source: 0 } });
      expect(seen).toEqual([0, 1, 2]);
    });

    const optionalTask = (inject?: Record<string, number>) =>
      task<{ a: number; b: number }>({
        name: "optional",
        requires: ["a"],
        optional: { b: 5 },
        provides: "result",
        ...(inject ? { inject } : {}),
        execute: ({ a, b }) => a * b,
      });

    it.each([
      [undefined, { a: 3 }, 15],
      [undefined, { a: 3, b: 7 }, 21],
      [{ a: 10 }, { a: 3 }, 50],
      [{ a: 10 }, { a: 3, b: 7 }, 70],
      [{ b: 1000 }, { a: 3 }, 3000],
      [{ b: 1000 }, { a: 3, b: 7 }, 3000],
    ])("optional arguments: inject %j, store %j gives %i", async (inject, store, result) => {
      const e = make(linearFlow("flow", optionalTask(inject)), { store });
      await e.run();
      expect(e.storage.fetchAll()).toEqual({ ...store, result });
    });

    it("an atom-level inject through storage.injectAtomArgs fills an optional argument", async () => {
      const e = make(linearFlow("flow", optionalTask()), { store: { a: 3 } });
      await e.prepare();
      e.injectAtomArgs("optional", { b: 1000 });
      await e.run();
      expect(e.storage.fetch("result")).toBe(3000);
    });
  });

  describe("running again and reset()", () => {
    it("a completed engine run again runs nothing; after reset() everything runs again", async () => {
      const e = make(linearFlow("root", progressing("task1"), progressing("task2"), progressing("task3")));
      const capture = captureListener(e, { flow: false });
      const expected = [
        "task1.t RUNNING", "task1.t SUCCESS(5)",
        "task2.t RUNNING", "task2.t SUCCESS(5)",
        "task3.t RUNNING", "task3.t SUCCESS(5)",
      ];
      await e.run();
      expect(capture.values).toEqual(expected);
      capture.values.length = 0;
      await e.run();
      expect(capture.values).toEqual([]);
      await e.reset();
      // A reset is a transition like any other: checked, stamped and announced.
      expect(capture.values).toEqual(["task1.t PENDING", "task2.t PENDING", "task3.t PENDING"]);
      expect(e.storage.detail("task1").timestamps?.PENDING).toBeDefined();
      capture.values.length = 0;
      await e.run();
      expect(capture.values).toEqual(expected);
    });

    it("a failed engine after reset() runs and reverts the same way", async () => {
      const e = make(linearFlow("root", progressing("task1"), progressing("task2"), failing("task3")));
      const capture = captureListener(e, { flow: false });
      const expected = [
        "task1.t RUNNING", "task1.t SUCCESS(5)",
        "task2.t RUNNING", "task2.t SUCCESS(5)",
        "task3.t RUNNING", `task3.t ${WOOT}`,
        "task3.t REVERTING", "task3.t REVERTED(None)",
        "task2.t REVERTING", "task2.t REVERTED(None)",
        "task1.t REVERTING", "task1.t REVERTED(None)",
      ];
      await expect(e.run()).rejects.toBeInstanceOf(RuntimeError);
      expect(capture.values).toEqual(expected);
      await e.reset();
      capture.values.length = 0;
      await expect(e.run()).rejects.toBeInstanceOf(RuntimeError);
      expect(capture.values).toEqual(expected);
    });

    it("a FAILURE flow (a revert failed) run again runs nothing, is stored REVERTED and rejects with both failures, as TaskFlow", async () => {
      const calls: string[] = [];
      const a = task({ name: "a", execute: () => void calls.push("a execute"), revert: () => { calls.push("a revert"); throw new RuntimeError("revert broke"); } });
      const e = make(linearFlow("root", a, failing("b")));
      await expect(e.run()).rejects.toThrow("revert broke");
      expect(e.storage.flowState).toBe("FAILURE");
      calls.length = 0;
      const error = await rejection(e.run());
      expect(error.name).toBe("WrappedFailure");
      expect(error.message).toMatch(/Woot!.*revert broke/);
      expect(calls).toEqual([]);
      expect(e.storage.flowState).toBe("REVERTED");
      expect(e.storage.getAtomState("a")).toBe("REVERT_FAILURE");
    });

    it("suspended from runIter, resumed, then reset and run in full (suspended_reset_run_again)", async () => {
      const e = make(linearFlow("root", progressing("task1"), progressing("task2"), progressing("task3")));
      const capture = captureListener(e, { flow: false });
      const seen: string[] = [];
      let i = 0;
      for await (const s of runIter(e)) {
        seen.push(s);
        if (++i === 6) e.suspend(); // at the second WAITING: task2 is running
      }
      expect(seen).toEqual(["RESUMING", "SCHEDULING", "WAITING", "ANALYZING", "SCHEDULING", "WAITING", "ANALYZING", "SUSPENDED"]);
      expect(capture.values).toEqual(["task1.t RUNNING", "task1.t SUCCESS(5)", "task2.t RUNNING", "task2.t SUCCESS(5)"]);
      expect(e.storage.flowDetail.state).toBe("SUSPENDED");

      capture.values.length = 0;
      await e.run();
      expect(capture.values).toEqual(["task3.t RUNNING", "task3.t SUCCESS(5)"]);

      await e.reset();
      capture.values.length = 0;
      await e.run();
      expect(capture.values).toHaveLength(6);
      expect(capture.values.filter((v) => v.endsWith("RUNNING"))).toEqual(["task1.t RUNNING", "task2.t RUNNING", "task3.t RUNNING"]);
    });
  });

  describe("validation", () => {
    it("a missing requirement raises MissingDependencies at validate, naming atom and symbol", async () => {
      const e = make(
        graphFlow(
          "missing-many",
          task({ name: "task1", requires: ["a", "b", "c"], execute: () => 1 }),
          task<{ x: unknown; y: unknown; z: unknown }>({ name: "task2", requires: ["x", "y", "z"], rebind: ["e", "f", "g"], execute: () => 1 }),
        ),
      );
      await e.prepare();
      let error: unknown;
      try {
        e.validate();
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(MissingDependencies);
      const missing = (error as MissingDependencies).missing;
      expect(missing).toEqual(
        expect.arrayContaining([
          { atom: "task1", symbol: "a" },
          { atom: "task1", symbol: "b" },
          { atom: "task1", symbol: "c" },
          { atom: "task2", symbol: "e" },
          { atom: "task2", symbol: "f" },
          { atom: "task2", symbol: "g" },
        ]),
      );
      expect(missing).toHaveLength(6);
      const message = (error as Error).message;
      expect(message).toContain("task1");
      expect(message).toContain('"a"');
      expect(message).toContain("task2");
      expect(message).toContain('"g"');
      // run() validates too, and nothing runs.
      const capture = captureListener(e, { flow: false });
      await expect(e.run()).rejects.toBeInstanceOf(MissingDependencies);
      expect(capture.values).toEqual([]);
    });

    it("a requirement satisfied by the store passes validation", async () => {
      const e = make(linearFlow("f", task({ name: "t", requires: ["a"], provides: "b", execute: ({ a }) => a })), { store: { a: 4 } });
      await e.prepare();
      expect(() => e.validate()).not.toThrow();
      await e.run();
      expect(e.storage.fetch("b")).toBe(4);
    });
  });

  describe("progress", () => {
    it("a task with two updates fires four progress events and stores meta.progress", async () => {
      const t = task({
        name: "work",
        execute: (_args, ctx) => {
          ctx.updateProgress(0.5, { step: 1 });
          ctx.updateProgress(0.7, { step: 2 });
          return "done";
        },
      });
      const e = make(linearFlow("flow", t));
      const events: ProgressEvent[] = [];
      e.on("progress", (ev) => events.push(ev));
      await e.run();
      expect(events.map((ev) => ev.progress)).toEqual([0, 0.5, 0.7, 1]);
      expect(events.map((ev) => ev.name)).toEqual(["work", "work", "work", "work"]);
      expect(events[1]?.details).toEqual({ step: 1 });
      const meta = e.storage.detail("work");
      expect(meta.progress).toBe(1);
      expect(meta.progressDetails).toEqual({ atProgress: 0.7, details: { step: 2 } });
    });

    it("progress is clamped to 0..1", async () => {
      const e = make(
        task({
          name: "work",
          execute: (_args, ctx) => {
            ctx.updateProgress(7);
            ctx.updateProgress(-2);
          },
        }),
      );
      const events: number[] = [];
      e.on("progress", (ev) => events.push(ev.progress));
      await e.run();
      expect(events).toEqual([0, 1, 0, 1]);
    });

    it("a task's context reads the same destructured as through ctx, in execute and in revert", async () => {
      // The context is a class with getters (speed, issue 10): destructuring must still read them.
      const seen: Array<Record<string, unknown>> = [];
      const work = task({
        name: "work",
        execute: (_args, { name, attempt, idempotencyKey, signal, updateProgress }) => {
          updateProgress(0.5);
          seen.push({ name, attempt, idempotencyKey, aborted: signal.aborted });
          return 1;
        },
        revert: (_args, { name, attempt, idempotencyKey, signal, updateProgress, result, flowFailures }) => {
          updateProgress(0.25);
          seen.push({ name, attempt, idempotencyKey, aborted: signal.aborted, result, failed: Object.keys(flowFailures) });
        },
      });
      const e = make(linearFlow("flow", work, failing("boom")));
      const progress: number[] = [];
      e.on("progress", (ev) => ev.name === "work" && progress.push(ev.progress));
      await expect(e.run()).rejects.toThrow();
      const key = `${e.storage.flowDetail.uuid}:work:0`;
      expect(seen).toEqual([
        { name: "work", attempt: 1, idempotencyKey: key, aborted: false },
        { name: "work", attempt: 1, idempotencyKey: key, aborted: false, result: 1, failed: ["boom"] },
      ]);
      expect(progress).toEqual([0, 0.5, 1, 0, 0.25, 1]);
    });

    it("progress events for each of two tasks", async () => {
      const work = (name: string) =>
        task<{ chunks: number[] }>({
          name,
          requires: ["chunks"],
          execute: ({ chunks }, ctx) => {
            for (const c of chunks) ctx.updateProgress(c);
            return chunks.length;
          },
        });
      const e = make(linearFlow("flow", work("work-1"), work("work-2")), { store: { chunks: [0.2, 0.5, 0.8] } });
      const byName: Record<string, number[]> = {};
      e.on("progress", (ev) => (byName[ev.name] ??= []).push(ev.progress));
      await e.run();
      expect(byName).toEqual({ "work-1": [0, 0.2, 0.5, 0.8, 1], "work-2": [0, 0.2, 0.5, 0.8, 1] });
    });
  });

  describe("listeners and stored values", () => {
    it("a listener that throws does not stop the engine; its error is reported", async () => {
      const reported: unknown[] = [];
      const e = make(linearFlow("f", progressing("a"), progressing("b")), { onListenerError: (err) => reported.push(err) });
      e.on("atom", () => {
        throw new Error("listener broke");
      });
      e.on("flow", () => {
        throw new Error("flow listener broke");
      });
      const capture = captureListener(e, { flow: false });
      await e.run();
      expect(e.storage.flowDetail.state).toBe("SUCCESS");
      expect(capture.values).toEqual(["a.t RUNNING", "a.t SUCCESS(5)", "b.t RUNNING", "b.t SUCCESS(5)"]);
      expect(reported.length).toBeGreaterThanOrEqual(4);
      expect((reported[0] as Error).message).toMatch(/broke/);
    });

    it("a listener that throws without onListenerError is swallowed", async () => {
      const e = make(linearFlow("f", progressing("a")));
      e.on("atom", () => {
        throw new Error("listener broke");
      });
      e.on("progress", () => {
        throw new Error("progress listener broke");
      });
      await e.run();
      expect(e.storage.getAtomState("a")).toBe("SUCCESS");
    });

    it("a result that cannot be stored (a function) fails the task with InvalidFormat naming it", async () => {
      const e = make(linearFlow("f", task({ name: "returns-fn", provides: "x", execute: () => ({ callback: () => 1 }) })));
      const capture = captureListener(e, { flow: false });
      const error = await rejection(e.run());
      expect(error).toBeInstanceOf(InvalidFormat);
      expect(error.message).toContain("returns-fn");
      expect(error.message).toContain("callback");
      expect(e.storage.getAtomState("returns-fn")).toBe("REVERTED");
      expect(e.storage.getFailure("returns-fn")?.check(InvalidFormat)).toBe("InvalidFormat");
      expect(capture.values[1]).toMatch(/^returns-fn\.t FAILURE\(Failure: InvalidFormat: /);
      expect(e.storage.flowDetail.state).toBe("REVERTED");
    });

    // Issue 11, item 7: a value no backend keeps as it is fails the task once, before the write,
    // instead of failing every write (the flow stored SUSPENDED with the task RUNNING, run again
    // on every resume).
    class Point {
      x = 1;
    }
    it.each([
      ["a URL (structured clone refuses it)", () => new URL("https://example.com/"), "result (a URL instance)"],
      ["a class instance (structured clone drops its class)", () => ({ at: new Point() }), "result.at (a Point instance)"],
      ["an error", () => [new RangeError("returned, not thrown")], "result[0] (a RangeError instance)"],
      ["a bigint (JSON cannot write it)", () => ({ n: 10n }), "result.n (a bigint)"],
      ["a cycle (JSON cannot write it)", () => {
        const a: Record<string, unknown> = {};
        a.self = { a };
        return a;
      }, "result.self.a (a cycle)"],
    ])("a result no backend keeps as it is, %s, fails the task once with InvalidFormat, and the log book says REVERTED", async (_what, value, where) => {
      const backend = new MemoryBackend();
      let runs = 0;
      const e = make(linearFlow("f", task({ name: "odd", execute: () => (runs++, value()) })), { backend });
      const error = await rejection(e.run());
      expect(error).toBeInstanceOf(InvalidFormat);
      expect(error.message).toContain(`the result of task "odd" cannot be stored in a log book: ${where}`);
      expect(runs).toBe(1);
      expect((await backend.getFlowDetail(e.flowDetailId)).state).toBe("REVERTED");
      const [stored] = await backend.getAtomDetails(e.flowDetailId);
      expect(stored?.state).toBe("REVERTED");
      expect(stored?.failure?.excTypeNames[0]).toBe("InvalidFormat");
    });

    it("dates, maps, sets, bytes, null-prototype objects and shared (not cyclic) references are stored", async () => {
      const shared = { s: 1 };
      const value = { when: new Date(5), map: new Map([["k", [1]]]), set: new Set(["v"]), bytes: new Uint8Array([1, 2]), bare: Object.assign(Object.create(null), { b: 2 }), twice: [shared, shared] };
      const backend = new MemoryBackend();
      const e = make(task({ name: "fine", provides: "v", execute: () => value }), { backend });
      await e.run();
      expect((await backend.getAtomDetails(e.flowDetailId))[0]?.result).toEqual(value);
    });

    it("an error whose extra cannot be stored fails its task once with InvalidFormat, caused by the error without it", async () => {
      const backend = new MemoryBackend();
      const thrown = Object.assign(new RuntimeError("declined"), { extra: { code: 51, retry: () => true } });
      let runs = 0;
      const e = make(linearFlow("f", task({ name: "pay", execute: () => {
        runs++;
        throw thrown;
      } })), { backend });
      const error = await rejection(e.run());
      expect(error).toBeInstanceOf(InvalidFormat);
      expect(error.message).toContain("extra.retry (a function)");
      expect((error as { cause?: unknown }).cause).toBe(thrown);
      expect(runs).toBe(1);
      expect((await backend.getFlowDetail(e.flowDetailId)).state).toBe("REVERTED");
      const failure = Failure.fromJSON((await backend.getAtomDetails(e.flowDetailId))[0]?.failure);
      expect(failure.name).toBe("InvalidFormat");
      expect(failure.causes[0]?.name).toBe("RuntimeError");
      expect(failure.causes[0]?.exceptionStr).toBe("declined");
      expect(failure.causes[0]?.extra).toBeUndefined();
    });

    it("a value that cannot be stored is refused where it comes in: the store, inject, injectAtomArgs, progress details", async () => {
      const url = new URL("https://example.com/");
      const refused = async (e: ReturnType<typeof make>) => expect(await rejection(e.run())).toBeInstanceOf(InvalidFormat);
      await refused(make(noop("a"), { store: { url } }));

      const e = make(linearFlow("f", noop("a")), { backend: new MemoryBackend() });
      await e.prepare();
      expect(() => e.inject({ url })).toThrow(InvalidFormat);
      expect(() => e.injectAtomArgs("a", { url })).toThrow(InvalidFormat);
      e.inject({ fine: 1 });
      await e.run();
      expect(e.storage.flowDetail.store).toEqual({ fine: 1 });
      expect(e.storage.detail("a").injected).toBeUndefined();

      const reporter = make(task({ name: "r", execute: (_args, ctx) => ctx.updateProgress(0.5, { url }) }));
      const error = await rejection(reporter.run());
      expect(error).toBeInstanceOf(InvalidFormat);
      expect(error.message).toContain("progress details");
      expect(reporter.storage.getAtomState("r")).toBe("REVERTED");
    });

    it("an async task's result is awaited and stored", async () => {
      const e = make(
        linearFlow(
          "f",
          task({
            name: "slow",
            provides: "x",
            execute: async () => {
              await sleep(5);
              return { nested: [1, 2] };
            },
          }),
        ),
      );
      await e.run();
      expect(e.storage.fetch("x")).toEqual({ nested: [1, 2] });
    });
  });

  describe("resumption", () => {
    it("resumes a flow detail where task1 is SUCCESS with result 17: only task2 runs", async () => {
      const backend = new MemoryBackend();
      const flow = () =>
        linearFlow("lf-2-r", progressing("task1", { provides: "x1" }), progressing("task2", { provides: "x2" }));
      // Create the flow detail and its atom details without running anything.
      const first = make(flow(), { backend });
      await storeEveryAtom(first);
      const dump = backend.dump();
      const td = dump.atoms.find((a) => (a as { name: string }).name === "task1") as Record<string, unknown>;
      td.state = "SUCCESS";
      td.result = 17;
      const restored = memoryBackendFromDump(JSON.parse(JSON.stringify(dump)));

      const e = make(flow(), { backend: restored, flowDetailId: first.flowDetailId });
      const capture = captureListener(e, { flow: false });
      await e.run();
      expect(capture.values).toEqual(["task2.t RUNNING", "task2.t SUCCESS(5)"]);
      expect(e.storage.fetchAll()).toEqual({ x1: 17, x2: 5 });
    });

    it("resumes after a suspension from an atom listener: a later engine runs only the rest", async () => {
      const backend = new MemoryBackend();
      const first = make(
        linearFlow("lf-2-r", task({ name: "task1", provides: "x1", execute: () => 17 }), progressing("task2", { provides: "x2" })),
        { backend },
      );
      first.on("atom", (ev) => {
        if (ev.name === "task1" && ev.state === "SUCCESS") first.suspend();
      });
      await first.run();
      expect(first.storage.flowDetail.state).toBe("SUSPENDED");
      expect(first.storage.getAtomState("task2")).toBe("PENDING");

      const task1Again = task({ name: "task1", provides: "x1", execute: () => { throw new Error("must not run again"); } });
      const e = make(linearFlow("lf-2-r", task1Again, progressing("task2", { provides: "x2" })), {
        backend,
        flowDetailId: first.flowDetailId,
      });
      const capture = captureListener(e);
      await e.run();
      expect(capture.values).toEqual(["lf-2-r.f RUNNING", "task2.t RUNNING", "task2.t SUCCESS(5)", "lf-2-r.f SUCCESS"]);
      expect(e.storage.fetchAll()).toEqual({ x1: 17, x2: 5 });
      expect(e.flowDetailId).toBe(first.flowDetailId);
    });
  });

  describe("statistics", () => {
    it("counts executed and reverted atoms", async () => {
      const e = make(linearFlow("f", progressing("a"), progressing("b"), failing("c")));
      await expect(e.run()).rejects.toBeInstanceOf(RuntimeError);
      expect(e.statistics.executed).toBe(3);
      expect(e.statistics.reverted).toBe(3);
      expect(e.statistics.commits).toBeGreaterThan(0);
    });
  });
});

describe("serial engine only", () => {
  it("unordered atoms with priorities 0-9 start from task9 down to task0", async () => {
    const flow = unorderedFlow("p-1");
    for (let i = 0; i < 10; i++) flow.add(progressing(`task${i}`, { priority: i }));
    const e = load(flow, { engine: "serial" });
    const capture = captureListener(e, { flow: false });
    await e.run();
    expect(capture.values.filter((v) => v.endsWith("RUNNING"))).toEqual(
      [9, 8, 7, 6, 5, 4, 3, 2, 1, 0].map((i) => `task${i}.t RUNNING`),
    );
  });

  // A difference from TaskFlow (README, "Differences from TaskFlow"): its serial engine starts
  // every ready atom of a round before it handles a failure, so it executes then reverts sibling.
  it("handles a failure before it starts the next atom: a failing atom's unordered sibling never starts", async () => {
    const calls: string[] = [];
    const sibling = task({ name: "sibling", execute: () => void calls.push("sibling execute"), revert: () => void calls.push("sibling revert") });
    await expect(run(unorderedFlow("u", failing("fails"), sibling), { engine: "serial" })).rejects.toBeInstanceOf(RuntimeError);
    expect(calls).toEqual([]);
  });

  it("runs one atom at a time even in an unordered flow", async () => {
    let active = 0;
    let most = 0;
    const t = (name: string) =>
      task({
        name,
        execute: async () => {
          most = Math.max(most, ++active);
          await sleep(5);
          active--;
        },
      });
    await run(unorderedFlow("u", t("a"), t("b"), t("c"), t("d")), { engine: "serial" });
    expect(most).toBe(1);
  });
});

describe("parallel engine", () => {
  it("runs independent atoms at the same time", async () => {
    const n = 4;
    let active = 0;
    let most = 0;
    let release!: () => void;
    const barrier = new Promise<void>((resolve) => (release = resolve));
    let started = 0;
    const t = (name: string) =>
      task({
        name,
        execute: async () => {
          most = Math.max(most, ++active);
          if (++started === n) release();
          // Every task waits until all have started: a serial run would time out here.
          await Promise.race([barrier, sleep(2000).then(() => { throw new Error("not concurrent"); })]);
          active--;
          return name;
        },
      });
    const flow = unorderedFlow("u");
    for (let i = 0; i < n; i++) flow.add(t(`t${i}`));
    const e = load(flow, { engine: "parallel" });
    await e.run();
    expect(most).toBe(n);
    expect(e.storage.flowDetail.state).toBe("SUCCESS");
  });

  it("honours maxConcurrency", async () => {
    let active = 0;
    let most = 0;
    const t = (name: string) =>
      task({
        name,
        execute: async () => {
          most = Math.max(most, ++active);
          await sleep(10);
          active--;
        },
      });
    const flow = unorderedFlow("u");
    for (let i = 0; i < 6; i++) flow.add(t(`t${i}`));
    await run(flow, { engine: "parallel", maxConcurrency: 2 });
    expect(most).toBe(2);
  });

  it("never starts an atom before the atoms it depends on have finished", async () => {
    // a → b, a → c, b → d, c → d, d → e; with random delays, over many runs.
    const edges: Array<[string, string]> = [["a", "b"], ["a", "c"], ["b", "d"], ["c", "d"], ["d", "e"]];
    for (let round = 0; round < 25; round++) {
      const log: string[] = [];
      const t = (name: string, requires: string[], provides: string) =>
        task({
          name,
          requires,
          provides,
          execute: async () => {
            log.push(`start:${name}`);
            await sleep(Math.floor(Math.random() * 4));
            log.push(`end:${name}`);
            return name;
          },
        });
      const flow = graphFlow(
        "g",
        t("e", ["d_out"], "e_out"),
        t("d", ["b_out", "c_out"], "d_out"),
        t("c", ["a_out"], "c_out"),
        t("b", ["a_out"], "b_out"),
        t("a", [], "a_out"),
        t("free", [], "free_out"),
      );
      await run(flow, { engine: "parallel" });
      for (const [from, to] of edges) {
        expect(log.indexOf(`end:${from}`)).toBeGreaterThanOrEqual(0);
        expect(log.indexOf(`end:${from}`)).toBeLessThan(log.indexOf(`start:${to}`));
      }
      expect(log).toHaveLength(12);
    }
  });

  it("runs b and c of a diamond concurrently", async () => {
    let active = 0;
    let most = 0;
    const t = (name: string, requires: string[], provides: string) =>
      task({
        name,
        requires,
        provides,
        execute: async () => {
          most = Math.max(most, ++active);
          await sleep(15);
          active--;
          return 1;
        },
      });
    await run(
      graphFlow("g", t("a", [], "a_out"), t("b", ["a_out"], "b_out"), t("c", ["a_out"], "c_out"), t("d", ["b_out", "c_out"], "d_out")),
      { engine: "parallel" },
    );
    expect(most).toBe(2);
  });

  it("reverts everything that ran when one of two concurrent atoms fails", async () => {
    const e = load(
      unorderedFlow(
        "p-r-3",
        task({ name: "task1", execute: async () => { await sleep(5); } }),
        failing("fail"),
        task({ name: "task2", execute: async () => { await sleep(5); } }),
      ),
      { engine: "parallel" },
    );
    const capture = captureListener(e, { flow: false });
    await expect(e.run()).rejects.toThrow(/^Woot/);
    expect(capture.values).toContain(`fail.t ${WOOT}`);
    for (const n of ["task1", "fail", "task2"]) expect(["REVERTED", "PENDING"]).toContain(e.storage.getAtomState(n));
    expect(e.storage.flowDetail.state).toBe("REVERTED");
  });
});
