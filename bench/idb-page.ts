// Runs in Chromium: raw IndexedDB and the engine on IndexedDbBackend, side by side in one page.
import { openDB } from "idb";
import { IndexedDbBackend } from "../adapters/idb/index.js";
import { linearFlow, load, task, unorderedFlow, type AtomDetail, type WriteBatch } from "../src/index.js";

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

// Engines take the flow's lock (Web Locks) and fence every commit by default; "unfenced" runs
// the same flow with `lock: false`, to price the fence of each commit.
async function engineFigure(kind: "linear" | "fan", engine: "serial" | "parallel", n: number, fenced = true): Promise<IdbFigure> {
  const name = `bench-engine-${crypto.randomUUID()}`;
  const backend = await IndexedDbBackend.open(name);
  const tasks = Array.from({ length: n }, (_, i) => task({ name: `t${i}`, execute: () => 1 }));
  const flow = kind === "linear" ? linearFlow("linear", ...tasks) : unorderedFlow("fan", ...tasks);
  const t0 = performance.now();
  const e = load(flow, { backend, engine, maxConcurrency: 64, ...(fenced ? {} : { lock: false as const }) });
  await e.run();
  const ms = performance.now() - t0;
  await backend.close();
  await deleted(name);
  return { case: fenced ? kind : `${kind}-unfenced`, engine, n, ms, us_per_atom: (ms * 1000) / n, commits_per_atom: e.statistics.commits / n };
}

/**
 * `runs` runs of a one-task flow, each on its own flow detail, with the flow's lock (Web Locks:
 * acquire, claim in one transaction, release) or without (`lock: false`): the difference is
 * what the lock costs a run. µs per atom is µs per run here.
 */
async function runsFigure(runs: number, locked: boolean): Promise<IdbFigure> {
  const name = `bench-runs-${crypto.randomUUID()}`;
  const backend = await IndexedDbBackend.open(name);
  const engines = Array.from({ length: runs }, () => load(linearFlow("one", task({ name: "t", execute: () => 1 })), { backend, ...(locked ? {} : { lock: false as const }) }));
  for (const e of engines) await e.save(); // stored first: the lock is taken on a stored flow, as after a reload
  let commits = 0;
  const t0 = performance.now();
  for (const e of engines) {
    await e.run();
    commits += e.statistics.commits;
  }
  const ms = performance.now() - t0;
  await backend.close();
  await deleted(name);
  return { case: locked ? "run-one-task-locked" : "run-one-task-unlocked", engine: "serial", n: runs, ms, us_per_atom: (ms * 1000) / runs, commits_per_atom: commits / runs };
}

/** The two transitions a serial engine's commit carries: one atom's SUCCESS, the next one's RUNNING. */
const moves = (flowUuid: string, i: number, runner: string, epoch: number) => [
  { flowUuid, atom: `t${i}`, from: "RUNNING", to: "SUCCESS", at: 1_767_225_600_000 + i, attempt: 1, runner, epoch },
  { flowUuid, atom: `t${i + 1}`, from: "PENDING", to: "RUNNING", at: 1_767_225_600_000 + i, attempt: 1, runner, epoch },
];

/** A one-task flow saved on a new database, and the token this connection claimed for it: what the commit-by-commit figures write on. */
async function claimedFlow(kind: string) {
  const name = `bench-${kind}-${crypto.randomUUID()}`;
  const backend = await IndexedDbBackend.open(name);
  const engine = load(linearFlow(kind, task({ name: "t", execute: () => 1 })), { backend, lock: false });
  await engine.save();
  const flowUuid = engine.flowDetailId;
  return { name, backend, runner: engine.runnerId, flowUuid, epoch: await backend.claim(flowUuid) };
}

/**
 * The fence's cost per commit, free of the disk's drift between two runs: commits of one atom
 * detail with the engine's two transitions on one stored flow detail, fenced with the token this
 * connection claimed (the engine's path for every commit of a run) and unfenced, alternating
 * commit by commit; each kind's mean.
 */
async function fenceCheckFigures(n: number): Promise<IdbFigure[]> {
  const { name, backend, runner, flowUuid, epoch } = await claimedFlow("fence");
  const ms = { fenced: 0, unfenced: 0 };
  for (let i = 0; i < n; i++) {
    for (const fenced of i % 2 === 0 ? [true, false] : [false, true]) {
      const atom = { ...record(2 * i + (fenced ? 1 : 0)), flowUuid } as unknown as AtomDetail;
      const batch: WriteBatch = { logBooks: [], flows: [], atoms: [atom], transitions: moves(flowUuid, 2 * i + (fenced ? 1 : 0), runner, epoch), ...(fenced ? { fence: { flowUuid, epoch } } : {}) };
      const t0 = performance.now();
      await backend.commit(batch);
      ms[fenced ? "fenced" : "unfenced"] += performance.now() - t0;
    }
  }
  await backend.close();
  await deleted(name);
  return (["fenced", "unfenced"] as const).map((kind) => ({ case: `commit-${kind}-interleaved`, engine: null, n, ms: ms[kind], us_per_atom: (ms[kind] * 1000) / n, commits_per_atom: 1 }));
}

