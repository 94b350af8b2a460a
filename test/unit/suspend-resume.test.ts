/**
 * Suspending and resuming, after TaskFlow's `test_suspend.py` and the resumption rules of the
 * reference (§1 "Suspend and resume"). In this port a resume is checked against the stored
 * definition: removing an atom or changing what it requires/provides is refused.
 */
import { describe, expect, it } from "vitest";
import { captureListener, graphFlow, IncompatibleVersion, InvalidFormat, linearFlow, load, MemoryBackend, MissingDependencies, SCHEMA_VERSION, StorageFailure, task, unorderedFlow, waitFor, type Engine, type FlowDetail, type FlowItem, type LogBook, type MemoryDump, readSnapshot, provide, revise, runIter } from "../../src/index.js";
import { memoryBackendFromDump } from "../../src/backend.js";
import { ENGINES, failing, progressing, rejection, RuntimeError, sleep, WOOT } from "./helpers.js";

/** Suspends the engine when atom `name` enters `state` (TaskFlow's SuspendingListener). */
function suspendOn(engine: Engine, name: string, state: string): void {
  engine.on("atom", (e) => {
    if (e.name === name && e.state === state) engine.suspend();
  });
}

const abc = () => linearFlow("linear", progressing("a"), progressing("b"), progressing("c"));
const abFailC = () => linearFlow("linear", progressing("a"), progressing("b"), failing("c"));

