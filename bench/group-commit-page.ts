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
  /**
   * Where a round's time goes (ms from `run()`): the last job claimed, the first and last flow
   * to start running, the first and last job consumed.
   */
  phases: { claimed: number; firstRunning: number; lastRunning: number; firstConsumed: number; lastConsumed: number };
  /** The backend calls of the round, by method (what each job's conductor and engine asked). */
  calls: Record<string, number>;
}

/** The backend's calls, counted by method name. */
function counted<T extends object>(target: T, calls: Record<string, number>): T {
  return new Proxy(target, {
    get(t, key, receiver) {
      const value = Reflect.get(t, key, receiver) as unknown;
      if (typeof value !== "function" || typeof key !== "string") return value;
      return (...args: unknown[]) => {
        calls[key] = (calls[key] ?? 0) + 1;
        return (value as (...a: unknown[]) => unknown).apply(t, args);
      };
    },
  });
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

/** IndexedDB requests, by store or index method (`put`, `get`, `index.getAll`…): every connection's. */
const requests = new Map<string, number>();
for (const [proto, prefix] of [[IDBObjectStore.prototype, ""], [IDBIndex.prototype, "index."]] as const) {
  for (const method of ["put", "add", "get", "getKey", "getAll", "getAllKeys", "delete", "count", "openCursor", "openKeyCursor"] as const) {
    const original = (proto as unknown as Record<string, (...a: unknown[]) => unknown>)[method];
    if (typeof original !== "function") continue;
    (proto as unknown as Record<string, unknown>)[method] = function (this: unknown, ...args: unknown[]) {
      requests.set(prefix + method, (requests.get(prefix + method) ?? 0) + 1);
      return original.apply(this, args);
    };
  }
}

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
  const calls: Record<string, number> = {};
  const conductor = new Conductor({ name: "tab", board, backend: counted(backend, calls), flows, maxJobs: jobs, onEngine: (engine) => void engines.push(engine) });
  let consumed = 0;
  const at = { claimed: [] as number[], running: [] as number[], consumed: [] as number[] };
  conductor.on("claimed", () => void at.claimed.push(performance.now() - t0));
  conductor.on("stage", ({ stage, phase }) => void (stage === "running" && phase === "start" && at.running.push(performance.now() - t0)));
  conductor.on("consumed", ({ state }) => void (state === "SUCCESS" && consumed++ >= 0 && at.consumed.push(performance.now() - t0)));
  writes.clear();
  requests.clear();
  const t0 = performance.now();
  await conductor.run({ maxDispatches: jobs });
  const ms = performance.now() - t0;
  if (consumed !== jobs) throw new Error(`${consumed} of ${jobs} jobs ended SUCCESS`);
  const commits = engines.reduce((n, e) => n + e.statistics.commits, 0);
  for (const [method, n] of requests) calls[`idb ${method}`] = n;
  const transactions = writes.get(name) ?? 0;
  const reads = writes.get(`${name}:ro`) ?? 0;
  const boardTransactions = writes.get(`${name}-jobs`) ?? 0;
  await backend.close();
  await board.close();
  await deleted(name);
  await deleted(`${name}-jobs`);
  const phases = {
    claimed: Math.max(...at.claimed), firstRunning: Math.min(...at.running), lastRunning: Math.max(...at.running),
    firstConsumed: Math.min(...at.consumed), lastConsumed: Math.max(...at.consumed),
  };
  return { case: grouped ? "grouped" : "one-per-flow", jobs, atoms, ms, atoms_per_s: (jobs * atoms * 1000) / ms, transactions, reads, board: boardTransactions, commits, phases, calls };
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

/** What raw IndexedDB allows: the time of `batches` batches of the puts one commit makes, one transaction each and `perTx` a transaction. */
export interface RawCeiling {
  batches: number;
  perTx: number;
  /** Puts per batch: two atom details, the audit trail's record, the fencing check's entry. */
  puts: number;
  oneMs: number;
  groupedMs: number;
}

/**
 * The ceiling of group commit here: the same puts as the engines' commits (no engine, no
 * conductor, no checks), one readwrite transaction per batch against `perTx` batches per
 * transaction, one transaction after another as a flow's commits go, durability strict.
 */
async function rawCeiling(batches: number, perTx: number): Promise<RawCeiling> {
  const name = `bench-raw-${crypto.randomUUID()}`;
  const db = await new Promise<IDBDatabase>((resolve, reject) => {
    const request = indexedDB.open(name, 1);
    request.onupgradeneeded = () => {
      for (const store of ["atoms", "trail", "superseded"]) request.result.createObjectStore(store);
    };
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error ?? new Error(`could not open ${name}`));
  });
  const atom = (i: number, k: number) => ({ uuid: `a-${i}-${k}`, flowUuid: `f-${i % 100}`, name: `t${k}`, state: "SUCCESS", result: 1, attempts: 1, timestamps: { RUNNING: i, SUCCESS: i }, version: 3 });
  let n = 0;
  const write = (count: number) =>
    new Promise<void>((resolve, reject) => {
      const tx = db.transaction(["atoms", "trail", "superseded"], "readwrite", { durability: "strict" });
      for (let b = 0; b < count; b++, n++) {
        tx.objectStore("atoms").put(atom(n, 0), `a-${n}-0`);
        tx.objectStore("atoms").put(atom(n, 1), `a-${n}-1`);
        tx.objectStore("trail").put({ flowUuid: `f-${n % 100}`, entries: [{ atom: "t0", from: "RUNNING", to: "SUCCESS", at: n }] }, n);
        tx.objectStore("superseded").put({ token: [`f-${n % 100}`, 1] }, [`f-${n % 100}`]);
      }
      tx.oncomplete = () => resolve();
      tx.onerror = () => reject(tx.error ?? new Error("transaction failed"));
      tx.commit();
    });
  await write(10); // warm
  let t0 = performance.now();
  for (let b = 0; b < batches; b++) await write(1);
  const oneMs = performance.now() - t0;
  t0 = performance.now();
  for (let b = 0; b < batches; b += perTx) await write(Math.min(perTx, batches - b));
  const groupedMs = performance.now() - t0;
  db.close();
  await deleted(name);
  return { batches, perTx, puts: 4, oneMs, groupedMs };
}
(globalThis as { runRawCeiling?: typeof rawCeiling }).runRawCeiling = rawCeiling;
