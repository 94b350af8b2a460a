import type { HistoryEntry, Retry } from "../atoms/retry.js";
import type { Failure } from "../failure.js";
import type { Storage } from "../storage/storage.js";
import { historyOf } from "./actions.js";
import type { ExecNode, ExecutionGraph } from "./compiler.js";

/** How a failure is resolved (TaskFlow's completer strategies). */
export type Resolution =
  | { kind: "RETRY"; retry: ExecNode }
  | { kind: "REVERT"; retry: ExecNode }
  /** `implicit`: no retry controller decided it (TaskFlow's "undefined resolver"). */
  | { kind: "REVERT_ALL"; implicit: boolean };

/** Adds `failure` of `atom` to the current try of `retry`, once (a resumed run resolves again). */
function recordFailure(storage: Storage, retry: ExecNode, atom: ExecNode, failure: Failure): void {
  const entries = (storage.detail(retry.name).result as HistoryEntry[] | undefined) ?? [];
  const last = entries.at(-1);
  if (!last || last.failures[atom.name]) return;
  const updated = [...entries.slice(0, -1), { ...last, failures: { ...last.failures, [atom.name]: failure.toJSON() } }];
  storage.setAtom(retry.name, { result: updated });
}

/**
 * Asks the nearest retry controller of the failed atom what to do, as TaskFlow does: RETRY;
 * REVERT, which defers to the enclosing retry when that one would do something else than
 * revert (or always, with `deferReverts`); REVERT_ALL. No controller: revert everything.
 */
export function determine(storage: Storage, atom: ExecNode, failure: Failure, deferReverts: boolean): Resolution {
  const retry = atom.retry;
  if (!retry) return { kind: "REVERT_ALL", implicit: true };
  recordFailure(storage, retry, atom, failure);
  const controller = retry.atom as Retry<any>;
  const decision = controller.onFailure(historyOf(storage, retry), storage.fetchArgs(retry));
  if (decision === "RETRY") return { kind: "RETRY", retry };
  if (decision === "REVERT_ALL") return { kind: "REVERT_ALL", implicit: false };
  const parent = determine(storage, retry, failure, deferReverts);
  if (deferReverts) return parent;
  if (!(parent.kind === "REVERT_ALL" && parent.implicit) && parent.kind !== "REVERT") return parent;
  return { kind: "REVERT", retry };
}

/**
 * Sets the intentions a resolution implies. A RETRY never overrides a REVERT intention that a
 * concurrent failure has already set (the race of TaskFlow bug #2043808).
 */
export function apply(storage: Storage, graph: ExecutionGraph, resolution: Resolution): void {
  const revert = (n: ExecNode) => {
    if (storage.detail(n.name).intention !== "REVERT") storage.setAtom(n.name, { intention: "REVERT" });
  };
  if (resolution.kind === "REVERT_ALL") {
    for (const n of graph.atoms.values()) revert(n);
    return;
  }
  const { retry } = resolution;
  for (const n of retry.subgraph) revert(n);
  if (resolution.kind === "RETRY" && storage.detail(retry.name).intention !== "REVERT") {
    storage.setAtom(retry.name, { intention: "RETRY" });
  } else {
    revert(retry);
  }
}
