// Runs in Chromium: the same 1,000-atom flow on IndexedDB run in the page and in a Web Worker
// (taskflow-ts/worker), timed in the page from the call to the flow's end.
import { load } from "taskflow-ts";
import { IndexedDbBackend } from "taskflow-ts/idb";
import { connectRunner } from "taskflow-ts/worker";
import { benchFlows } from "./worker-flows.js";

export interface WorkerFigure {
  /** "page": load + run in the page; "worker": start + run through the client; "worker-subscribed": the same with every atom transition sent to the page. */
  case: "page" | "worker" | "worker-subscribed";
  n: number;
  ms: number;
}

const WARM_UP = [200, 200];

async function deleted(name: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const request = indexedDB.deleteDatabase(name);
    request.onsuccess = () => resolve();
    request.onerror = () => reject(request.error ?? new Error(`could not delete ${name}`));
  });
}

/** The flow built, loaded and run in the page, on a database of its own (after a warm-up on it). */
async function inPage(n: number): Promise<WorkerFigure> {
  const name = `bench-page-${crypto.randomUUID()}`;
  const backend = await IndexedDbBackend.open(name);
  for (const w of WARM_UP) await load(benchFlows.linear(w), { backend }).run();
  const t0 = performance.now();
  const engine = load(benchFlows.linear(n), { backend });
  await engine.run();
  const ms = performance.now() - t0;
  if (engine.statistics.executed !== n) throw new Error(`page: executed ${engine.statistics.executed} atoms, expected ${n}`);
  await backend.close();
  await deleted(name);
  return { case: "page", n, ms };
}

/**
 * The flow started and run to its end in a new Worker, on a database of its own (after the same
 * warm-up there): built by the worker's factory, run by its engine, the end's snapshot sent back.
 */
async function inWorker(n: number, subscribed: boolean): Promise<WorkerFigure> {
  const name = `bench-worker-${crypto.randomUUID()}`;
  const worker = new Worker("/worker.js", { type: "module", name });
  const runner = connectRunner<typeof benchFlows>(worker);
  for (const w of WARM_UP) await runner.run((await runner.start("linear", [w])).uuid);
  let seen = 0;
  if (subscribed) await runner.subscribe({ atom: () => void seen++ });
  const t0 = performance.now();
  const { uuid } = await runner.start("linear", [n]);
  const done = await runner.run(uuid);
  const ms = performance.now() - t0;
  if (done.state !== "SUCCESS" || done.atoms.filter((a) => a.state === "SUCCESS").length !== n) throw new Error(`worker: the flow ended ${done.state}`);
  if (subscribed) {
    await runner.stats(); // every event posted before this answer has arrived
    if (seen !== 2 * n) throw new Error(`worker: ${seen} atom transitions reached the page, expected ${2 * n}`);
  }
  await runner.close();
  worker.terminate();
  await deleted(name);
  return { case: subscribed ? "worker-subscribed" : "worker", n, ms };
}

/** `rounds` rounds; each measures the page and the worker next to each other, alternating which goes first. */
(globalThis as { runWorkerBench?: (n: number, rounds: number) => Promise<WorkerFigure[][]> }).runWorkerBench = async (n, rounds) => {
  const out: WorkerFigure[][] = [];
  for (let r = 0; r < rounds; r++) {
    const page = r % 2 === 0 ? await inPage(n) : undefined;
    const worker = await inWorker(n, false);
    const subscribed = await inWorker(n, true);
    out.push([page ?? (await inPage(n)), worker, subscribed]);
  }
  return out;
};
