// The worker pool's protocol and routing in Node: each "worker" is serveTasks on one end of a
// MessageChannel, which is what a Worker gives a page (Comlink sees a MessagePort either way).
import { afterEach, describe, expect, it } from "vitest";
import { MemoryBackend, RequestTimeout, Times, linearFlow, load, remoteTask, unorderedFlow } from "taskflow-ts";
import { assertCrashSafe, ManualClock } from "taskflow-ts/testing";
import { serveTasks, WorkerLost, WorkerPool, type TaskImplementation } from "taskflow-ts/worker";

const pools: WorkerPool[] = [];
afterEach(() => {
  for (const p of pools.splice(0)) p.close();
});

function pool(options: ConstructorParameters<typeof WorkerPool>[0] = {}) {
  const p = new WorkerPool(options);
  pools.push(p);
  const ports: MessagePort[] = [];
  const add = (name: string, tasks: Record<string, TaskImplementation>, channel = new MessageChannel()) => {
    const { port1, port2 } = channel;
    ports.push(port1, port2);
    serveTasks(tasks, { scope: port1 });
    return p.add(port2, { name, terminate: () => port1.close() });
  };
  return { pool: p, add };
}

describe("WorkerPool (issue 14, item 2)", () => {
  it("routes each request to a worker that serves its task and records who ran it", async () => {
    const { pool: p, add } = pool();
    await add("adder", { add: ({ x, y }) => (x as number) + (y as number) });
    await add("doubler", { double: ({ sum }) => (sum as number) * 2 });
    expect(p.workers().map((w) => [w.name, w.tasks])).toEqual([["adder", ["add"]], ["doubler", ["double"]]]);
    const backend = new MemoryBackend();
    const engine = load(linearFlow("wbe", remoteTask({ name: "add", requires: ["x", "y"], provides: "sum" }), remoteTask({ name: "double", requires: ["sum"], provides: "out" })), { backend, executor: p, store: { x: 2, y: 3 } });
    await engine.run();
    expect(engine.storage.fetch("out")).toBe(10);
    const stored = await backend.getAtomDetails(engine.flowDetailId);
    expect(Object.fromEntries(stored.map((d) => [d.name, d.workers]))).toEqual({ add: [{ attempt: 1, worker: "adder" }], double: [{ attempt: 1, worker: "doubler" }] });
  });

  it("spreads requests over workers, up to perWorker each, and relays progress", async () => {
    const { pool: p, add } = pool({ perWorker: 1 });
    const impl: TaskImplementation = (_args, ctx) => {
      ctx.progress(0.5);
      return ctx.request.atom;
    };
    await add("a", { t: impl });
    await add("b", { t: impl });
    const progress: string[] = [];
    const backend = new MemoryBackend();
    const engine = load(unorderedFlow("many", ...["t1", "t2", "t3", "t4"].map((name) => remoteTask({ name, implementation: "t", provides: name }))), { backend, executor: p, engine: "parallel" });
    engine.on("progress", (e) => e.progress === 0.5 && progress.push(e.name));
    await engine.run();
    const workers = (await backend.getAtomDetails(engine.flowDetailId)).map((d) => d.workers?.[0]?.worker);
    expect(new Set(workers)).toEqual(new Set(["a", "b"]));
    expect(progress.sort()).toEqual(["t1", "t2", "t3", "t4"]);
    expect(p.workers().every((w) => w.running === 0)).toBe(true);
  });

  it("fails a dead worker's request with WorkerLost, and the flow's retry runs it on another worker", async () => {
    const { pool: p, add } = pool();
    let entered!: () => void;
    const started = new Promise<void>((resolve) => (entered = resolve));
    await add("doomed", { work: () => { entered(); return new Promise(() => undefined); } });
    const backend = new MemoryBackend();
    const engine = load(linearFlow("r", { retry: new Times(2) }, remoteTask({ name: "work", provides: "v" })), { backend, executor: p });
    const failures: string[] = [];
    engine.on("atom", (e) => e.state === "FAILURE" && e.failure && failures.push(e.failure.excTypeNames[0]!));
    const run = engine.run();
    await started;
    await add("healthy", { work: () => "done" });
    p.lose("doomed");
    await run;
    expect(engine.storage.fetch("v")).toBe("done");
    expect(failures).toEqual([WorkerLost.name]);
    const stored = (await backend.getAtomDetails(engine.flowDetailId)).find((d) => d.name === "work")!;
    expect(stored.workers?.filter((w) => !w.revert)).toEqual([{ attempt: 1, worker: "doomed" }, { attempt: 2, worker: "healthy" }]);
  });

  it("fails a request no worker takes in time with RequestTimeout", async () => {
    const clock = new ManualClock(0);
    const { pool: p, add } = pool({ clock, requestTimeoutMs: 500 });
    await add("other", { unrelated: () => 1 });
    const engine = load(linearFlow("lonely", remoteTask({ name: "nobody-serves-me" })), { executor: p, clock });
    const run = engine.run();
    let settled = false;
    const failed = expect(run.finally(() => (settled = true))).rejects.toThrow(/no worker took it within 500 ms/);
    // The request waits on the pool's timer (a ManualClock): move the clock until the run ends.
    for (let i = 0; i < 1000 && !settled; i++) {
      clock.advance(500);
      await new Promise<void>((resolve) => queueMicrotask(resolve));
    }
    await failed;
    expect(engine.storage.getFailure("nobody-serves-me")?.check(RequestTimeout)).toBeDefined();
  });

  it("leaves nothing running after close: workers dropped, waiting requests failed, new ones refused", async () => {
    const { pool: p, add } = pool();
    await add("w", { t: () => 1 });
    p.close();
    expect(p.workers()).toEqual([]);
    await expect(add("late", { t: () => 1 })).rejects.toThrow(/the pool is closed/);
    const outcome = await p.execute({ action: "execute", task: "t", atom: "t", flowUuid: "f", args: {}, attempt: 1, idempotencyKey: "k" }, { signal: new AbortController().signal, progress: () => undefined });
    expect(outcome.ok).toBe(false);
  });

  describe("notices a worker's death itself (issue 14, item 2)", () => {
    /** Lets messages between the ports arrive (a macrotask: Node delivers them in its own turn). */
    const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

    it("a worker that stops answering pings is dropped: its request fails with WorkerLost and the retry runs on another", async () => {
      const clock = new ManualClock(0);
      const { pool: p, add } = pool({ clock, heartbeatMs: 1_000, heartbeatTimeoutMs: 3_000 });
      let entered!: () => void;
      const started = new Promise<void>((resolve) => (entered = resolve));
      const silent = new MessageChannel();
      await add("silent", { work: () => { entered(); return new Promise(() => undefined); } }, silent);
      const engine = load(linearFlow("r", { retry: new Times(2) }, remoteTask({ name: "work", provides: "v" })), { executor: p, clock });
      const failures: string[] = [];
      engine.on("atom", (e) => e.state === "FAILURE" && e.failure && failures.push(e.failure.exceptionStr));
      const run = engine.run();
      await started;
      silent.port1.close(); // the worker's end goes quiet: nothing it sent before, nothing after
      for (let i = 0; i < 100 && p.workers().length > 0; i++) {
        clock.advance(1_000);
        await turn();
      }
      expect(p.workers()).toEqual([]);
      await add("healthy", { work: () => "done" });
      await run;
      expect(engine.storage.fetch("v")).toBe("done");
      expect(failures).toEqual([expect.stringMatching(/worker "silent" went away .*did not answer a ping within 3000 ms/)]);
    });

    it("a worker that answers its pings stays, however long the clock runs", async () => {
      const clock = new ManualClock(0);
      const { pool: p, add } = pool({ clock, heartbeatMs: 1_000, heartbeatTimeoutMs: 3_000 });
      await add("alive", { t: () => 1 });
      for (let i = 0; i < 20; i++) {
        clock.advance(1_000);
        await turn();
      }
      expect(p.workers().map((w) => w.name)).toEqual(["alive"]);
    });

    it("a worker's error event drops it at once, failing what it runs", async () => {
      const { pool: p, add } = pool();
      let entered!: () => void;
      const started = new Promise<void>((resolve) => (entered = resolve));
      const channel = new MessageChannel();
      await add("crashing", { work: () => { entered(); return new Promise(() => undefined); } }, channel);
      const outcome = p.execute({ action: "execute", task: "work", atom: "work", flowUuid: "f", args: {}, attempt: 1, idempotencyKey: "k" }, { signal: new AbortController().signal, progress: () => undefined });
      await started;
      channel.port2.dispatchEvent(new Event("error")); // what a Worker fires when its script throws
      expect(await outcome).toMatchObject({ ok: false, worker: "crashing", failure: { excTypeNames: expect.arrayContaining([WorkerLost.name]) as unknown } });
      expect(p.workers()).toEqual([]);
    });

    it("a worker that never says which tasks it serves is not added (WorkerLost), and is terminated", async () => {
      const clock = new ManualClock(0);
      const p = new WorkerPool({ clock, heartbeatTimeoutMs: 2_000 });
      pools.push(p);
      const { port2 } = new MessageChannel(); // nothing listens on the other end
      let terminated = false;
      const adding = p.add(port2, { name: "mute", terminate: () => (terminated = true) });
      const failed = expect(adding).rejects.toThrow(/worker "mute" could not join the pool: it did not say which tasks it serves within 2000 ms/);
      clock.advance(2_000);
      await failed;
      expect(terminated).toBe(true);
      expect(p.workers()).toEqual([]);
    });
  });

  describe("the crash-point harness over flows on the pool (issue 14, item 6)", () => {
    const tasks: Record<string, TaskImplementation> = {
      add: ({ x, y }) => (x as number) + (y as number),
      double: ({ sum }) => (sum as number) * 2,
      square: ({ sum }) => (sum as number) ** 2,
      total: ({ doubled, squared }) => (doubled as number) + (squared as number),
      refuse: () => {
        throw new RangeError("refused");
      },
      "revert:add": () => "undone",
    };
    const flows = {
      "fan-in": () => linearFlow("pool-crash",
        remoteTask({ name: "add", requires: ["x", "y"], provides: "sum" }),
        unorderedFlow("both", remoteTask({ name: "double", requires: ["sum"], provides: "doubled" }), remoteTask({ name: "square", requires: ["sum"], provides: "squared" })),
        remoteTask({ name: "total", requires: ["doubled", "squared"], provides: "out" })),
      // The last task fails: every revert runs on the workers, crashed at each of its writes too.
      reverting: () => linearFlow("pool-revert", remoteTask({ name: "add", requires: ["x", "y"], provides: "sum" }), remoteTask({ name: "double", requires: ["sum"], provides: "doubled" }), remoteTask({ name: "refuse" })),
    };
    for (const engine of ["serial", "parallel"] as const) {
      for (const [shape, makeFlow] of Object.entries(flows)) {
        it(`${shape} flow on the ${engine} engine, its tasks on two workers, ends as if uninterrupted`, async () => {
          const { pool: p, add } = pool();
          await add("w1", tasks);
          await add("w2", tasks);
          const report = await assertCrashSafe({ makeFlow, store: { x: 2, y: 3 }, engine: { engine, executor: p } });
          expect(report.points).toBeGreaterThan(4);
          expect(report.scenarios).toBe(report.points * 2);
        });
      }
    }
  });
});

