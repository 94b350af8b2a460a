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
  schemaVersion: 1, uuid: `r${i}`, flowUuid: "f", name: `t${i}`, kind: "task", state: "SUCCESS", intention: "EXECUTE",
  result: 1, version: "1.0", meta: { timestamps: { RUNNING: 1, SUCCESS: 2 }, attempts: 1, progress: 1 }, updatedAt: 2,
});

async function rawFigures(n: number): Promise<IdbFigure[]> {
  // The same store layout as the backend's atom details (its indexes cost on every put too).
  const db = await openDB(`bench-raw-${crypto.randomUUID()}`, 1, {
    upgrade: (d) => {
      const atoms = d.createObjectStore("atoms", { keyPath: "uuid" });
      for (const index of ["flowUuid", "state", "updatedAt"]) atoms.createIndex(index, index);
    },
  });
  let t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const tx = db.transaction("atoms", "readwrite", { durability: "strict" });
    void tx.store.put(record(i));
    await tx.done;
  }
  const one = performance.now() - t0;
  t0 = performance.now();
  const tx = db.transaction("atoms", "readwrite", { durability: "strict" });
  for (let i = 0; i < n; i++) void tx.store.put(record(n + i));
  await tx.done;
  const batched = performance.now() - t0;
  db.close();
  return [
    { case: "raw-put-per-transaction", engine: null, n, ms: one, us_per_atom: (one * 1000) / n, commits_per_atom: 1 },
    { case: "raw-puts-one-transaction", engine: null, n, ms: batched, us_per_atom: (batched * 1000) / n, commits_per_atom: 1 / n },
  ];
}

async function engineFigure(kind: "linear" | "fan", engine: "serial" | "parallel", n: number): Promise<IdbFigure> {
  const backend = await IndexedDbBackend.open(`bench-engine-${crypto.randomUUID()}`);
  const tasks = Array.from({ length: n }, (_, i) => task({ name: `t${i}`, execute: () => 1 }));
  const flow = kind === "linear" ? linearFlow("linear", ...tasks) : unorderedFlow("fan", ...tasks);
  const t0 = performance.now();
  const e = load(flow, { backend, engine, maxConcurrency: 64 });
  await e.run();
  const ms = performance.now() - t0;
  await backend.close();
  return { case: kind, engine, n, ms, us_per_atom: (ms * 1000) / n, commits_per_atom: e.statistics.commits / n };
}

(globalThis as { runIdbBench?: (n: number) => Promise<IdbFigure[]> }).runIdbBench = async (n: number) => {
  await engineFigure("linear", "serial", 50); // warm-up
  return [...(await rawFigures(n)), await engineFigure("linear", "serial", n), await engineFigure("fan", "parallel", n)];
};
