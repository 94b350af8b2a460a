// Runs in Chromium: raw IndexedDB and the engine on IndexedDbBackend, side by side in one page.
import { openDB } from "idb";
import { IndexedDbBackend } from "../adapters/idb/index.js";
import { linearFlow, load, task, unorderedFlow } from "../src/index.js";

export interface IdbFigure {
  case: string;
  engine: string | null;
  n: number;
  ms: number;
  us_per_atom: number;
  commits_per_atom: number | null;
}

/** A record shaped like an atom detail, so raw puts clone what the engine's puts clone. */
const record = (i: number) => ({
  schemaVersion: 2, uuid: `r${i}`, flowUuid: "f", name: `t${i}`, kind: "task", state: "SUCCESS", intention: "EXECUTE",
  result: 1, version: "1.0", timestamps: { RUNNING: 1, SUCCESS: 2 }, attempts: 1, progress: 1, meta: {}, updatedAt: 2,
});

// Every case writes into a database of its own, deleted once measured: a case never pays for
// the compaction of what an earlier case left on disk.
async function deleted(name: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const request = indexedDB.deleteDatabase(name);
    request.onsuccess = () => resolve();
    request.onerror = () => reject(request.error ?? new Error(`could not delete ${name}`));
  });
}

// "one": the usual way, awaiting `done` (the browser commits once it sees no request pending);
// "one-commit": calling `commit()` after the put, as the backend does, which saves a round trip.
async function rawFigure(kind: "one" | "one-commit" | "batched", n: number): Promise<IdbFigure> {
  const name = `bench-raw-${crypto.randomUUID()}`;
  // The same store layout as the backend's atom details (its indexes cost on every put too).
  const db = await openDB(name, 1, {
    upgrade: (d) => {
      const atoms = d.createObjectStore("atoms", { keyPath: "uuid" });
      for (const index of ["flowUuid", "state", "updatedAt"]) atoms.createIndex(index, index);
    },
  });
  const t0 = performance.now();
  if (kind !== "batched") {
    for (let i = 0; i < n; i++) {
      const tx = db.transaction("atoms", "readwrite", { durability: "strict" });
      void tx.store.put(record(i));
      if (kind === "one-commit") tx.commit();
      await tx.done;
    }
  } else {
    const tx = db.transaction("atoms", "readwrite", { durability: "strict" });
    for (let i = 0; i < n; i++) void tx.store.put(record(i));
    await tx.done;
  }
  const ms = performance.now() - t0;
  db.close();
  await deleted(name);
  const label = { one: "raw-put-per-transaction", "one-commit": "raw-put-per-transaction-commit", batched: "raw-puts-one-transaction" }[kind];
  return { case: label, engine: null, n, ms, us_per_atom: (ms * 1000) / n, commits_per_atom: kind === "batched" ? 1 / n : 1 };
}

async function engineFigure(kind: "linear" | "fan", engine: "serial" | "parallel", n: number): Promise<IdbFigure> {
  const name = `bench-engine-${crypto.randomUUID()}`;
  const backend = await IndexedDbBackend.open(name);
  const tasks = Array.from({ length: n }, (_, i) => task({ name: `t${i}`, execute: () => 1 }));
  const flow = kind === "linear" ? linearFlow("linear", ...tasks) : unorderedFlow("fan", ...tasks);
  const t0 = performance.now();
  const e = load(flow, { backend, engine, maxConcurrency: 64 });
  await e.run();
  const ms = performance.now() - t0;
  await backend.close();
  await deleted(name);
  return { case: kind, engine, n, ms, us_per_atom: (ms * 1000) / n, commits_per_atom: e.statistics.commits / n };
}

/**
 * `rounds` rounds of the four cases, each round in the same order, so that each engine figure
 * has a raw figure measured next to it: the disk's speed drifts a lot over a minute on a shared
 * machine, and a ratio of two neighbours drifts much less than a ratio of two distant runs.
 */
(globalThis as { runIdbBench?: (n: number, rounds: number) => Promise<IdbFigure[][]> }).runIdbBench = async (n, rounds) => {
  await engineFigure("linear", "serial", 50); // warm-up
  const out: IdbFigure[][] = [];
  for (let r = 0; r < rounds; r++) {
    // The first two are the baselines the ratios divide by (bench/run.ts reads them by position).
    out.push([
      await rawFigure("one", n), await rawFigure("batched", n), await rawFigure("one-commit", n),
      await engineFigure("linear", "serial", n), await engineFigure("fan", "parallel", n),
    ]);
  }
  return out;
};