describe.each(ENGINES)("%s engine", (engine) => {
  const make = (flow: FlowItem, options: Parameters<typeof load>[1] = {}) => load(flow, { engine, ...options });

  it("suspending on an atom that never reaches the state does nothing (suspend_one_task)", async () => {
    const e = make(progressing("a"));
    suspendOn(e, "b", "SUCCESS");
    const capture = captureListener(e, { flow: false });
    await e.run();
    expect(e.storage.flowDetail.state).toBe("SUCCESS");
    expect(capture.values).toEqual(["a.t RUNNING", "a.t SUCCESS(5)"]);
    capture.values.length = 0;
    await e.run();
    expect(e.storage.flowDetail.state).toBe("SUCCESS");
    expect(capture.values).toEqual([]);
  });

  it("suspend after b succeeds: SUSPENDED; running again runs only c (suspend_linear_flow)", async () => {
    const e = make(abc());
    const capture = captureListener(e);
    suspendOn(e, "b", "SUCCESS");
    await e.run();
    expect(e.storage.flowDetail.state).toBe("SUSPENDED");
    expect(capture.values).toEqual([
      "linear.f RUNNING",
      "a.t RUNNING", "a.t SUCCESS(5)",
      "b.t RUNNING", "b.t SUCCESS(5)",
      "linear.f SUSPENDING",
      "linear.f SUSPENDED",
    ]);
    expect(e.storage.getAtomState("c")).toBe("PENDING");
    capture.values.length = 0;
    await e.run();
    expect(e.storage.flowDetail.state).toBe("SUCCESS");
    expect(capture.values).toEqual(["linear.f RUNNING", "c.t RUNNING", "c.t SUCCESS(5)", "linear.f SUCCESS"]);
  });

  it("a later engine on the same flow detail runs only c", async () => {
    const backend = new MemoryBackend();
    const e = make(abc(), { backend });
    suspendOn(e, "b", "SUCCESS");
    await e.run();
    expect(e.storage.flowDetail.state).toBe("SUSPENDED");
    expect((await backend.getFlowDetail(e.flowDetailId)).state).toBe("SUSPENDED");

    const e2 = make(abc(), { backend, flowDetailId: e.flowDetailId });
    const capture = captureListener(e2, { flow: false });
    await e2.run();
    expect(capture.values).toEqual(["c.t RUNNING", "c.t SUCCESS(5)"]);
    expect(e2.storage.flowDetail.state).toBe("SUCCESS");
    expect((await backend.getFlowDetail(e.flowDetailId)).state).toBe("SUCCESS");
  });

  it("suspend during revert; running again finishes the revert and raises Woot (suspend_linear_flow_on_revert)", async () => {
    const e = make(abFailC());
    suspendOn(e, "b", "REVERTED");
    const capture = captureListener(e, { flow: false });
    await e.run();
    expect(e.storage.flowDetail.state).toBe("SUSPENDED");
    expect(capture.values).toEqual([
      "a.t RUNNING", "a.t SUCCESS(5)",
      "b.t RUNNING", "b.t SUCCESS(5)",
      "c.t RUNNING", `c.t ${WOOT}`,
      "c.t REVERTING", "c.t REVERTED(None)",
      "b.t REVERTING", "b.t REVERTED(None)",
    ]);
    capture.values.length = 0;
    const error = await rejection(e.run());
    expect(error).toBeInstanceOf(RuntimeError);
    expect(error.message).toMatch(/^Woot/);
    expect(e.storage.flowDetail.state).toBe("REVERTED");
    expect(capture.values).toEqual(["a.t REVERTING", "a.t REVERTED(None)"]);
  });

  it("suspend during revert; a new engine finishes the revert and raises Woot from the stored failure", async () => {
    const backend = new MemoryBackend();
    const e = make(abFailC(), { backend });
    suspendOn(e, "b", "REVERTED");
    await e.run();
    expect(e.storage.flowDetail.state).toBe("SUSPENDED");

    // Through a JSON dump, as if another process resumed it: the live error is gone.
    const restored = memoryBackendFromDump(JSON.parse(JSON.stringify(backend.dump())) as MemoryDump);
    const e2 = make(abFailC(), { backend: restored, flowDetailId: e.flowDetailId });
    const capture = captureListener(e2, { flow: false });
    const error = await rejection(e2.run());
    expect(error).toBeInstanceOf(RuntimeError);
    expect(error.message).toMatch(/^Woot/);
    expect(e2.storage.flowDetail.state).toBe("REVERTED");
    expect(capture.values).toEqual(["a.t REVERTING", "a.t REVERTED(None)"]);
  });

  it("suspend from runIter at the first WAITING: task1 finishes, task2 waits (iter_suspend_resume)", async () => {
    const e = make(linearFlow("flow-2", progressing("task1"), progressing("task2")));
    const capture = captureListener(e, { flow: false });
    const states: string[] = [];
    for await (const s of runIter(e)) {
      states.push(s);
      if (s === "WAITING") e.suspend();
    }
    expect(states.at(-1)).toBe("SUSPENDED");
    expect(capture.values).toEqual(["task1.t RUNNING", "task1.t SUCCESS(5)"]);
    expect(e.storage.flowDetail.state).toBe("SUSPENDED");
    capture.values.length = 0;
    const again: string[] = [];
    for await (const s of runIter(e)) again.push(s);
    expect(again.at(-1)).toBe("SUCCESS");
    expect(capture.values).toEqual(["task2.t RUNNING", "task2.t SUCCESS(5)"]);
  });

  it("suspend() right after run() (while the run is starting, or still loading its flow) ends it before any atom starts", async () => {
    const backend = new MemoryBackend();
    const fresh = load(unorderedFlow("u", progressing("a"), progressing("b"), progressing("c")), { backend });
    await fresh.prepare();
    const running = fresh.run();
    fresh.suspend();
    await running;
    expect(fresh.storage.flowState).toBe("SUSPENDED");
    expect(fresh.storage.atomDetails().map((d) => d.state)).toEqual(["PENDING", "PENDING", "PENDING"]);

    // A resume: the run first reads the flow from the backend.
    const resumed = load(unorderedFlow("u", progressing("a"), progressing("b"), progressing("c")), { backend, flowDetailId: fresh.flowDetailId });
    const again = resumed.run();
    resumed.suspend();
    await again;
    expect(resumed.storage.flowState).toBe("SUSPENDED");
    expect(resumed.storage.atomDetails().map((d) => d.state)).toEqual(["PENDING", "PENDING", "PENDING"]);
    await resumed.run();
    expect(resumed.storage.flowState).toBe("SUCCESS");
  });

  it("suspend() on an engine that is not running does nothing", async () => {
    const e = make(abc());
    e.suspend();
    await e.prepare();
    e.suspend();
    await e.run();
    expect(e.storage.flowDetail.state).toBe("SUCCESS");
    e.suspend();
    expect(e.storage.flowDetail.state).toBe("SUCCESS");
  });

  describe("resuming with a changed definition", () => {
    const suspended = async () => {
      const backend = new MemoryBackend();
      const e = make(
        linearFlow(
          "linear",
          progressing("a", { provides: "x" }),
          task({ name: "b", requires: ["x"], provides: "y", execute: () => 5 }),
          progressing("c"),
        ),
        { backend },
      );
      suspendOn(e, "a", "SUCCESS");
      await e.run();
      expect(e.storage.flowDetail.state).toBe("SUSPENDED");
      return { backend, id: e.flowDetailId };
    };

    it("removing an atom and changing requires are refused with IncompatibleVersion listing each change", async () => {
      const { backend, id } = await suspended();
      const changed = linearFlow(
        "linear",
        progressing("a", { provides: "x" }),
        task({ name: "b", requires: ["x", "w"], provides: "y", execute: () => 5 }),
      );
      const e = make(changed, { backend, flowDetailId: id, store: { w: 1 } });
      const capture = captureListener(e);
      const error = await rejection(e.run());
      expect(error).toBeInstanceOf(IncompatibleVersion);
      const differences = (error as IncompatibleVersion).differences;
      expect(differences).toHaveLength(2);
      expect(differences.some((d) => d.includes('"c"') && /removed/.test(d))).toBe(true);
      expect(differences.some((d) => d.includes('"b"') && d.includes("requires"))).toBe(true);
      expect(error.message).toContain('"c"');
      expect(capture.values).toEqual([]);
      // Nothing was changed in the log book.
      expect((await backend.getFlowDetail(id)).state).toBe("SUSPENDED");
    });

    it("changing provides or the major version is refused; a minor version bump is allowed", async () => {
      const { backend, id } = await suspended();
      const withProvides = linearFlow(
        "linear",
        progressing("a", { provides: "x" }),
        task({ name: "b", requires: ["x"], provides: "z", execute: () => 5 }),
        progressing("c"),
      );
      const e1 = await rejection(make(withProvides, { backend, flowDetailId: id }).run());
      expect(e1).toBeInstanceOf(IncompatibleVersion);
      expect((e1 as IncompatibleVersion).differences).toEqual([expect.stringMatching(/"b".*provides/)]);

      const major = linearFlow(
        "linear",
        progressing("a", { provides: "x", version: "2.0" }),
        task({ name: "b", requires: ["x"], provides: "y", execute: () => 5 }),
        progressing("c"),
      );
      const e2 = await rejection(make(major, { backend, flowDetailId: id }).run());
      expect(e2).toBeInstanceOf(IncompatibleVersion);
      expect((e2 as IncompatibleVersion).differences).toEqual([expect.stringMatching(/"a".*major version/)]);

      const minor = linearFlow(
        "linear",
        progressing("a", { provides: "x", version: "1.1" }),
        task({ name: "b", requires: ["x"], provides: "y", execute: () => 5 }),
        progressing("c"),
      );
      const e3 = make(minor, { backend, flowDetailId: id });
      const capture = captureListener(e3, { flow: false });
      await e3.run();
      expect(capture.values).toEqual(["b.t RUNNING", "b.t SUCCESS(5)", "c.t RUNNING", "c.t SUCCESS(5)"]);
    });

    it("adding an atom is allowed: the new atom starts PENDING and runs", async () => {
      const { backend, id } = await suspended();
      const bigger = linearFlow(
        "linear",
        progressing("a", { provides: "x" }),
        task({ name: "b", requires: ["x"], provides: "y", execute: () => 5 }),
        progressing("c"),
        progressing("d"),
      );
      const e = make(bigger, { backend, flowDetailId: id });
      const capture = captureListener(e, { flow: false });
      await e.run();
      expect(capture.values).toEqual(["b.t RUNNING", "b.t SUCCESS(5)", "c.t RUNNING", "c.t SUCCESS(5)", "d.t RUNNING", "d.t SUCCESS(5)"]);
      expect(e.storage.fetchAll()).toEqual({ x: 5, y: 5 });
      const names = (await backend.getAtomDetails(id)).map((a) => a.name).sort();
      expect(names).toEqual(["a", "b", "c", "d"]);
    });

    it("injected inputs removed before resuming raise MissingDependencies (storage_is_rechecked)", async () => {
      const backend = new MemoryBackend();
      const flow = () => linearFlow("linear", progressing("b", { requires: ["foo"] }), progressing("c"));
      const e = make(flow(), { backend });
      await e.prepare();
      e.inject({ foo: "bar" });
      suspendOn(e, "b", "SUCCESS");
      await e.run();
      expect(e.storage.flowDetail.state).toBe("SUSPENDED");
      const dump = backend.dump();
      const fd = dump.flows[0] as { store?: Record<string, unknown> };
      expect(fd.store).toEqual({ foo: "bar" });
      fd.store = {};
      const e2 = make(flow(), { backend: memoryBackendFromDump(dump), flowDetailId: e.flowDetailId });
      await expect(e2.run()).rejects.toBeInstanceOf(MissingDependencies);
    });
  });

  describe("after a crash", () => {
    it("a task left RUNNING runs again, with the next attempt number; flow events RESUMING, SUSPENDED, RUNNING", async () => {
      const backend = new MemoryBackend();
      let snapshot: MemoryDump | undefined;
      const attempts: number[] = [];
      const b = (onRun: () => void) =>
        task({
          name: "b",
          provides: "y",
          execute: (_args, ctx) => {
            attempts.push(ctx.attempt);
            onRun();
            return "b-done";
          },
        });
      const e = make(linearFlow("linear", progressing("a"), b(() => (snapshot ??= backend.dump())), progressing("c")), { backend });
      await e.run();
      expect(attempts).toEqual([1]);

      // The snapshot is the log book as it was while b was running: the host went away there.
      const crashed = memoryBackendFromDump(snapshot as MemoryDump);
      expect((await crashed.getFlowDetail(e.flowDetailId)).state).toBe("RUNNING");
      const e2 = make(linearFlow("linear", progressing("a"), b(() => {}), progressing("c")), { backend: crashed, flowDetailId: e.flowDetailId });
      const capture = captureListener(e2);
      await e2.run();
      expect(attempts).toEqual([1, 2]);
      expect(capture.values).toEqual([
        "linear.f RESUMING",
        "linear.f SUSPENDED",
        "linear.f RUNNING",
        // No "b.t RUNNING": b was stored RUNNING and runs again; as in TaskFlow, RUNNING → RUNNING is not announced.
        "b.t SUCCESS(b-done)",
        "c.t RUNNING",
        "c.t SUCCESS(5)",
        "linear.f SUCCESS",
      ]);
      expect(e2.storage.fetchAll()).toEqual({ y: "b-done" });
    });

    it("a task left REVERTING is reverted again, then the earlier ones, and the failure is raised", async () => {
      const backend = new MemoryBackend();
      let snapshot: MemoryDump | undefined;
      const reverts: string[] = [];
      const flow = (onRevertB: () => void) =>
        linearFlow(
          "linear",
          task({ name: "a", execute: () => 1, revert: () => void reverts.push("a") }),
          task({
            name: "b",
            execute: () => 2,
            revert: () => {
              reverts.push("b");
              onRevertB();
            },
          }),
          failing("c"),
        );
      const e = make(flow(() => (snapshot ??= backend.dump())), { backend });
      await expect(e.run()).rejects.toBeInstanceOf(RuntimeError);
      expect(reverts).toEqual(["b", "a"]);

      const crashed = memoryBackendFromDump(JSON.parse(JSON.stringify(snapshot)) as MemoryDump);
      reverts.length = 0;
      const e2 = make(flow(() => {}), { backend: crashed, flowDetailId: e.flowDetailId });
      await e2.prepare();
      expect(e2.storage.getAtomState("b")).toBe("REVERTING");
      const error = await rejection(e2.run());
      expect(error).toBeInstanceOf(RuntimeError);
      expect(error.message).toBe("Woot!");
      expect(reverts).toEqual(["b", "a"]);
      expect(e2.storage.flowDetail.state).toBe("REVERTED");
    });
  });
});

