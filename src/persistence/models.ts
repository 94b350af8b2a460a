import type { FailureData } from "../failure.js";
import type { AtomState, FlowState, Intention } from "../states.js";

/**
 * Version of the record layout below; bumped with a migration when it changes. Version 1 kept
 * the engine's fields in `meta`; a version 1 record is migrated when it is read
 * (`migrateRecord` in `src/persistence/validate.ts`), and one of a newer version is refused.
 * @example if (flowDetail.schemaVersion > SCHEMA_VERSION) console.log("written by a newer taskflow-ts")
 */
export const SCHEMA_VERSION = 2;

/**
 * A named collection of flow details: one per job, wizard session, tenant…
 * @example const books = await backend.listLogBooks(); books.map((b) => b.name)
 */
export interface LogBook {
  schemaVersion: typeof SCHEMA_VERSION;
  uuid: string;
  name: string;
  createdAt: number;
  updatedAt: number;
  meta: Record<string, unknown>;
}

/**
 * The stored fingerprint of one atom of a definition, compared on resume.
 * @example flowDetail.fingerprint?.map((a) => `${a.name}@${a.version}`)
 */
export interface AtomFingerprint {
  name: string;
  kind: "task" | "retry";
  requires: string[];
  optional: string[];
  provides: string[];
  version: string;
}

/**
 * The stored structure of one flow of a definition: its kind, its items in order and a graph
 * flow's links, compared on resume (with the atoms' fingerprint). Listed root first, each flow
 * before the flows it holds.
 * @example flowDetail.flows?.map((f) => `${f.pattern} flow ${f.name}: ${f.items.join(", ")}`)
 */
export interface FlowFingerprint {
  name: string;
  pattern: "linear" | "unordered" | "graph";
  /** Where the flow holding it is in the list; none for the root. */
  parent?: number | undefined;
  /** The names of its retry and its items (atoms and subflows), in the order they run or were added. */
  items: string[];
  /**
   * A graph flow's links that requires and provides do not imply (explicit ones, and those with
   * a decider): `[from, to]`, or `[from, to, depth]` for a link with a decider.
   */
  links?: string[][] | undefined;
}

/**
 * How a flow was built, so a host can rebuild it by name (TaskFlow's `load_from_factory`).
 * @example const ref = flowDetail.factory; if (ref) registry.load(ref.name, ref.args, { backend })
 */
export interface FactoryRef {
  name: string;
  args: unknown[];
}

/**
 * One run of one flow definition, in a log book.
 * @example const flow = await backend.getFlowDetail(engine.flowDetailId); flow.state // "SUCCESS"
 */
export interface FlowDetail {
  schemaVersion: typeof SCHEMA_VERSION;
  uuid: string;
  bookUuid: string;
  name: string;
  state: FlowState;
  createdAt: number;
  updatedAt: number;
  /** The definition this detail was run with: its atoms… */
  fingerprint?: AtomFingerprint[] | undefined;
  /** …and its flows (kinds, items, links); absent in a detail stored before they were compared. */
  flows?: FlowFingerprint[] | undefined;
  factory?: FactoryRef | undefined;
  /** Values injected persistently at the flow level (the `store` of `load`). */
  store?: Record<string, unknown> | undefined;
  /** Why the flow last stopped short of a final state: "suspended", "input", "waiting" (a timer), "offline", "storage" (a write failed, e.g. a full quota). */
  suspendedReason?: string | undefined;
  /** When the flow has something to do again (ms since the epoch), if it is waiting on a timer. */
  wakeAt?: number | undefined;
  /** Values provided for waits (`engine.provide`), kept until the wait consumes them. */
  inputs?: Record<string, unknown> | undefined;
  /** What a flow suspended for input waits for: the input names, descriptions and deadlines. */
  waitingFor?: Array<{ name: string; description?: string | undefined; deadline?: number | undefined }> | undefined;
  /** Set by `engine.cancel()`: the flow is to be reverted. */
  cancelled?: { reason: string; at: number } | undefined;
  /** The newest fencing token a runner of this flow wrote with (set by the backend, see {@link Fence}). */
  epoch?: number | undefined;
  /** The user's own details: the engine never reads or writes them. */
  meta: Record<string, unknown>;
}

/**
 * The state of one atom of one flow detail.
 * @example (await backend.getAtomDetails(flowDetailId)).filter((d) => d.state === "FAILURE")
 */
