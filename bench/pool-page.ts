// Runs in Chromium: the Mandelbrot example's flow (the same image) on a WorkerPool of 1, 2 and 4
// workers and in the page (no executor), on a MemoryBackend, so that what is timed is the
// computing and the pool; and the overhead of one remote task (a no-op through the pool) beside
// a bare Comlink round trip to a no-op in a Worker.
import * as Comlink from "comlink";
import { linearFlow, load, MemoryBackend, remoteTask, task } from "taskflow-ts";
import { WorkerPool } from "taskflow-ts/worker";
import { IMAGE, mandelbrotFlow } from "../examples/mandelbrot/bands.js";

export interface PoolFigure {
  /** "page": the flow run in the page; "pool": on a WorkerPool of `workers`; "noop-*": one no-op task, per task. */
  case: "page" | "pool" | "noop-pool" | "noop-page" | "noop-comlink";
  workers: number;
  ms: number;
}

const SIZES = [1, 2, 4];

async function pool(size: number): Promise<WorkerPool> {
  const p = new WorkerPool({ perWorker: 1 });
  for (let i = 0; i < size; i++) await p.add(new Worker("/pool-worker.js", { type: "module" }));
  return p;
}

async function mandelbrot(p: WorkerPool | undefined): Promise<number> {
  const t0 = performance.now();
  const engine = load(mandelbrotFlow(IMAGE, p !== undefined), { backend: new MemoryBackend(), engine: "parallel", maxConcurrency: 8, ...(p ? { executor: p } : {}) });
  await engine.run();
  const ms = performance.now() - t0;
  if (engine.state !== "SUCCESS") throw new Error(`mandelbrot: the flow ended ${engine.state}`);
  return ms;
}

/** `n` no-op tasks one after another, per task: through the pool, or in the page. */
async function noops(p: WorkerPool | undefined, n: number): Promise<number> {
  const items = Array.from({ length: n }, (_, i) => (p ? remoteTask({ name: `t${i}`, implementation: "noop" }) : task({ name: `t${i}`, execute: () => undefined })));
  const t0 = performance.now();
  await load(linearFlow("noops", ...items), { backend: new MemoryBackend(), ...(p ? { executor: p } : {}) }).run();
  return (performance.now() - t0) / n;
}

/** `n` bare Comlink calls to a no-op in a Worker, one after another, per call. */
async function comlink(remote: Comlink.Remote<{ noop(): void }>, n: number): Promise<number> {
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await remote.noop();
  return (performance.now() - t0) / n;
}

const best = async (times: number, measure: () => Promise<number>) => {
  let ms = Infinity;
  for (let i = 0; i < times; i++) ms = Math.min(ms, await measure());
  return ms;
};

/** `rounds` rounds after a warm-up; in each, every case once, the page's run between the pools'. */
(globalThis as { runPoolBench?: (rounds: number) => Promise<PoolFigure[][]> }).runPoolBench = async (rounds) => {
  const pools = new Map<number, WorkerPool>();
  for (const size of SIZES) pools.set(size, await pool(size));
  const raw = new Worker("/pool-raw-worker.js", { type: "module" });
  const remote = Comlink.wrap<{ noop(): void }>(raw);
  try {
    for (const p of [undefined, ...pools.values()]) await mandelbrot(p);
    await noops(pools.get(1), 200);
    await noops(undefined, 200);
    await comlink(remote, 200);
    const out: PoolFigure[][] = [];
    for (let r = 0; r < rounds; r++) {
      const round: PoolFigure[] = [{ case: "page", workers: 0, ms: await mandelbrot(undefined) }];
      for (const size of SIZES) round.push({ case: "pool", workers: size, ms: await mandelbrot(pools.get(size)) });
      round.push(
        { case: "noop-pool", workers: 1, ms: await best(3, () => noops(pools.get(1), 500)) },
        { case: "noop-page", workers: 0, ms: await best(3, () => noops(undefined, 500)) },
        { case: "noop-comlink", workers: 1, ms: await best(3, () => comlink(remote, 500)) },
      );
      out.push(round);
    }
    return out;
  } finally {
    for (const p of pools.values()) p.close();
    remote[Comlink.releaseProxy]();
    raw.terminate();
  }
};

export const poolSizes = SIZES;
