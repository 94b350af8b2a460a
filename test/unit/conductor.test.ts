// TaskFlow's conductor scenarios (tests/unit/conductor/test_conductors.py) and the outcomes of
// impl_executor.py: consumed on success and on REVERTED, abandoned on stop, the store from the
// job, the flow detail or both, max_dispatches honoured; trashed when the dispatch fails.
import { describe, expect, it } from "vitest";
import { FlowRegistry, linearFlow, MemoryBackend, MultipleChoices, NotFound, readSnapshot, StorageFailure, task, type WriteBatch } from "../../src/index.js";
import { BackendWrapper } from "../../src/backend.js";
import { Conductor, MemoryJobBoard, NonBlockingConductor, type ConductorEvents, type Job, type JobClaim } from "../../src/jobs/index.js";
import { ManualClock } from "../../src/testing/index.js";
import { RuntimeError } from "./helpers.js";

function deferred<T = void>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** The next event of `type` (matching `when`) a conductor emits. */
function next<K extends keyof ConductorEvents>(conductor: Conductor, type: K, when: (e: ConductorEvents[K]) => boolean = () => true): Promise<ConductorEvents[K]> {
  return new Promise((resolve) => {
    const off = conductor.on(type, (e) => {
      if (when(e)) {
        off();
        resolve(e);
      }
    });
  });
}

function setup(register: (flows: FlowRegistry, runs: string[]) => void) {
  const clock = new ManualClock(1_000);
  const board = new MemoryJobBoard({ clock });
  const backend = new MemoryBackend();
  const flows = new FlowRegistry();
  const runs: string[] = [];
  register(flows, runs);
  const conductor = (name = "c1", extra: Partial<ConstructorParameters<typeof Conductor>[0]> = {}) => new Conductor({ name, board, backend, flows, clock, ...extra });
  return { clock, board, backend, flows, runs, conductor };
}

const greet = (flows: FlowRegistry, runs: string[]) =>
  flows.register("greet", (greeting: string) =>
    linearFlow("greet",
      task({ name: "hello", requires: ["who"], provides: "said", execute: ({ who }: { who: string }) => (runs.push(`hello ${who}`), `${greeting} ${who}`) }),
      task({ name: "bye", requires: ["said"], execute: ({ said }: { said: string }) => void runs.push(`bye after ${said}`) }),
    ));

