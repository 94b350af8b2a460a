import { History, type HistoryEntry } from "../../atoms/history.js";
import type { Journal } from "../journal.js";
import type { RetryNode } from "../compiler.js";
import type { AtomAction } from "./action.js";
import { storable } from "./task.js";

/** A retry's stored history, as its controller sees it. */
export function historyOf(journal: Journal, retry: RetryNode): History {
  return new History((journal.detail(retry.name).result as HistoryEntry[] | undefined) ?? [], journal.failureOf(retry.name));
}

/**
 * A retry controller: executing it starts a try (its stored result is the history of tries, the
 * new one appended); reverting it clears the history. What it decides on a failure is the
 * engine's resolution (`resolution.ts`); its backoff is a stored wake-up time.
 */
export const retryAction: AtomAction<RetryNode> = {
  kind: "retry",
  hold: () => undefined,
  async execute(node, host) {
    const args = host.storage.fetchArgs(node);
    const history = historyOf(host.journal, node);
    const value = storable(node, await node.atom.execute(history, args), "result");
    return [...history.entries, { value, failures: {} }] satisfies HistoryEntry[];
  },
  async revert(node, host) {
    const args = host.storage.fetchArgs(node);
    return storable(node, await node.atom.revert(historyOf(host.journal, node), args), "revert result");
  },
};
