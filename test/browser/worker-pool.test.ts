// taskflow-ts/worker's WorkerPool in Chromium, on real module Workers (issue 14): tasks run in
// workers, results and failures come back as data, a terminated or crashed worker's task runs
// again on another per the flow's retry, timeouts fire, a transferred result is moved (not
// copied), and nothing is left running once the pool is closed.
import { afterEach, describe, expect, it } from "vitest";
import { linearFlow, load, MemoryBackend, RequestTimeout, remoteTask, Times, unorderedFlow } from "taskflow-ts";
import { ManualClock } from "taskflow-ts/testing";
import { WorkerLost, WorkerPool, type WorkerPoolOptions } from "taskflow-ts/worker";

const pools: WorkerPool[] = [];
afterEach(() => {
  for (const p of pools.splice(0)) p.close();
});

function pool(options: WorkerPoolOptions = {}): WorkerPool {
  const p = new WorkerPool(options);
  pools.push(p);
  return p;
}

/** A module Worker running test/browser/fixtures/pool.worker.ts, added to the pool under a fresh name. */
async function spawn(p: WorkerPool): Promise<{ worker: Worker; name: string }> {
  const name = `w-${crypto.randomUUID()}`;
  const worker = new Worker(new URL("./fixtures/pool.worker.ts", import.meta.url), { type: "module", name });
  await p.add(worker, { name });
  return { worker, name };
}

/** Resolves once the worker named `name` is gone: the Web Lock it held while alive is free. */
const gone = (name: string) => navigator.locks.request(`pool-test-${name}`, () => true);