describe("parallel engine", () => {
  it("suspending while two atoms run lets both finish and starts nothing new", async () => {
    const slow = (name: string) =>
      task({
        name,
        execute: async () => {
          await sleep(10);
          return name;
        },
      });
    const flow = linearFlow("root", unorderedFlow("u", slow("u1"), slow("u2")), progressing("after"));
    const e = load(flow, { engine: "parallel" });
    e.on("atom", (ev) => {
      if (ev.name === "u1" && ev.state === "SUCCESS") e.suspend();
    });
    await e.run();
    expect(e.storage.flowDetail.state).toBe("SUSPENDED");
    expect(e.storage.getAtomState("u1")).toBe("SUCCESS");
    expect(e.storage.getAtomState("u2")).toBe("SUCCESS");
    expect(e.storage.getAtomState("after")).toBe("PENDING");
    await e.run();
    expect(e.storage.getAtomState("after")).toBe("SUCCESS");
  });
});

describe("a tampered log book", () => {
  /** A flow suspended after "a" succeeded (b waits), with its executions counted; and a way to load it again. */
  async function suspendedAfterA() {
    const backend = new MemoryBackend();
    const ran: string[] = [];
    const flow = () => linearFlow("l", task({ name: "a", provides: "x", execute: () => (ran.push("a"), 1) }), task({ name: "b", requires: ["x"], execute: () => void ran.push("b") }));
    const first = load(flow(), { backend });
    first.on("atom", (e) => e.name === "a" && e.state === "SUCCESS" && first.suspend());
    await first.run();
    const [a] = await backend.getAtomDetails(first.flowDetailId);
    expect(a).toMatchObject({ name: "a", state: "SUCCESS" });
    const resume = () => load(flow(), { backend, flowDetailId: first.flowDetailId });
    return { backend, ran, a: a!, id: first.flowDetailId, resume };
  }

  it("refuses a second record of a SUCCESS atom (another id, PENDING), naming it, and runs nothing again", async () => {
    const { backend, ran, a, id, resume } = await suspendedAfterA();
    await backend.commit({ logBooks: [], flows: [], atoms: [{ ...a, uuid: "forged", state: "PENDING", result: undefined, updatedAt: a.updatedAt + 1 }] });
    for (const read of [() => resume().run(), () => resume().prepare(), () => readSnapshot(backend, id)]) {
      const error = await rejection(read());
      expect(error).toBeInstanceOf(InvalidFormat);
      expect(error.message).toMatch(new RegExp(`flow detail "${id}" in the log book is corrupted or foreign: atom details "forged" \\(task "a"\\) are not its atoms' records`));
    }
    expect(ran).toEqual(["a"]);
  });

  it("refuses an atom record of another flow detail, or of another kind than the definition's", async () => {
    const { backend, ran, a, resume } = await suspendedAfterA();
    const other = JSON.stringify(["another-flow", "a"]);
    await backend.commit({ logBooks: [], flows: [], atoms: [{ ...a, uuid: other }] });
    expect(await rejection(resume().run())).toMatchObject({ name: "InvalidFormat", message: expect.stringContaining(other) });
    await backend.destroyLogBook((await backend.listLogBooks())[0]!.uuid);

    const again = await suspendedAfterA();
    await again.backend.commit({ logBooks: [], flows: [], atoms: [{ ...again.a, kind: "retry" }] });
    expect(await rejection(again.resume().run())).toMatchObject({ name: "InvalidFormat", message: expect.stringMatching(/atom details ".*" \(retry "a"\) are not its atoms' records/) });
    expect([...ran, ...again.ran]).toEqual(["a", "a"]);
  });
});

/** A MemoryBackend whose chosen commits fail while the others go through. */
class FlakyBackend extends MemoryBackend {
  /** Writes refused without writing anything (a full quota). */
  readonly failAt = new Set<number>();
  /** Writes that land, then report an error all the same (a timeout). */
  readonly landThenFailAt = new Set<number>();
  attempts = 0;
  override async commit(batch: Parameters<MemoryBackend["commit"]>[0]): Promise<void> {
    this.attempts++;
    if (this.failAt.has(this.attempts)) throw new StorageFailure(`disk full at write ${this.attempts}`);
    await super.commit(batch);
    if (this.landThenFailAt.has(this.attempts)) throw new StorageFailure(`timed out at write ${this.attempts}`);
  }
}

describe("a write that fails", () => {
  it("stops the run, stores the flow SUSPENDED ('storage'), and the same engine goes on from the log book when run again", async () => {
    const backend = new FlakyBackend();
    const runs: string[] = [];
    const step = (name: string) => task({ name, provides: name, execute: () => (runs.push(name), name) });
    const e = load(linearFlow("l", step("a"), step("b"), step("c")), { backend }); // no flowDetailId: the engine made it
    backend.failAt.add(3); // b SUCCESS + c RUNNING
    await expect(e.run()).rejects.toThrow(/disk full at write 3/);
    const id = e.flowDetailId;
    expect(await backend.getFlowDetail(id)).toMatchObject({ state: "SUSPENDED", suspendedReason: "storage" });
    expect(Object.fromEntries((await backend.getAtomDetails(id)).map((d) => [d.name, d.state]))).toEqual({ a: "SUCCESS", b: "RUNNING" });

    await e.run(); // reloads the same flow detail, not a new one
    expect(e.flowDetailId).toBe(id);
    expect((await backend.listLogBooks()).length).toBe(1);
    expect(e.storage.flowState).toBe("SUCCESS");
    expect(runs).toEqual(["a", "b", "b", "c"]); // b's SUCCESS was lost with the write: it runs again
  });

  it("refuses the writes queued behind it, so nothing is stored ahead of what was lost", async () => {
    const backend = new FlakyBackend();
    const e = load(linearFlow("l", progressing("a")), { backend });
    await e.save();
    backend.failAt.add(2);
    e.inject({ first: 1 });
    const first = e.save();
    e.inject({ second: 2 });
    const second = e.save();
    await expect(first).rejects.toThrow(/disk full/);
    await expect(second).rejects.toThrow(/an earlier write of flow "l" failed/);
    expect((await backend.getFlowDetail(e.flowDetailId)).store).toEqual({});
    expect(backend.attempts).toBe(2); // the second commit never reached the backend
  });

  it("a commit with nothing left to write still fails if the write carrying its change fails", async () => {
    // provide() or revise() whose change a running engine's commit took along: they must not
    // report success for a value that was never stored.
    const backend = new FlakyBackend();
    const e = load(linearFlow("l", progressing("a")), { backend });
    await e.save();
    backend.failAt.add(2);
    e.inject({ x: 1 });
    const carrying = e.save(); // takes the change along
    const mine = e.save(); // nothing left to write
    await expect(carrying).rejects.toThrow(/disk full/);
    await expect(mine).rejects.toThrow(/an earlier write of flow "l" failed, so this change was not stored/);
    expect(e.storage.broken).toBe(true);
  });

  it("after a first write that failed (though it may have landed), runs again under the same ids, with its transient values", async () => {
    const backend = new FlakyBackend();
    backend.landThenFailAt.add(1);
    const e = load(linearFlow("l", task({ name: "use", requires: ["token"], provides: "out", execute: ({ token }) => `used ${String(token)}` })), { backend, book: { name: "orders" } });
    await e.prepare();
    e.inject({ token: "t-1" }, { transient: true });
    const id = e.flowDetailId;
    await expect(e.run()).rejects.toThrow(/timed out/);
    await e.run();
    expect(e.flowDetailId).toBe(id);
    expect((await backend.listLogBooks()).map((b) => b.name)).toEqual(["orders"]);
    expect(e.storage.fetch("out")).toBe("used t-1");
  });

  it("leaves a finished flow as it was: only a running flow is marked SUSPENDED", async () => {
    const backend = new FlakyBackend();
    const e = load(abFailC(), { backend });
    await expect(e.run()).rejects.toThrow("Woot!");
    expect((await backend.getFlowDetail(e.flowDetailId)).state).toBe("REVERTED");
    backend.failAt.add(backend.attempts + 1); // the first write of the next run: the flow back to PENDING
    await expect(e.run()).rejects.toThrow(/disk full/);
    expect((await backend.getFlowDetail(e.flowDetailId)).state).toBe("REVERTED");
  });
});

describe("resuming with a changed structure (issue 11, item 18)", () => {
  const step = (name: string, extra: Parameters<typeof progressing>[1] = {}) => progressing(name, extra);
  /** A flow of `name` run until "a" succeeded: SUSPENDED, b, c (and the rest) PENDING. */
  async function suspendedWith(flow: FlowItem) {
    const backend = new MemoryBackend();
    const e = load(flow, { backend });
    suspendOn(e, "a", "SUCCESS");
    await e.run();
    expect(e.storage.flowDetail.state).toBe("SUSPENDED");
    return { backend, id: e.flowDetailId };
  }
  /** The differences `flow` is refused with, resuming the stored flow detail. */
  async function refused(stored: { backend: MemoryBackend; id: string }, flow: FlowItem): Promise<readonly string[]> {
    const error = await rejection(load(flow, { backend: stored.backend, flowDetailId: stored.id }).run());
    expect(error).toBeInstanceOf(IncompatibleVersion);
    expect((await stored.backend.getFlowDetail(stored.id)).state).toBe("SUSPENDED"); // nothing changed
    return (error as IncompatibleVersion).differences;
  }
  const accepted = async (stored: { backend: MemoryBackend; id: string }, flow: FlowItem) => {
    const e = load(flow, { backend: stored.backend, flowDetailId: stored.id });
    await e.run();
    return e;
  };

  it("a different flow name is refused", async () => {
    const stored = await suspendedWith(linearFlow("checkout", step("a"), step("b")));
    expect(await refused(stored, linearFlow("payment", step("a"), step("b")))).toEqual([expect.stringMatching(/flow "checkout" is now named "payment"/)]);
  });

  it("a linear flow turned unordered (or graph), at the root or nested, is refused", async () => {
    const stored = await suspendedWith(linearFlow("root", step("a"), linearFlow("inner", step("b"), step("c"))));
    expect(await refused(stored, unorderedFlow("root", step("a"), linearFlow("inner", step("b"), step("c"))))).toEqual([
      expect.stringMatching(/flow "root" was linear \[a, inner\], is now unordered \[a, inner\]/),
    ]);
    expect(await refused(stored, linearFlow("root", step("a"), graphFlow("inner", step("b"), step("c"))))).toEqual([
      expect.stringMatching(/flow "root\/inner" was linear \[b, c\], is now graph \[b, c\]/),
    ]);
  });

  it("the order of a linear flow's items changed is refused", async () => {
    const stored = await suspendedWith(linearFlow("root", step("a"), step("b"), step("c")));
    expect(await refused(stored, linearFlow("root", step("a"), step("c"), step("b")))).toEqual([
      expect.stringMatching(/flow "root" was linear \[a, b, c\], is now linear \[a, c, b\]/),
    ]);
  });

  it("an atom moved into another flow, or a subflow renamed, is refused", async () => {
    const stored = await suspendedWith(linearFlow("root", step("a"), linearFlow("inner", step("b")), step("c")));
    const moved = await refused(stored, linearFlow("root", step("a"), linearFlow("inner", step("b"), step("c"))));
    expect(moved).toEqual([expect.stringMatching(/flow "root" was linear \[a, inner, c\], is now linear \[a, inner\]/)]);
    const renamed = await refused(stored, linearFlow("root", step("a"), linearFlow("other", step("b")), step("c")));
    expect(renamed).toContainEqual(expect.stringMatching(/flow "root\/inner" was removed or renamed/));
  });

  it("a graph flow's link added, removed, or given a decider is refused", async () => {
    const graph = (link: (g: ReturnType<typeof graphFlow>, b: FlowItem, c: FlowItem) => void) => {
      const b = step("b");
      const c = step("c");
      const g = graphFlow("g", b, c);
      link(g, b, c);
      return linearFlow("root", step("a"), g);
    };
    const stored = await suspendedWith(graph(() => undefined));
    expect(await refused(stored, graph((g, b, c) => g.link(b, c)))).toEqual(['flow "root/g" was graph [b, c], is now graph [b, c], b → c']);
    const linked = await suspendedWith(graph((g, b, c) => g.link(b, c)));
    expect(await refused(linked, graph(() => undefined))).toEqual(['flow "root/g" was graph [b, c], b → c, is now graph [b, c]']);
    expect(await refused(linked, graph((g, b, c) => g.link(b, c, { decider: () => true, deciderDepth: "ATOM" })))).toEqual([
      'flow "root/g" was graph [b, c], b → c, is now graph [b, c], b → c (decider, depth ATOM)',
    ]);
    // A link to an atom added since is no change of what was stored.
    const d = step("d");
    const b = step("b");
    const c = step("c");
    await accepted(linked, linearFlow("root", step("a"), graphFlow("g", b, c, d).link(b, c).link(c, d)));
  });

  it("compatible changes are still accepted: atoms and subflows added anywhere, in a linear flow's middle too", async () => {
    const stored = await suspendedWith(linearFlow("root", step("a"), step("b"), step("c")));
    const e = await accepted(stored, linearFlow("root", step("a"), step("new1"), step("b"), unorderedFlow("extra", step("x"), step("y")), step("c")));
    expect(e.storage.flowState).toBe("SUCCESS");
    expect(e.statistics.executed).toBe(5);
    // The stored structure is now the new one: taking "extra" away again is refused.
    expect(await refused({ ...stored, backend: await suspendAgain(stored) }, linearFlow("root", step("a"), step("new1"), step("b"), step("c")))).toContainEqual(
      expect.stringMatching(/flow "root\/extra" was removed/),
    );
  });

  /** The same log book with the stored flow SUSPENDED again (to try another definition). */
  async function suspendAgain(stored: { backend: MemoryBackend; id: string }): Promise<MemoryBackend> {
    const dump = stored.backend.dump();
    (dump.flows[0] as { state: string }).state = "SUSPENDED";
    return memoryBackendFromDump(dump);
  }

  it("a flow detail stored by the previous version (atoms' fingerprint, no structure) resumes, and gets its structure written", async () => {
    const stored = await suspendedWith(linearFlow("root", step("a"), step("b")));
    const dump = stored.backend.dump();
    delete (dump.flows[0] as { flows?: unknown }).flows; // as the previous version wrote it
    const old = { backend: memoryBackendFromDump(dump), id: stored.id };
    const e = load(unorderedFlow("root", step("a"), step("b")), { backend: old.backend, flowDetailId: old.id });
    await e.save(); // nothing to compare the structure with: accepted, as before
    expect((await old.backend.getFlowDetail(old.id)).flows).toBeDefined();
    expect(await refused(old, linearFlow("root", step("a"), step("b")))).toEqual(['flow "root" was unordered [a, b], is now linear [a, b]']);
  });

  it("a flow detail stored without a fingerprint (by a host) gets one on its first load; a later incompatible resume is refused", async () => {
    const backend = new MemoryBackend();
    const now = Date.parse("2026-01-01");
    const book: LogBook = { schemaVersion: SCHEMA_VERSION, uuid: "book-1", name: "jobs", createdAt: now, updatedAt: now, meta: {} };
    // The host names the detail as it likes: the flow's name is compared as stored in its flows.
    const detail: FlowDetail = { schemaVersion: SCHEMA_VERSION, uuid: "flow-1", bookUuid: "book-1", name: "job 17", state: "PENDING", createdAt: now, updatedAt: now, meta: {} };
    await backend.commit({ logBooks: [book], flows: [detail], atoms: [] });
    const first = load(linearFlow("root", step("a"), step("b")), { backend, flowDetailId: "flow-1" });
    suspendOn(first, "a", "SUCCESS");
    await first.run();
    expect((await backend.getFlowDetail("flow-1")).fingerprint?.map((a) => a.name)).toEqual(["a", "b"]);
    const same = load(linearFlow("root", step("a"), step("b")), { backend, flowDetailId: "flow-1" });
    await same.prepare(); // the same definition again: accepted
    expect(same.storage.flowDetail.name).toBe("job 17");
    const differences = await refused({ backend, id: "flow-1" }, linearFlow("root", step("a"), step("c")));
    expect(differences).toContainEqual(expect.stringMatching(/"b" was removed/));
  });

  it("a wait's schema is not part of the fingerprint: a new schema checks later values; a value already stored is kept; a major version refuses", async () => {
    const positive = { "~standard": { validate: (v: unknown) => (typeof v === "number" && v > 0 ? { value: v } : { issues: [{ message: "expected a positive number" }] }) } };
    const even = { "~standard": { validate: (v: unknown) => (typeof v === "number" && v % 2 === 0 ? { value: v } : { issues: [{ message: "expected an even number" }] }) } };
    const flow = (schema: typeof positive, version = "1.0") =>
      linearFlow("root", step("a"), waitFor("n", { schema, version }), waitFor("m", { schema, version }), task({ name: "sum", requires: ["n", "m"], provides: "sum", execute: ({ n, m }) => (n as number) + (m as number) }));
    const backend = new MemoryBackend();
    const e = load(flow(positive), { backend });
    await e.run(); // SUSPENDED, waiting for n
    await provide(e, "n", 3, { run: false });
    const again = load(flow(even), { backend, flowDetailId: e.flowDetailId });
    await expect(provide(again, "m", 5)).rejects.toThrow(/expected an even number/);
    await provide(again, "m", 4);
    expect(again.storage.fetch("sum")).toBe(7); // 3 was stored under the old schema, and kept
    const major = await rejection(load(flow(even, "2.0"), { backend, flowDetailId: e.flowDetailId }).prepare());
    expect(major).toBeInstanceOf(IncompatibleVersion);
  });
});