describe("conductors (TaskFlow's scenarios)", () => {
  it("runs a posted job, consumes it, and leaves its flow detail SUCCESS in the job's log book", async () => {
    const { board, backend, runs, conductor } = setup(greet);
    const job = await board.post({ flow: "greet", args: ["hi"], store: { who: "ada" } });
    const c = conductor();
    const events: string[] = [];
    for (const type of ["claimed", "stage", "consumed", "abandoned", "trashed", "lost"] as const) {
      c.on(type, (e) => events.push(type === "stage" ? `${(e as ConductorEvents["stage"]).stage} ${(e as ConductorEvents["stage"]).phase}` : type));
    }
    await c.run({ maxDispatches: 1 });
    expect(runs).toEqual(["hello ada", "bye after hi ada"]);
    expect((await board.get(job.uuid)).state).toBe("COMPLETE");
    const [detail] = await backend.getFlowDetails(job.bookUuid);
    expect(detail).toMatchObject({ uuid: job.uuid, state: "SUCCESS", factory: { name: "greet", args: ["hi"] } });
    expect(events).toEqual([
      "claimed", "compilation start", "compilation end", "preparation start", "preparation end",
      "validation start", "validation end", "running start", "running end", "consumed",
    ]);
  });

  it("consumes a job whose flow failed and reverted (an ordinary failure is the job's result)", async () => {
    const { board, backend, conductor } = setup((flows) =>
      flows.register("fail", () => linearFlow("fail", task({ name: "boom", execute: () => { throw new RuntimeError("Woot!"); } }))));
    const job = await board.post({ flow: "fail" });
    const c = conductor();
    const consumed = next(c, "consumed");
    await c.run({ maxDispatches: 1 });
    expect((await consumed).state).toBe("REVERTED");
    expect((await consumed).error).toBeInstanceOf(RuntimeError);
    expect((await board.get(job.uuid)).state).toBe("COMPLETE");
    expect((await backend.getFlowDetail(job.uuid)).state).toBe("REVERTED");
  });

  it("consumes a job whose flow misses an input (MissingDependencies), without running it", async () => {
    const { board, runs, conductor } = setup(greet);
    const job = await board.post({ flow: "greet", args: ["hi"] }); // no "who"
    const c = conductor();
    const consumed = next(c, "consumed");
    await c.run({ maxDispatches: 1 });
    expect((await consumed).error).toMatchObject({ name: "MissingDependencies" });
    expect(runs).toEqual([]);
    expect((await board.get(job.uuid)).state).toBe("COMPLETE");
  });

  it("takes the store from the job's details", async () => {
    const { board, runs, conductor } = setup(greet);
    await board.post({ flow: "greet", args: ["hi"], store: { who: "job" } });
    await conductor().run({ maxDispatches: 1 });
    expect(runs[0]).toBe("hello job");
  });

  it("takes the store from the flow detail, and overlays the job's on it", async () => {
    const { board, backend, flows, runs, conductor } = setup(greet);
    // A producer that saves the flow detail first, with its store, as TaskFlow's examples do.
    const saved = async (store: Record<string, unknown>) => {
      const engine = flows.load("greet", ["hi"], { backend, store });
      await engine.save();
      return engine.storage.flowDetail;
    };
    const a = await saved({ who: "detail" });
    await board.post({ flow: "greet", args: ["hi"], bookUuid: a.bookUuid });
    await conductor().run({ maxDispatches: 1 });
    expect(runs).toEqual(["hello detail", "bye after hi detail"]);

    runs.length = 0;
    const b = await saved({ who: "detail", extra: 1 });
    await board.post({ flow: "greet", args: ["hi"], bookUuid: b.bookUuid, flowUuid: b.uuid, store: { who: "both" } });
    await conductor().run({ maxDispatches: 1 });
    expect(runs[0]).toBe("hello both");
    expect((await backend.getFlowDetail(b.uuid)).store).toEqual({ who: "both", extra: 1 });
  });

  it("honours maxDispatches: claims that many jobs, leaves the rest on the board", async () => {
    const { board, conductor } = setup(greet);
    for (let i = 0; i < 5; i++) await board.post({ flow: "greet", args: ["hi"], store: { who: `p${i}` } });
    const c = conductor();
    let claimed = 0;
    c.on("claimed", () => claimed++);
    await c.run({ maxDispatches: 2 });
    expect(claimed).toBe(2);
    const all: Job[] = [];
    for await (const job of board.iterate({ only: "all" })) all.push(job);
    expect(all.filter((j) => j.state === "COMPLETE").length).toBe(2);
    expect(all.filter((j) => j.state === "UNCLAIMED").length).toBe(3);
    await c.run({ maxDispatches: 0 }); // nothing at all
    expect(claimed).toBe(2);
  });

  it("stop() during a task suspends the flow and abandons the job; another conductor finishes it without running what succeeded", async () => {
    const gate = deferred();
    const started = deferred();
    const counts = { first: 0, slow: 0, last: 0 };
    const { board, backend, conductor } = setup((flows) =>
      flows.register("slow", () =>
        linearFlow("slow",
          task({ name: "first", execute: () => void counts.first++ }),
          task({ name: "slow", execute: async () => { counts.slow++; started.resolve(); await gate.promise; } }),
          task({ name: "last", execute: () => void counts.last++ }),
        )));
    const job = await board.post({ flow: "slow" });
    const c1 = conductor("c1");
    const abandoned = next(c1, "abandoned");
    const running = c1.run();
    await started.promise;
    const stopping = c1.stop();
    gate.resolve();
    await stopping;
    await running;
    expect((await abandoned).reason).toMatch(/stopped/);
    expect((await board.get(job.uuid)).state).toBe("UNCLAIMED");
    expect((await backend.getFlowDetail(job.uuid)).state).toBe("SUSPENDED");
    expect(counts).toEqual({ first: 1, slow: 1, last: 0 });

    await conductor("c2").run({ maxDispatches: 1 });
    expect((await board.get(job.uuid)).state).toBe("COMPLETE");
    expect(counts).toEqual({ first: 1, slow: 1, last: 1 });
    expect((await readSnapshot(backend, job.uuid)).state).toBe("SUCCESS");
  });

  it("trashes a job whose dispatch fails: an unknown flow, arguments its factory refuses, a book with several flow details", async () => {
    const { board, backend, flows, conductor } = setup((flows) =>
      flows.register("needs-number", (n: unknown) => {
        if (typeof n !== "number") throw new TypeError(`needs-number: expected a number, got ${JSON.stringify(n)}`);
        return linearFlow("n", task({ name: "t", execute: () => n }));
      }));
    const unknown = await board.post({ flow: "no-such-flow" });
    const badArgs = await board.post({ flow: "needs-number", args: ["three"] });
    const e1 = flows.load("needs-number", [1], { backend, book: { name: "two" } });
    await e1.save();
    const e2 = flows.load("needs-number", [2], { backend, book: { uuid: e1.storage.flowDetail.bookUuid } });
    await e2.save();
    const twoFlows = await board.post({ flow: "needs-number", args: [1], bookUuid: e1.storage.flowDetail.bookUuid });
    const c = conductor();
    const trashed = new Map<string, unknown>();
    c.on("trashed", ({ job, error }) => trashed.set(job.uuid, error));
    await c.run({ maxDispatches: 3 });
    expect(trashed.get(unknown.uuid)).toBeInstanceOf(NotFound);
    expect(trashed.get(badArgs.uuid)).toBeInstanceOf(TypeError);
    expect(trashed.get(twoFlows.uuid)).toBeInstanceOf(MultipleChoices);
    for (const job of [unknown, badArgs, twoFlows]) expect((await board.get(job.uuid)).state).toBe("TRASHED");
  });

  it("abandons a job when its flow cannot be stored (StorageFailure), for another try", async () => {
    let failNext = false;
    class Flaky extends BackendWrapper {
      override async commit(batch: WriteBatch): Promise<void> {
        if (failNext && batch.atoms.length > 0) {
          failNext = false;
          throw new StorageFailure("disk full");
        }
        return super.commit(batch);
      }
    }
    const memory = new MemoryBackend();
    const clock = new ManualClock(0);
    const board = new MemoryJobBoard({ clock });
    const flows = new FlowRegistry().register("one", () => linearFlow("one", task({ name: "t", execute: () => 1 })));
    const backend = new Flaky(memory);
    const job = await board.post({ flow: "one" });
    failNext = true;
    const c = new Conductor({ name: "c1", board, backend, flows, clock });
    const abandoned = next(c, "abandoned");
    await c.run({ maxDispatches: 1 });
    expect((await abandoned).error).toBeInstanceOf(StorageFailure);
    expect((await board.get(job.uuid)).state).toBe("UNCLAIMED");
    await c.run({ maxDispatches: 1 });
    expect((await board.get(job.uuid)).state).toBe("COMPLETE");
    expect((await memory.getFlowDetail(job.uuid)).state).toBe("SUCCESS");
  });

  it("non-blocking: runs up to maxJobs jobs at once, the others wait on the board", async () => {
    const gate = deferred();
    let running = 0;
    let most = 0;
    const twoRunning = deferred();
    const { board, backend, flows, clock } = setup((flows) =>
      flows.register("wait", () =>
        linearFlow("wait", task({ name: "t", execute: async () => {
          running++;
          most = Math.max(most, running);
          if (running === 2) twoRunning.resolve();
          await gate.promise;
          running--;
        } }))));
    for (let i = 0; i < 4; i++) await board.post({ flow: "wait" });
    const c = new NonBlockingConductor({ name: "c1", board, backend, flows, clock, maxJobs: 2 });
    const done = c.run({ maxDispatches: 4 });
    await twoRunning.promise;
    const claimed: Job[] = [];
    for await (const job of board.iterate({ only: "claimed", owner: "c1" })) claimed.push(job);
    expect(claimed.length).toBe(2);
    gate.resolve();
    await done;
    expect(most).toBe(2);
    const complete: Job[] = [];
    for await (const job of board.iterate({ only: "complete" })) complete.push(job);
    expect(complete.length).toBe(4);
  });

  it("refuses a second run() while running, and a bad name or maxJobs", async () => {
    const { conductor, board, backend, flows } = setup(greet);
    const c = conductor();
    const running = c.run();
    await expect(c.run()).rejects.toMatchObject({ name: "ConductorFailure" });
    await c.stop();
    await running;
    expect(() => new Conductor({ name: "", board, backend, flows })).toThrow(/name/);
    expect(() => new Conductor({ name: "c", board, backend, flows, maxJobs: 0 })).toThrow(/maxJobs/);
  });
});

