import type { ExecutionGraph, AtomNode, RetryNode } from "./compiler.js";
import type { Journal } from "./journal.js";

/**
 * How a failure is resolved (TaskFlow's completer strategies). The nearest retry controller of
 * the failed atom decides (`RetryAction.decide`, src/engine/actions/retry.ts); with none,
 * everything is reverted.
 */
export type Resolution =
  | { kind: "RETRY"; retry: RetryNode }
  | { kind: "REVERT"; retry: RetryNode }
  /** `implicit`: no retry controller decided it (TaskFlow's "undefined resolver"). */
  | { kind: "REVERT_ALL"; implicit: boolean };

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
  if (resolution.kind === "RETRY" && journal.detail(retry).intention !== "REVERT") {
    journal.intend(retry.name, "RETRY");
  } else {
    revert(retry);
  }
}
