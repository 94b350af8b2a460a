// Runs in Chromium: the same 1,000-atom flow on IndexedDB run in the page and in a Web Worker
// (taskflow-ts/worker), timed in the page from the call to the flow's end; and on a
// MemoryBackend, where no disk hides what the worker adds.
import { load, MemoryBackend, type Backend } from "taskflow-ts";
import { IndexedDbBackend } from "taskflow-ts/idb";
import { connectRunner, type RunnerClient } from "taskflow-ts/worker";
import { benchFlows } from "./worker-flows.js";

export interface WorkerFigure {
  backend: "idb" | "memory";
  /** "page": load + run in the page; "worker": start + run through the client; "worker-subscribed": the same with every atom transition sent to the page. */
  case: "page" | "worker" | "worker-subscribed";
  n: number;
  ms: number;
}
type Runner = RunnerClient<typeof benchFlows>;

/** The flow built, loaded and run in the page. */
async function inPage(backend: Backend, n: number): Promise<number> {
  const t0 = performance.now();
  const engine = load(benchFlows.linear(n), { backend });
  await engine.run();
  const ms = performance.now() - t0;
  if (engine.statistics.executed !== n) throw new Error(`page: executed ${engine.statistics.executed} atoms, expected ${n}`);
  return ms;
}

/** The flow started and run to its end in the worker: built by its factory, run by its engine, the end's snapshot sent back. */
async function inWorker(runner: Runner, n: number, subscribed = false): Promise<number> {
  let seen = 0;
  const off = subscribed ? await runner.subscribe({ atom: () => void seen++ }) : undefined;
  const t0 = performance.now();
  const { uuid } = await runner.start("linear", [n]);
  const done = await runner.run(uuid);
  const ms = performance.now() - t0;
  if (done.state !== "SUCCESS" || done.atoms.filter((a) => a.state === "SUCCESS").length !== n) throw new Error(`worker: the flow ended ${done.state}`);
  if (off) {
    await runner.stats(); // every event posted before this answer has arrived
    if (seen !== 2 * n) throw new Error(`worker: ${seen} atom transitions reached the page, expected ${2 * n}`);
    await off();
  }
  return ms;
}

const best = async (times: number, measure: () => Promise<number>) => {
  let ms = Infinity;
  for (let i = 0; i < times; i++) ms = Math.min(ms, await measure());
  return ms;
};

async function deleted(name: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const request = indexedDB.deleteDatabase(name);
    request.onsuccess = () => resolve();
    request.onerror = () => reject(request.error ?? new Error(`could not delete ${name}`));
  });
}

/**
 * `rounds` rounds, after a warm-up of both sides. On IndexedDB each side has a database of its
 * own, kept for the whole section so that both grow alike, and a round runs page, worker, worker,
 * page (worker, page, page, worker every other round) and compares the means: the disk's speed
 * drifts a lot over a minute on a shared machine, and a pair measured around the same moment
 * drifts much less. On the MemoryBackend, where no disk hides what the worker adds, a round takes
 * the best of 5 runs of each case, as the memory benchmark does; with every atom transition sent
 * to the page too.
 */
(globalThis as { runWorkerBench?: (n: number, rounds: number) => Promise<WorkerFigure[][]> }).runWorkerBench = async (n, rounds) => {
  const pageDb = `bench-page-${crypto.randomUUID()}`;
  const workerDb = `bench-worker-${crypto.randomUUID()}`;
  const backend = await IndexedDbBackend.open(pageDb);
  const workers = [new Worker("/worker.js", { type: "module", name: workerDb }), new Worker("/worker.js", { type: "module", name: "memory" })];
  const [idb, memory] = workers.map((w) => connectRunner<typeof benchFlows>(w)) as [Runner, Runner];
  try {
    for (let i = 0; i < 3; i++) {
      await inPage(backend, 200);
      await inWorker(idb, 200);
      await inPage(new MemoryBackend(), n);
      await inWorker(memory, n, i === 2);
    }
    const out: WorkerFigure[][] = [];
    for (let r = 0; r < rounds; r++) {
      const page = () => inPage(backend, n);
      const worker = () => inWorker(idb, n);
      const [a, b, c, d] = r % 2 === 0 ? [await page(), await worker(), await worker(), await page()] : [await worker(), await page(), await page(), await worker()];
      const [pages, workerRuns] = r % 2 === 0 ? [[a, d], [b, c]] : [[b, c], [a, d]];
      const mean = (xs: Array<number | undefined>) => xs.reduce<number>((sum, x) => sum + (x ?? 0), 0) / xs.length;
      out.push([
        { backend: "idb", case: "page", n, ms: mean(pages) },
        { backend: "idb", case: "worker", n, ms: mean(workerRuns) },
        { backend: "memory", case: "page", n, ms: await best(5, () => inPage(new MemoryBackend(), n)) },
        { backend: "memory", case: "worker", n, ms: await best(5, () => inWorker(memory, n)) },
        { backend: "memory", case: "worker-subscribed", n, ms: await best(5, () => inWorker(memory, n, true)) },
      ]);
    }
    return out;
  } finally {
    for (const r of [idb, memory]) await r.close();
    for (const w of workers) w.terminate();
    await backend.close();
    await deleted(pageDb);
    await deleted(workerDb);
  }
};
