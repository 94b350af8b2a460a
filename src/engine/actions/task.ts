import type { RevertContext, TaskContext } from "../../atoms/task.js";
import { checkStorable } from "../../storage/storable.js";
import type { AtomNode, TaskNode } from "../compiler.js";
import type { ActionHost, ActionSignal, AtomAction } from "./action.js";

/** What execute receives beside its arguments. */
export function taskContext(node: AtomNode, host: ActionHost, signal: ActionSignal): TaskContext {
  const d = host.journal.detail(node.name);
  return {
    name: node.name,
    get signal() {
      return signal.get();
    },
    attempt: d.attempts ?? 1,
    idempotencyKey: `${host.journal.flowDetail.uuid}:${node.name}:${d.generation ?? 0}`,
    updateProgress: (fraction, details) => host.journal.progress(node.name, fraction, details),
  };
}

/** The value, if a log book can store it. @throws InvalidFormat naming the atom and where the value is */
export function storable(node: AtomNode, value: unknown, what: string): unknown {
  return checkStorable(value, what, `the ${what} of ${node.atom.kind} "${node.name}"`);
}

/** A task: the user's execute and revert, in this process. */
export const taskAction: AtomAction<TaskNode> = {
  kind: "task",
  hold: (node, host) => (node.atom.needsNetwork && !host.online() ? { on: "network" } : undefined),
  // Not async: a synchronous execute's result goes back as it is, with no promise per atom (the
  // runner records it at once); what a promise or a thenable resolves to is checked when it comes.
  execute(node, host, signal) {
    if (host.executor) return host.executor.run(node, host, signal, "execute");
    const result = node.atom.execute(host.storage.fetchArgs(node), taskContext(node, host, signal));
    return typeof (result as PromiseLike<unknown> | null)?.then === "function" ? Promise.resolve(result).then((r) => storable(node, r, "result")) : storable(node, result, "result");
  },
  async revert(node, host, signal) {
    if (host.executor) return host.executor.run(node, host, signal, "revert");
    const args = host.storage.fetchArgs(node);
    const task = node.atom;
    if (!task.revert) return undefined;
    const d = host.journal.detail(node.name);
    const ctx: RevertContext = {
      ...taskContext(node, host, signal),
      result: d.failure ? host.storage.getFailure(node.name) : d.result,
      flowFailures: host.storage.executeFailures(),
    };
    return storable(node, await task.revert(args, ctx), "revert result");
  },
  timeoutMs: (node) => node.atom.timeoutMs,
  needsNetwork: (node) => node.atom.needsNetwork,
};