export interface AtomDetail {
  schemaVersion: typeof SCHEMA_VERSION;
  uuid: string;
  flowUuid: string;
  name: string;
  kind: "task" | "retry";
  state: AtomState;
  intention: Intention;
  /** The execute result, present only after a successful execute. */
  result?: unknown;
  failure?: FailureData | undefined;
  revertResult?: unknown;
  revertFailure?: FailureData | undefined;
  version: string;
  progress?: number | undefined;
  progressDetails?: { atProgress: number; details?: unknown } | undefined;
  /** Atom-level arguments injected persistently. */
  injected?: Record<string, unknown> | undefined;
  /** When each state was last entered (ms since the epoch), keyed by state. */
  timestamps?: Partial<Record<AtomState, number>> | undefined;
  /** Not before this time (ms since the epoch): a sleep, or a retry's backoff. */
  wakeAt?: number | undefined;
  /** A wait's deadline (ms since the epoch): stored when the wait starts. */
  deadline?: number | undefined;
  /** Reverted because it failed while the host was offline: it runs again, no attempt spent. */
  requeue?: boolean | undefined;
  /** How many times the atom was reset to PENDING to run anew; part of the idempotency key. */
  generation?: number | undefined;
  /** How many times execute has been started, across crashes and resumes. */
  attempts?: number | undefined;
  /**
   * Which worker ran each attempt, when an executor ran the task (the engine's `executor`):
   * the execute attempt's number, the worker's name, and `revert` for a revert of that attempt.
   */
  workers?: WorkerRun[] | undefined;
  /** Free-form details for users and listeners (the duration listener's `duration`, in seconds); the engine never reads them. */
  meta: Record<string, unknown>;
  updatedAt: number;
}

/**
 * One run of a task on an executor's worker, as the atom detail records it.
 * @example const run: WorkerRun = { attempt: 2, worker: "pool-1#3" }
 */
export interface WorkerRun {
  attempt: number;
  worker: string;
  revert?: boolean | undefined;
}

/**
 * A set of record updates that a backend commits atomically: all of them or none.
 * Records are complete (upserts), so a backend never merges partial records. A batch is the
 * caller's, read-only to the backend: the engine's lists and records in it may be frozen (store
 * copies, as `cloneRecord` makes them, and change those).
 * @example await backend.commit({ logBooks: [book], flows: [flowDetail], atoms: [] })
 */
export interface WriteBatch {
  readonly logBooks: readonly LogBook[];
  readonly flows: readonly FlowDetail[];
  readonly atoms: readonly AtomDetail[];
  /** The writer's lock on the flow: the backend refuses the batch if a newer holder has written. */
  fence?: Fence | undefined;
  /**
   * The state changes this batch commits, in the order they were made: the backend appends them
   * to their flow detail's audit trail in the same transaction as the records (none if it refuses
   * the batch), and never changes or drops one until its log book is deleted.
   */
  readonly transitions?: readonly Transition[] | undefined;
  /**
   * User keys to point at flow details, in the same transaction as the records (see
   * {@link KeyBinding}): a key already bound elsewhere refuses the whole batch with `Duplicate`.
   */
  keys?: KeyBinding[] | undefined;
}

/**
 * One committed state change of a flow or one of its atoms: an entry of the flow detail's audit
 * trail, which keeps every transition (the records keep only the latest time of each state).
 * @example const t: Transition = { flowUuid, atom: "charge", from: "PENDING", to: "RUNNING", at: 1767225600000, attempt: 1, runner: "Xa3…", epoch: 2 }
 */
export interface Transition {
  flowUuid: string;
  /** The atom that moved; none when the flow itself moved. */
  atom?: string | undefined;
  /** The state before; the same as `to` when an action cut short by a crash started again. */
  from: string;
  to: string;
  /** When the engine made the change (ms since the epoch, the engine's clock). */
  at: number;
  /** The atom's execute attempt (its `attempts` after the change), counting from 1. */
  attempt?: number | undefined;
  /** The engine instance that made it (`engine.runnerId`). */
  runner?: string | undefined;
  /** The fencing token the runner wrote it under, if it held the flow's lock. */
  epoch?: number | undefined;
}

/**
 * A {@link Transition} read back from a flow detail's audit trail, numbered in commit order.
 * @example (await readSnapshot(backend, id, { trail: true })).trail?.map((e: TrailEntry) => `${e.seq} ${e.atom ?? "flow"} ${e.from} → ${e.to}`)
 */
export interface TrailEntry extends Transition {
  /** 1, 2, 3… in the order the transitions were committed to this flow detail. */
  seq: number;
}

/**
 * A user key (a wizard's name, a cart id) pointing at the flow detail that runs for it: what
 * `resumeOrStart` looks up to find the flow again. A backend stores it in the batch's transaction
 * if the key is unbound, already bound to `flowUuid`, or bound to `replaces` (a finished or
 * missing flow detail being replaced); otherwise the whole batch is refused with `Duplicate`, so
 * two tabs starting a flow for one key at once store one flow, not two. A key outlives its flow
 * detail: a deleted or expired log book leaves it pointing at nothing (`resumeOrStart` starts anew).
 * @example await backend.commit({ logBooks: [book], flows: [flow], atoms: [], keys: [{ key: "signup:u1", flowUuid: flow.uuid }] })
 */
export interface KeyBinding {
  key: string;
  flowUuid: string;
  /** The flow detail the key may still point at, to be replaced by `flowUuid`. */
  replaces?: string | undefined;
}

/**
 * What a batch written under a flow's lock carries: the flow and the lease's fencing token. A
 * backend checks it in the same transaction as the write (see `checkFence` in
 * `taskflow-ts/backend`): older than the flow's stored `epoch` is refused with `LockLost` and
 * nothing is written; newer is stored as the flow's `epoch`, which shuts out older holders.
 * @example await backend.commit({ logBooks: [], flows: [], atoms: [], fence: { flowUuid, epoch: lease.epoch } }) // claims the flow
 */
export interface Fence {
  flowUuid: string;
  epoch: number;
}
