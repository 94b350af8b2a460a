// Runs in Chromium: one tab's conductor runs many jobs at once on IndexedDB, with the backend's
// group commit (the default) and with one transaction per flow's batch (`groupCommits: false`).
import { IndexedDbBackend, IndexedDbJobBoard } from "../adapters/idb/index.js";
import { FlowRegistry, linearFlow, task, type Engine } from "../src/index.js";
import { Conductor } from "../src/jobs/index.js";

export interface GroupCommitFigure {
  case: "grouped" | "one-per-flow";
  jobs: number;
  atoms: number;
  ms: number;
  atoms_per_s: number;
  /** Readwrite transactions on the log books' database (commits and claims). */
  transactions: number;
  /** Readonly transactions on it (each engine's load). */
  reads: number;
  /** Readwrite transactions on the job board's database (claims, renewals, consumes). */
  board: number;
  /** Batches the engines committed. */
  commits: number;
}

async function deleted(name: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const request = indexedDB.deleteDatabase(name);
    request.onsuccess = () => resolve();
    request.onerror = () => reject(request.error ?? new Error(`could not delete ${name}`));
  });
}

/** Transactions per database name (`name:ro` for readonly ones), counted from the prototype: every connection's. */
const writes = new Map<string, number>();
const original = IDBDatabase.prototype.transaction;
IDBDatabase.prototype.transaction = function (this: IDBDatabase, stores: string | string[], mode?: IDBTransactionMode, options?: IDBTransactionOptions) {
  const key = mode === "readwrite" ? this.name : `${this.name}:ro`;
  writes.set(key, (writes.get(key) ?? 0) + 1);
  return original.call(this, stores, mode, options);
} as typeof original;

/**
 * `jobs` jobs of a linear flow of `atoms` no-op tasks, posted first (untimed), then claimed and
 * run by one conductor with `maxJobs: jobs` (all at once, as one tab's non-blocking conductor):
 * timed from `run()` to the last job consumed.
 */
async function figure(grouped: boolean, jobs: number, atoms: number): Promise<GroupCommitFigure> {
  const name = `bench-group-${crypto.randomUUID()}`;
  const backend = await IndexedDbBackend.open(name, { groupCommits: grouped });
  const board = await IndexedDbJobBoard.open(`${name}-jobs`);
  const flows = new FlowRegistry().register("noop", () => linearFlow("noop", ...Array.from({ length: atoms }, (_, i) => task({ name: `t${i}`, execute: () => 1 }))));
  for (let i = 0; i < jobs; i++) await board.post({ flow: "noop" });
  const engines: Engine[] = [];
  const conductor = new Conductor({ name: "tab", board, backend, flows, maxJobs: jobs, onEngine: (engine) => void engines.push(engine) });
  let consumed = 0;
  conductor.on("consumed", ({ state }) => void (state === "SUCCESS" && consumed++));
  writes.clear();
  const t0 = performance.now();
  await conductor.run({ maxDispatches: jobs });
  const ms = performance.now() - t0;
  if (consumed !== jobs) throw new Error(`${consumed} of ${jobs} jobs ended SUCCESS`);
  const commits = engines.reduce((n, e) => n + e.statistics.commits, 0);
  const transactions = writes.get(name) ?? 0;
  const reads = writes.get(`${name}:ro`) ?? 0;
  const boardTransactions = writes.get(`${name}-jobs`) ?? 0;
  await backend.close();
  await board.close();
  await deleted(name);
  await deleted(`${name}-jobs`);
  return { case: grouped ? "grouped" : "one-per-flow", jobs, atoms, ms, atoms_per_s: (jobs * atoms * 1000) / ms, transactions, reads, board: boardTransactions, commits };
}

/** `rounds` rounds of both cases, in alternating order from round to round. */
(globalThis as { runGroupCommitBench?: (jobs: number, atoms: number, rounds: number) => Promise<GroupCommitFigure[][]> }).runGroupCommitBench = async (jobs, atoms, rounds) => {
  await figure(true, 10, atoms); // warm-up
  await figure(false, 10, atoms);
  const out: GroupCommitFigure[][] = [];
  for (let r = 0; r < rounds; r++) {
    // [grouped, one per flow], measured in alternating order so that the disk's drift favours neither.
    if (r % 2 === 0) {
      const grouped = await figure(true, jobs, atoms);
      out.push([grouped, await figure(false, jobs, atoms)]);
    } else {
      const single = await figure(false, jobs, atoms);
      out.push([await figure(true, jobs, atoms), single]);
    }
  }
  return out;
};