describe("a conductor running many jobs at once (issue 13: the per-job fixed cost)", () => {
  /** The board's calls, by method. */
  function spied(board: MemoryJobBoard): { board: MemoryJobBoard; calls: string[]; sizes: number[] } {
    const calls: string[] = [];
    const sizes: number[] = [];
    const proxy = new Proxy(board, {
      get(target, key) {
        const value = Reflect.get(target, key) as unknown;
        if (typeof value !== "function") return value;
        return (...args: unknown[]) => {
          calls.push(String(key));
          if (key === "claimMany" || key === "updateMany") sizes.push((args[0] as unknown[]).length);
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
    return { board: proxy, calls, sizes };
  }

  it("claims the jobs there is room for in one board call, and renews and settles them in shared calls", async () => {
    const { board: inner, backend, flows, runs, clock } = setup(greet);
    for (let i = 0; i < 10; i++) await inner.post({ flow: "greet", args: ["hi"], store: { who: `w${i}` } });
    const { board, calls, sizes } = spied(inner);
    const conductor = new Conductor({ name: "c1", board, backend, flows, clock, maxJobs: 10 });
    let consumed = 0;
    conductor.on("consumed", () => void consumed++);
    await conductor.run({ maxDispatches: 10 });
    expect(consumed).toBe(10);
    expect(runs.filter((r) => r.startsWith("hello"))).toHaveLength(10);
    expect(calls.filter((c) => c === "claim" || c === "renew" || c === "consume")).toEqual([]);
    expect(calls.filter((c) => c === "claimMany")).toHaveLength(1);
    expect(sizes[0]).toBe(10);
    // Each job's renewal after its flow's claim and its consume went through updateMany, with
    // those of other jobs: fewer calls than the 20 they were.
    const updates = calls.filter((c) => c === "updateMany").length;
    expect(updates).toBeLessThan(20);
    expect(sizes.slice(1).reduce((a, b) => a + b, 0)).toBe(20);
    for await (const job of inner.iterate({ only: "all" })) expect(job.state).toBe("COMPLETE");
  });

  it("claims no more than there is room for: maxJobs 3 of 5 unclaimed, the rest once they end", async () => {
    const { board: inner, backend, flows, clock } = setup(greet);
    for (let i = 0; i < 5; i++) await inner.post({ flow: "greet", args: ["hi"], store: { who: `w${i}` } });
    const { board, calls, sizes } = spied(inner);
    const conductor = new Conductor({ name: "c1", board, backend, flows, clock, maxJobs: 3 });
    await conductor.run({ maxDispatches: 5 });
    const claimed = sizes.filter((_, i) => calls.filter((c) => c === "claimMany" || c === "updateMany")[i] === "claimMany");
    expect(claimed[0]).toBe(3);
    expect(claimed.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(5);
    for await (const job of inner.iterate({ only: "all" })) expect(job.state).toBe("COMPLETE");
  });

  it("tells a job lost whose claim went while it settled (updateMany's undefined), and settles the others", async () => {
    const { board, backend, flows, clock } = setup(greet);
    const jobs = await Promise.all([0, 1].map((i) => board.post({ flow: "greet", args: ["hi"], store: { who: `w${i}` } })));
    const conductor = new Conductor({ name: "c1", board, backend, flows, clock, maxJobs: 2 });
    // The first job's claim is taken over as its flow ends (given back and claimed by another
    // tab, as when its lease ran out): the conductor's consume of it is refused.
    const claims = new Map<string, JobClaim>();
    conductor.on("claimed", ({ job, claim }) => void claims.set(job.uuid, claim));
    conductor.on("stage", ({ job, stage, phase }) => {
      if (job.uuid === jobs[0]?.uuid && stage === "running" && phase === "end") {
        // A memory board's calls change it at once (their bodies run before they first await).
        void board.abandon(claims.get(job.uuid) as JobClaim);
        void board.claim(job.uuid, "other");
      }
    });
    const lost = next(conductor, "lost");
    const consumed: string[] = [];
    conductor.on("consumed", ({ job }) => void consumed.push(job.uuid));
    await conductor.run({ maxDispatches: 2 });
    expect((await lost).job.uuid).toBe(jobs[0]?.uuid);
    expect(await board.get(jobs[0]?.uuid as string)).toMatchObject({ state: "CLAIMED", owner: "other" });
    expect(consumed).toEqual([jobs[1]?.uuid]);
    expect((await board.get(jobs[1]?.uuid as string)).state).toBe("COMPLETE");
  });
});