/**
 * The audit trail's cost per commit (issue 15, item 3), free of the disk's drift: commits of one
 * atom detail, fenced as the engine's are, with the two transitions a serial engine's commit
 * carries (one atom's SUCCESS, the next one's RUNNING) and without any, alternating commit by
 * commit (the first checks its token by its trail record's key, the second by a request of its
 * own); then, in raw IndexedDB, an atom put alone, with one trail record holding both
 * transitions (what the backend stores), and with one record per transition (the other layout).
 */
async function trailCostFigures(n: number): Promise<IdbFigure[]> {
  const { name, backend, runner, flowUuid, epoch } = await claimedFlow("trail");
  const ms = { trail: 0, none: 0 };
  for (let i = 0; i < n; i++) {
    for (const kind of i % 2 === 0 ? (["trail", "none"] as const) : (["none", "trail"] as const)) {
      const atom = { ...record(2 * i + (kind === "trail" ? 1 : 0)), flowUuid } as unknown as AtomDetail;
      const batch: WriteBatch = { logBooks: [], flows: [], atoms: [atom], fence: { flowUuid, epoch }, ...(kind === "trail" ? { transitions: moves(flowUuid, i, runner, epoch) } : {}) };
      const t0 = performance.now();
      await backend.commit(batch);
      ms[kind] += performance.now() - t0;
    }
  }
  await backend.close();
  await deleted(name);
  // Raw: the two layouts of the trail, beside a put of the atom alone.
  const rawName = `bench-trail-raw-${crypto.randomUUID()}`;
  const db = await openDB(rawName, 1, {
    upgrade: (d) => {
      const atoms = d.createObjectStore("atoms", { keyPath: "uuid" });
      for (const index of ["flowUuid", "state", "updatedAt"]) atoms.createIndex(index, index);
      d.createObjectStore("trail"); // as the backend keys it: [flowUuid, n]
    },
  });
  const raw = { alone: 0, "one-record": 0, "record-per-transition": 0 };
  const kinds = Object.keys(raw) as Array<keyof typeof raw>;
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < kinds.length; k++) {
      const kind = kinds[(i + k) % kinds.length] as keyof typeof raw;
      const t0 = performance.now();
      const tx = db.transaction(["atoms", "trail"], "readwrite", { durability: "strict" });
      void tx.objectStore("atoms").put({ ...record(3 * i + k), flowUuid });
      const entries = moves(flowUuid, i, "raw", 1);
      if (kind === "one-record") void tx.objectStore("trail").add({ flowUuid, entries }, [flowUuid, 3 * i + k]);
      if (kind === "record-per-transition") entries.forEach((t, j) => void tx.objectStore("trail").add(t, [flowUuid, 3 * i + k, j]));
      tx.commit();
      await tx.done;
      raw[kind] += performance.now() - t0;
    }
  }
  db.close();
  await deleted(rawName);
  const figure = (label: string, total: number): IdbFigure => ({ case: label, engine: null, n, ms: total, us_per_atom: (total * 1000) / n, commits_per_atom: 1 });
  return [figure("commit-with-trail-interleaved", ms.trail), figure("commit-without-trail-interleaved", ms.none), ...kinds.map((k) => figure(`raw-trail-${k}-interleaved`, raw[k]))];
}

/** Runs of a one-task flow per round, for the cost of a lock per run. */
const RUNS = 200;

/**
 * `rounds` rounds of the cases, each round in the same order, so that each engine figure
 * has a raw figure measured next to it: the disk's speed drifts a lot over a minute on a shared
 * machine, and a ratio of two neighbours drifts much less than a ratio of two distant runs.
 */
(globalThis as { runIdbBench?: (n: number, rounds: number) => Promise<IdbFigure[][]> }).runIdbBench = async (n, rounds) => {
  await engineFigure("linear", "serial", 50); // warm-up
  const out: IdbFigure[][] = [];
  for (let r = 0; r < rounds; r++) {
    // The first two are the baselines the ratios divide by (bench/run.ts reads them by position).
    const raw = [await rawFigure("one", n), await rawFigure("batched", n), await rawFigure("one-commit", n)];
    // Fenced and unfenced side by side, in alternating order from round to round, so that the
    // disk's drift does not favour one of them.
    const pair = async <T>(a: () => Promise<T>, b: () => Promise<T>): Promise<[T, T]> => (r % 2 === 0 ? [await a(), await b()] : (([y, x]) => [x, y] as [T, T])([await b(), await a()]));
    const [linear, unfenced] = await pair(() => engineFigure("linear", "serial", n), () => engineFigure("linear", "serial", n, false));
    const fan = await engineFigure("fan", "parallel", n);
    const [locked, unlocked] = await pair(() => runsFigure(RUNS, true), () => runsFigure(RUNS, false));
    out.push([...raw, linear, unfenced, fan, locked, unlocked, ...(await fenceCheckFigures(n)), ...(await trailCostFigures(n))]);
  }
  return out;
};
