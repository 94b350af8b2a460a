import { Failure } from "../failure.js";
import type { AtomDetail, FlowDetail, TrailEntry } from "../persistence/models.js";
import type { Backend } from "../ports/backend.js";
import type { AtomState, FlowState, Intention } from "../states.js";
import { checkAtomDetails, isFinalFlowState, nextWakeup, pendingAtomDetail, providedValue } from "./rules.js";

/**
 * One atom of a {@link FlowSnapshot}.
 * @example const failed = snapshot.atoms.filter((a: AtomSnapshot) => a.state === "FAILURE").map((a) => a.failure?.toString())
 */
export interface AtomSnapshot {
  readonly name: string;
  readonly kind: "task" | "retry";
  readonly state: AtomState;
  readonly intention: Intention;
  /** What the atom provided: its execute's result; for a retry, the value of its latest try. */
  readonly result: unknown;
  /** Why its execute failed, rebuilt from the log book (`failure.check(NotFound)`, `toError()`). */
  readonly failure: Failure | undefined;
  /** Why its revert failed. */
  readonly revertFailure: Failure | undefined;
  /** How many times its execute started, crashes included. */
  readonly attempts: number;
  /** False for an atom that never changed state: it has no stored detail and reads as PENDING. */
  readonly stored: boolean;
  /** Its atom detail as stored, or the PENDING one it reads as (with the id the engine writes it under). */
  readonly detail: Readonly<AtomDetail>;
}

/**
 * An input a suspended flow waits for, as its last run stored it.
 * @example for (const w of snapshot.waitingFor) console.log(w.name, w.description, w.deadline)
 */
export type WaitingInput = NonNullable<FlowDetail["waitingFor"]>[number];

/**
 * A stored flow, read: what every host shows or decides from (the engine loading a flow, a
 * Durable Object's status and alarm, a page's viewer, the crash harness). Built from the records
 * alone, without the flow's definition, so it reads any log book.
 * @example
 * const snapshot = await readSnapshot(backend, flowDetailId);
 * if (!snapshot.isFinal && snapshot.wakeAt !== undefined) scheduleAlarm(snapshot.wakeAt);
 */
export interface FlowSnapshot {
  /** The flow detail's id. */
  readonly uuid: string;
  /** The flow's name. */
  readonly name: string;
  readonly state: FlowState;
  /** SUCCESS, FAILURE or REVERTED: nothing runs it again unless it is reset or revised. */
  readonly isFinal: boolean;
  /** When it next has something to do (ms since the epoch), if it waits on a timer; past means due. */
  readonly wakeAt: number | undefined;
  /** Why a SUSPENDED flow stopped: "input", "waiting" (a timer), "offline", "suspended" (asked to), "storage". */
  readonly suspendedReason: string | undefined;
  /** The inputs a flow SUSPENDED for input still waits for (those already provided are left out). */
  readonly waitingFor: readonly WaitingInput[];
  /**
   * Every atom in the order of the definition (the stored fingerprint), PENDING where nothing is
   * stored yet; then any stored atom the fingerprint does not list.
   */
  readonly atoms: readonly AtomSnapshot[];
  readonly flowDetail: Readonly<FlowDetail>;
  /**
   * The audit trail, when it was asked for (`readSnapshot(backend, id, { trail: true })`): every
   * transition committed to the flow and its atoms, in commit order, the first tries of a revised
   * or retried atom included, each with its time, attempt and runner. Undefined when not asked
   * for, or when the backend keeps none (one written before `Backend.getTrail`).
   */
  readonly trail: readonly TrailEntry[] | undefined;
}

/**
 * Reads a flow detail and its stored atom details into a {@link FlowSnapshot}. Pure: no clock,
 * no backend, no definition; read-only by type (not frozen: the core entry has a size budget).
 * `trail`: the flow's audit trail, if read (`backend.getTrail`).
 * @throws InvalidFormat for an atom detail the engine did not write for this flow (a forged copy)
 * @example
 * const snap = snapshotOf(await backend.getFlowDetail(id), await backend.getAtomDetails(id));
 * snap.atoms.map((a) => `${a.name} ${a.state}`); // ["book SUCCESS", "pay PENDING"]
 */
export function snapshotOf(flow: FlowDetail, atomDetails: Iterable<AtomDetail>, trail?: readonly TrailEntry[]): FlowSnapshot {
  const all = [...atomDetails];
  checkAtomDetails(flow.uuid, all);
  const stored = new Map(all.map((d) => [d.name, d]));
  const details: Array<{ detail: AtomDetail; stored: boolean }> = [];
  // Atoms are written on their first transition: the fingerprint lists every atom of the
  // definition, so one that has none stored yet is PENDING, under the id the engine would use.
  for (const f of flow.fingerprint ?? []) {
    const d = stored.get(f.name);
    stored.delete(f.name);
    details.push(d ? { detail: d, stored: true } : { detail: pendingAtomDetail(flow.uuid, f, flow.createdAt), stored: false });
  }
  for (const d of stored.values()) details.push({ detail: d, stored: true });

  const atoms = details.map(({ detail, stored }): AtomSnapshot => ({
    name: detail.name,
    kind: detail.kind,
    state: detail.state,
    intention: detail.intention,
    result: providedValue(detail),
    failure: detail.failure ? Failure.fromJSON(detail.failure) : undefined,
    revertFailure: detail.revertFailure ? Failure.fromJSON(detail.revertFailure) : undefined,
    attempts: detail.attempts ?? 0,
    stored,
    detail,
  }));
  const { suspendedReason, waitingFor, inputs } = flow;
  const suspended = flow.state === "SUSPENDED";
  return {
    uuid: flow.uuid,
    name: flow.name,
    state: flow.state,
    isFinal: isFinalFlowState(flow.state),
    wakeAt: nextWakeup(flow.state, atoms.map((a) => a.detail)),
    suspendedReason: suspended ? suspendedReason : undefined,
    waitingFor: suspended ? (waitingFor ?? []).filter((w) => !(inputs && Object.hasOwn(inputs, w.name))) : [],
    atoms,
    flowDetail: flow,
    trail,
  };
}

/**
 * Reads flow detail `flowDetailId` and its atoms from a backend into a {@link FlowSnapshot};
 * with `{ trail: true }`, its audit trail too (`snapshot.trail`), from a backend that keeps one.
 * @throws NotFound when the backend has no such flow detail
 * @example
 * const snap = await readSnapshot(backend, engine.flowDetailId);
 * if (snap.wakeAt !== undefined) await ctx.storage.setAlarm(snap.wakeAt); // a Durable Object: run it again then
 * const audited = await readSnapshot(backend, engine.flowDetailId, { trail: true });
 * for (const t of audited.trail ?? []) console.log(t.seq, t.atom ?? "(flow)", `${t.from} → ${t.to}`, new Date(t.at).toISOString());
 */
export async function readSnapshot(
  backend: Pick<Backend, "getFlowDetail" | "getAtomDetails" | "getTrail">, flowDetailId: string, options?: { trail?: boolean },
): Promise<FlowSnapshot> {
  const flow = await backend.getFlowDetail(flowDetailId);
  const atoms = await backend.getAtomDetails(flowDetailId);
  return snapshotOf(flow, atoms, options?.trail ? await backend.getTrail?.(flowDetailId) : undefined);
}
