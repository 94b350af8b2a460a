import type { HistoryEntry } from "../atoms/history.js";
import type { Failure } from "../failure.js";
import type { Storage } from "../storage/storage.js";
import { historyOf } from "./actions/retry.js";
import type { AtomNode, ExecutionGraph, RetryNode } from "./compiler.js";
import type { Journal } from "./journal.js";

/** How a failure is resolved (TaskFlow's completer strategies). */
export type Resolution =
  | { kind: "RETRY"; retry: RetryNode }
  | { kind: "REVERT"; retry: RetryNode }
  /** `implicit`: no retry controller decided it (TaskFlow's "undefined resolver"). */
  | { kind: "REVERT_ALL"; implicit: boolean };

/** Adds `failure` of `atom` to the current try of `retry`, once (a resumed run resolves again). */
function recordFailure(journal: Journal, retry: RetryNode, atom: AtomNode, failure: Failure): void {
  const entries = (journal.detail(retry.name).result as HistoryEntry[] | undefined) ?? [];
  const last = entries.at(-1);
  if (!last || Object.hasOwn(last.failures, atom.name)) return;
  const updated = [...entries.slice(0, -1), { ...last, failures: { ...last.failures, [atom.name]: failure.toJSON() } }];
  journal.recordTries(retry.name, updated);
}

/**
 * Asks the nearest retry controller of the failed atom what to do, as TaskFlow does: RETRY;
 * REVERT, which defers to the enclosing retry when that one would do something else than
 * revert (or always, with `deferReverts`); REVERT_ALL. No controller: revert everything.
 */
export function determine(journal: Journal, storage: Storage, atom: AtomNode, failure: Failure, deferReverts: boolean): Resolution {
  const retry = atom.retry;
  if (!retry) return { kind: "REVERT_ALL", implicit: true };
  recordFailure(journal, retry, atom, failure);
  const decision = retry.atom.onFailure(historyOf(journal, retry), storage.fetchArgs(retry));
  if (decision === "RETRY") return { kind: "RETRY", retry };
  if (decision === "REVERT_ALL") return { kind: "REVERT_ALL", implicit: false };
  const parent = determine(journal, storage, retry, failure, deferReverts);
  if (deferReverts) return parent;
  if (!(parent.kind === "REVERT_ALL" && parent.implicit) && parent.kind !== "REVERT") return parent;
  return { kind: "REVERT", retry };
}

/**
 * Sets the intentions a resolution implies. A RETRY never overrides a REVERT intention that a
 * concurrent failure has already set (the race of TaskFlow bug #2043808).
 */
export function apply(journal: Journal, graph: ExecutionGraph, resolution: Resolution): void {
  const revert = (n: AtomNode) => journal.intend(n.name, "REVERT");
  if (resolution.kind === "REVERT_ALL") {
    for (const n of graph.atoms.values()) revert(n);
    return;
  }
  const { retry } = resolution;
  for (const n of retry.subgraph) revert(n);
  if (resolution.kind === "RETRY" && journal.detail(retry.name).intention !== "REVERT") {
    journal.intend(retry.name, "RETRY");
  } else {
    revert(retry);
  }
}
