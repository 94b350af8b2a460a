// What a FlowRunner says about a flow, and when its alarm must run it: both read from the
// stored records alone, so they hold in any life of the object (no engine needed).
import type { AtomDetail, AtomState, FlowDetail, FlowSnapshot, FlowState, LogBook } from "taskflow-ts";
import type { FlowEntry } from "./runner-index.js";

/**
 * A value from the log book: structured-cloneable data (JSON, and also Dates, Maps, bytes…),
 * checked by the engine before it was stored. Typed loosely on purpose: RPC stubs are typed only
 * for serializable types (`unknown` is not one), and a recursive type is too deep for them.
 * @example
 * const receipt: Cloneable = (await jobs.get("order-1")).atoms.charge?.result;
 */
export type Cloneable = string | number | boolean | bigint | null | undefined | object;

/**
 * `T` with every `unknown` in it read as {@link Cloneable}: a stored record as RPC carries it.
 * @example
 * type StoredFlow = Wire<FlowDetail>; // a flow detail as RPC carries it
 */
export type Wire<T> = unknown extends T ? Cloneable : T extends Array<infer U> ? Array<Wire<U>> : T extends object ? { [K in keyof T]: Wire<T[K]> } : T;

/**
 * The state of one flow, as `get(id)` and `GET /flows/:id` return it.
 * @example
 * const { state, waitingFor, wakeAt } = await jobs.get("order-1");
 * if (waitingFor.length > 0) askFor(waitingFor[0]?.name);
 */
export interface FlowStatus {
  /** The caller's id. */
  id: string;
  /** The registry name of the flow. */
  flow: string;
  /** PENDING until the first run writes more (also while the flow detail is being created). */
  state: FlowState;
  /**
   * Why a SUSPENDED flow stopped: "input" (see `waitingFor`), "waiting" (a timer, see
   * `wakeAt`), or "suspended" (asked to; `resume` goes on).
   */
  suspendedReason?: string | undefined;
  /** When the alarm runs the flow again (ms since the epoch): a sleep, a backoff, a wait's deadline. */
  wakeAt?: number | undefined;
  /** The inputs the flow waits for (`provide` them). */
  waitingFor: Array<{ name: string; description?: string | undefined; deadline?: number | undefined }>;
  /** Each atom's state, with its result, or its failure. */
  atoms: { [name: string]: AtomStatus };
  /**
   * Whether the runner will run the flow again by itself: now (it was just started, given its
   * input, revised, resumed, or interrupted), or at `wakeAt`. False when it waits for an input,
   * is suspended, or has ended, so a client polling for the end stops when `pending` is false.
   */
  pending: boolean;
  /** Why the runner stopped trying to run the flow (for example, a definition changed incompatibly); `resume` tries again. */
  error?: string | undefined;
  /** The flow detail in the log book (see `logBook(id)`). */
  flowDetailId?: string | undefined;
}

/**
 * One atom of a {@link FlowStatus}: its state, and its result or failure.
 * @example
 * const charge = (await jobs.get("order-1")).atoms.charge;
 * console.log(charge?.state, charge?.result ?? charge?.failure?.message);
 */
export interface AtomStatus {
  state: AtomState;
  /** What execute returned (SUCCESS); for a retry, the value of its last try. */
  result?: Cloneable;
  failure?: { type: string; message: string } | undefined;
}

/**
 * Every record of a flow, as `logBook(id)` and `GET /flows/:id/log` return them.
 * @example
 * const { flowDetail, atomDetails } = await jobs.logBook("order-1");
 */
export type FlowLog = Wire<{ logBook: LogBook; flowDetail: FlowDetail; atomDetails: AtomDetail[] }>;

/** The status of a flow, read from its entry and a snapshot of its log book (none while its start is being written). */
export function statusOf(entry: FlowEntry, snap: FlowSnapshot | undefined, now: number): FlowStatus {
  const pending = dueAt(entry, snap, now) !== undefined;
  const status: FlowStatus = { id: entry.id, flow: entry.flow, state: snap?.state ?? "PENDING", pending, waitingFor: [], atoms: {} };
  if (snap) {
    status.flowDetailId = snap.uuid;
    if (snap.state === "SUSPENDED") {
      // A held flow stays suspended whatever it waited for: its timer no longer wakes it.
      status.suspendedReason = entry.held ? "suspended" : snap.suspendedReason;
      if (!entry.held && snap.wakeAt !== undefined) status.wakeAt = snap.wakeAt;
      status.waitingFor = [...snap.waitingFor];
    }
    // In the order of the definition, PENDING until an atom's first transition; a retry's result
    // is the value it provided (as the engine's events show it): the log book keeps its history.
    for (const a of snap.atoms) {
      const failure = a.failure ?? a.revertFailure;
      status.atoms[a.name] = {
        state: a.state,
        ...(a.result !== undefined ? { result: a.result as Cloneable } : {}),
        ...(failure ? { failure: { type: failure.name, message: failure.exceptionStr } } : {}),
      };
    }
  }
  if (entry.error !== undefined) status.error = entry.error;
  return status;
}

/**
 * When the alarm has to run this flow (ms since the epoch): `now` when it has work to do at
 * once (never run, interrupted mid-run, resumed, given its input, revised), its next wake-up
 * when it waits on a timer, undefined when nothing but a caller can move it (it waits for an
 * input, it is held, it is finished).
 */
export function dueAt(entry: FlowEntry, snap: FlowSnapshot | undefined, now: number): number | undefined {
  if (entry.held || entry.error !== undefined) return undefined;
  if (!snap || entry.runNow) return now; // a start whose first write was lost, a revision, a cancel
  if (snap.isFinal) return undefined;
  if (snap.state !== "SUSPENDED") return now; // PENDING, or RUNNING when the object went away
  if (snap.suspendedReason === "input") {
    // A value may have come in while a run was ending: the run did not take it, the next does.
    const arrived = snap.waitingFor.length < (snap.flowDetail.waitingFor?.length ?? 0);
    return arrived ? now : snap.wakeAt; // a wait's deadline, if it has one
  }
  if (snap.suspendedReason === "waiting") return snap.wakeAt ?? now;
  return now; // suspended on request, and no longer held
}
