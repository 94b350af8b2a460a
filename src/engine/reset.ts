import type { Storage } from "../storage/storage.js";
import type { ExecNode } from "./compiler.js";
import type { Transitions } from "./transitions.js";

/**
 * Puts an atom back to PENDING to run anew, without what its last run left behind: results,
 * failures, a stored wake-up time or wait deadline, a REVERT or RETRY intention. A reverted (or
 * ignored) atom goes through the transition table; `force` also resets atoms the table gives no
 * way back from (SUCCESS, FAILURE, RETRYING…), as TaskFlow's storage resets do, counting a new
 * generation so that its next run has a new idempotency key. One place, so that a retry, a
 * resume after a revert and `engine.reset()` all start an atom over the same way.
 */
export function startOver(storage: Storage, transitions: Transitions, node: ExecNode, force = false): void {
  const d = storage.detail(node.name);
  const meta = { ...d.meta, wakeAt: undefined, deadline: undefined };
  const fresh = { intention: "EXECUTE" as const, result: undefined, failure: undefined, revertResult: undefined, revertFailure: undefined, meta };
  if (d.state === "REVERTED" || d.state === "IGNORE") transitions.atom(node, "PENDING", fresh);
  else if (d.state !== "PENDING" && force) storage.setAtom(node.name, { ...fresh, state: "PENDING", meta: { ...meta, generation: (meta.generation ?? 0) + 1 } });
  else if (d.state === "PENDING" && (d.intention !== "EXECUTE" || d.meta.wakeAt !== undefined || d.meta.deadline !== undefined)) storage.setAtom(node.name, { intention: "EXECUTE", meta });
}
