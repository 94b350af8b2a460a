import { History, type HistoryEntry } from "../../atoms/history.js";
import { backoffDelay } from "../../atoms/backoff.js";
import type { Failure } from "../../failure.js";
import type { Journal } from "../journal.js";
import type { AtomNode, RetryNode } from "../compiler.js";
import type { Resolution } from "../resolution.js";
import { untilTime, type ActionHost, type AtomAction } from "./action.js";
import { storable } from "./task.js";

/** A retry's stored history, as its controller sees it. */
function historyOf(journal: Journal, retry: RetryNode): History {
  return new History((journal.detail(retry).result as HistoryEntry[] | undefined) ?? [], journal.failureOf(retry.name));
}

/** Adds `failure` of `atom` to the current try of `retry`, once (a resumed run resolves again). */
function recordFailure(journal: Journal, retry: RetryNode, atom: AtomNode, failure: Failure): void {
  const entries = (journal.detail(retry).result as HistoryEntry[] | undefined) ?? [];
  const last = entries.at(-1);
  if (!last || Object.hasOwn(last.failures, atom.name)) return;
  const updated = [...entries.slice(0, -1), { ...last, failures: { ...last.failures, [atom.name]: failure.toJSON() } }];
  journal.recordTries(retry.name, updated);
}

/**
 * What a retry controller adds to the engine: how it decides on a failure of its flow, and how
 * its flow starts its next try. The runner reaches it only through a retry atom's `action`, so an
 * app without retries does not bundle it.
 */
export interface RetryAction extends AtomAction<RetryNode> {
  /**
   * Asks the retry what to do about `failure` of `atom`, as TaskFlow does: RETRY; REVERT, which
   * defers to the enclosing retry when that one would do something else than revert (or always,
   * with `deferReverts`); REVERT_ALL.
   */
  decide(retry: RetryNode, atom: AtomNode, failure: Failure, host: ActionHost, deferReverts: boolean): Resolution;
  /**
   * The retry's flow has been reverted: the retry goes RETRYING, its flow back to PENDING, and it
   * executes again (after its backoff, stored as a wake-up time).
   */
  again(retry: RetryNode, host: ActionHost): void;
}

/**
 * A retry controller: executing it starts a try (its stored result is the history of tries, the
 * new one appended); reverting it clears the history. Its backoff is a stored wake-up time.
 */
export const retryAction: RetryAction = {
  kind: "retry",
  hold: (node, { journal, clock }) => untilTime(journal.detail(node).wakeAt, clock.now()),
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
  decide(retry, atom, failure, host, deferReverts) {
    const { journal } = host;
    recordFailure(journal, retry, atom, failure);
    const decision = retry.atom.onFailure(historyOf(journal, retry), host.storage.fetchArgs(retry));
    if (decision === "RETRY") return { kind: "RETRY", retry };
    if (decision === "REVERT_ALL") return { kind: "REVERT_ALL", implicit: false };
    const outer = retry.retry;
    const parent: Resolution = outer ? retryAction.decide(outer, retry, failure, host, deferReverts) : { kind: "REVERT_ALL", implicit: true };
    if (deferReverts) return parent;
    if (!(parent.kind === "REVERT_ALL" && parent.implicit) && parent.kind !== "REVERT") return parent;
    return { kind: "REVERT", retry };
  },
  again(retry, host) {
    const { journal, clock } = host;
    const tries = historyOf(journal, retry).length;
    const backoff = retry.atom.backoff;
    const wakeAt = backoff ? clock.now() + backoffDelay(backoff, tries, host.random) : undefined;
    journal.transition(retry, "RETRYING", { intention: "EXECUTE", fields: { wakeAt } });
    for (const a of retry.subgraph) journal.startOver(a);
  },
};