describe("WorkerPool in Chromium (issue 14)", () => {
  it("runs tasks in the workers (self is a worker scope), spread over them, and records who ran each", async () => {
    const p = pool();
    const names = [(await spawn(p)).name, (await spawn(p)).name];
    const backend = new MemoryBackend();
    const engine = load(unorderedFlow("where", ...["a", "b", "c", "d"].map((n) => remoteTask({ name: n, implementation: "where", provides: n }))), { backend, executor: p, engine: "parallel" });
    await engine.run();
    const answers = ["a", "b", "c", "d"].map((n) => engine.storage.fetch(n) as { workerScope: boolean; name: string });
    expect(answers.every((a) => a.workerScope)).toBe(true);
    expect(new Set(answers.map((a) => a.name))).toEqual(new Set(names));
    const stored = await backend.getAtomDetails(engine.flowDetailId);
    expect(stored.map((d) => d.workers?.[0]?.worker).sort()).toEqual(answers.map((a) => a.name).sort());
  });

  it("brings results and failures back as data: the failure keeps its class names and message", async () => {
    const p = pool();
    await spawn(p);
    const ok = load(linearFlow("sum", remoteTask({ name: "add", requires: ["x", "y"], provides: "sum" })), { executor: p, store: { x: 2, y: 40 } });
    await ok.run();
    expect(ok.storage.fetch("sum")).toBe(42);
    const bad = load(linearFlow("bad", remoteTask({ name: "fail", requires: ["x"] })), { executor: p, store: { x: -1 } });
    await expect(bad.run()).rejects.toThrow(/x must be positive, not -1/);
    expect(bad.storage.getFailure("fail")?.excTypeNames).toContain("RangeError");
  });

  it("a worker terminated while it runs a task is noticed (its pings go unanswered); the flow's retry runs the task on another", async () => {
    // A ping may go unanswered for 2 s: a module Worker takes a while to start on a loaded machine, and add() waits as long for its hello.
    const p = pool({ heartbeatMs: 20, heartbeatTimeoutMs: 2_000 });
    const doomed = await spawn(p);
    const backend = new MemoryBackend();
    const engine = load(linearFlow("r", { retry: new Times(2) }, remoteTask({ name: "work", implementation: "hang-first", provides: "v" })), { backend, executor: p });
    const failures: string[] = [];
    engine.on("atom", (e) => e.state === "FAILURE" && e.failure && failures.push(`${e.failure.excTypeNames[0]}: ${e.failure.exceptionStr}`));
    const started = new Promise<void>((resolve) => engine.on("progress", () => resolve()));
    const run = engine.run();
    await started;
    const healthy = await spawn(p);
    doomed.worker.terminate(); // behind the pool's back: only the pings can tell
    await run;
    expect(engine.storage.fetch("v")).toBe(healthy.name);
    expect(failures).toEqual([expect.stringMatching(new RegExp(`^${WorkerLost.name}: worker "${doomed.name}" went away .*did not answer a ping`))]);
    const stored = (await backend.getAtomDetails(engine.flowDetailId)).find((d) => d.name === "work")!;
    expect(stored.workers?.filter((w) => !w.revert)).toEqual([{ attempt: 1, worker: doomed.name }, { attempt: 2, worker: healthy.name }]);
    expect(p.workers().map((w) => w.name)).toEqual([healthy.name]);
  });

  it("a worker that crashes (an uncaught exception: its error event) is dropped at once; the retry runs the task on another", async () => {
    const p = pool();
    const crashing = await spawn(p);
    const engine = load(linearFlow("c", { retry: new Times(2) }, remoteTask({ name: "work", implementation: "crash-first", provides: "v" })), { executor: p });
    const failures: string[] = [];
    engine.on("atom", (e) => e.state === "FAILURE" && e.failure && failures.push(`${e.failure.excTypeNames[0]}: ${e.failure.exceptionStr}`));
    const run = engine.run();
    const healthy = await spawn(p);
    await run;
    expect(engine.storage.fetch("v")).toBe(healthy.name);
    expect(failures).toEqual([expect.stringMatching(new RegExp(`^${WorkerLost.name}: worker "${crashing.name}" went away .*it crashed: .*the worker fell over`))]);
    await gone(crashing.name);
  });

  it("timeouts fire: a request no worker takes (RequestTimeout from the pool), a task that runs too long (the engine's)", async () => {
    const clock = new ManualClock(0);
    const p = pool({ clock, requestTimeoutMs: 500, heartbeatMs: 0 });
    await spawn(p);
    const lonely = load(linearFlow("lonely", remoteTask({ name: "nobody-serves-me" })), { executor: p, clock });
    const slow = load(linearFlow("slow", remoteTask({ name: "slow", implementation: "hang", timeoutMs: 1_000 })), { executor: p, clock });
    const started = new Promise<void>((resolve) => slow.on("progress", () => resolve()));
    let settled = 0;
    const runs = [lonely.run(), slow.run()].map((r) => r.then(() => "SUCCESS", (e: Error) => `${e.name}: ${e.message}`).finally(() => settled++));
    await started;
    // Both wait on the ManualClock: move it, a turn of the page's loop between moves, until both runs end (bounded).
    for (let i = 0; i < 100 && settled < 2; i++) {
      clock.advance(100);
      await new Promise<void>((resolve) => setTimeout(resolve, 0));
    }
    expect(await Promise.all(runs)).toEqual([
      expect.stringMatching(/^RequestTimeout: .*no worker took it within 500 ms/),
      expect.stringMatching(/^RequestTimeout: .*did not finish within 1000 ms/),
    ]);
    expect(lonely.storage.getFailure("nobody-serves-me")?.check(RequestTimeout)).toBeDefined();
  });

  it("moves a transferred result instead of copying it: the worker's 4 MiB buffer is detached; an untransferred one is not", async () => {
    const p = pool();
    await spawn(p);
    const bytes = 4 * 1024 * 1024;
    const engine = load(linearFlow("bin",
      remoteTask({ name: "moved", implementation: "big", requires: ["bytes"], provides: "moved" }),
      remoteTask({ name: "copied", implementation: "big-copied", requires: ["bytes"], provides: "copied" }),
      remoteTask({ name: "moved?", implementation: "detached", requires: ["task"], inject: { task: "big" }, provides: "movedDetached" }),
      remoteTask({ name: "copied?", implementation: "detached", requires: ["task"], inject: { task: "big-copied" }, provides: "copiedDetached" }),
    ), { executor: p, store: { bytes } });
    await engine.run();
    for (const key of ["moved", "copied"]) {
      const { pixels } = engine.storage.fetch(key) as { pixels: Uint8Array };
      expect([pixels.byteLength, pixels[0], pixels[bytes - 1]]).toEqual([bytes, 7, 7]);
    }
    expect([engine.storage.fetch("movedDetached"), engine.storage.fetch("copiedDetached")]).toEqual([true, false]);
  });

  it("leaves nothing running once closed: every worker terminated (its lock released), waiting requests failed", async () => {
    const p = pool();
    const names = [(await spawn(p)).name, (await spawn(p)).name];
    const engine = load(unorderedFlow("where", ...names.map((n, i) => remoteTask({ name: `t${i}`, implementation: "where", provides: `t${i}` }))), { executor: p, engine: "parallel" });
    await engine.run(); // each worker answered after taking its lock
    const waiting = p.execute({ action: "execute", task: "nobody-serves-me", atom: "a", flowUuid: "f", args: {}, attempt: 1, idempotencyKey: "k" }, { signal: new AbortController().signal, progress: () => undefined });
    p.close();
    expect(p.workers()).toEqual([]);
    expect(await waiting).toMatchObject({ ok: false, failure: { excTypeNames: expect.arrayContaining([RequestTimeout.name]) as unknown } });
    expect(await Promise.all(names.map(gone))).toEqual([true, true]);
  });
});
