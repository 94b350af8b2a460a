// The small rules for reading a log book, once: which flow states are final, what a retry's
// stored result provides, when a flow next wakes up, and what an atom without a stored detail
// reads as. The engine, the snapshot and every host use these instead of their own copies.
import { SCHEMA_VERSION, type AtomDetail } from "../persistence/models.js";
import { invalidRecord } from "../persistence/validate.js";
import { atomDetailId } from "../ports/ids.js";
import type { FlowState } from "../states.js";

/**
 * The states a flow ends in: nothing runs it again unless it is reset or revised.
 * @example FINAL_FLOW_STATES.has(flowDetail.state)
 */
export const FINAL_FLOW_STATES: ReadonlySet<FlowState> = new Set<FlowState>(["SUCCESS", "FAILURE", "REVERTED"]);

/**
 * Whether a flow in `state` has ended (SUCCESS, FAILURE or REVERTED).
 * @example if (isFinalFlowState(engine.storage.flowState)) showReceipt()
 */
export function isFinalFlowState(state: FlowState): boolean {
  return FINAL_FLOW_STATES.has(state);
}

/**
 * The value an atom provides from its stored result: a task's result as it is; for a retry,
 * whose stored result is its history of tries, the value of the latest try (as TaskFlow shows it).
 * @example providedValue(storage.detail("call_retry")) // 2: the value of the second try
 */
export function providedValue(detail: Pick<AtomDetail, "kind" | "result">): unknown {
  return detail.kind === "retry" ? (detail.result as Array<{ value: unknown }> | undefined)?.at(-1)?.value : detail.result;
}

/**
 * When a flow next has something to do (ms since the epoch), if it waits on a timer: the
 * earliest stored wake-up time (a sleep, a retry's backoff) or wait deadline of an atom still
 * to execute. A flow that has ended never wakes up. A time already past means due: run it now.
 * @example nextWakeup(storage.flowState, storage.atomDetails())
 */
export function nextWakeup(flowState: FlowState, atoms: Iterable<Pick<AtomDetail, "state" | "intention" | "wakeAt" | "deadline">>): number | undefined {
  if (isFinalFlowState(flowState)) return undefined; // timers of a flow that ended never fire
  let next: number | undefined;
  for (const d of atoms) {
    const at = d.wakeAt ?? d.deadline;
    const waiting = d.intention === "EXECUTE" && (d.state === "PENDING" || d.state === "RETRYING");
    if (waiting && at !== undefined && (next === undefined || at < next)) next = at;
  }
  return next;
}

/**
 * The detail of an atom that has none stored yet: PENDING, to execute. Its id comes from its
 * flow and name (`atomDetailId`), so every host that writes it first uses the same key.
 * @example pendingAtomDetail(flowDetail.uuid, { name: "charge", kind: "task", version: "1.0" }, clock.now())
 */
export function pendingAtomDetail(flowUuid: string, atom: Pick<AtomDetail, "name" | "kind" | "version">, at: number): AtomDetail {
  return {
    schemaVersion: SCHEMA_VERSION, uuid: atomDetailId(flowUuid, atom.name), flowUuid, name: atom.name, kind: atom.kind, state: "PENDING",
    intention: "EXECUTE", version: atom.version, meta: {}, updatedAt: at,
  };
}

/**
 * Refuses stored atom details that are not the records the engine keeps for their flow. Each atom
 * has one record, under the id made of its flow and its name (`atomDetailId`): a second
 * record for an atom (a copy under another id, say PENDING beside its SUCCESS) or a record of
 * another flow is foreign, and so is one whose kind is not the definition's (`kindOf` its name,
 * when the definition is at hand). Matching by name alone would let such a record run a task again.
 * @throws InvalidFormat naming each foreign record
 * @example checkAtomDetails(flowDetail.uuid, await backend.getAtomDetails(flowDetail.uuid))
 */
export function checkAtomDetails(flowUuid: string, details: readonly AtomDetail[], kindOf?: (name: string) => string | undefined): void {
  const foreign = details.filter((d) => d.uuid !== atomDetailId(flowUuid, d.name) || (kindOf?.(d.name) ?? d.kind) !== d.kind);
  if (foreign[0]) {
    const named = foreign.map((d) => `"${d.uuid}" (${d.kind} "${d.name}")`).join(", ");
    throw invalidRecord("flow detail", flowUuid, 0, `atom details ${named} are not its atoms' records; delete them, or restore the log book`);
  }
}
