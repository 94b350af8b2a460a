import type { RevertContext, TaskContext } from "../../atoms/task.js";
import { checkStorable } from "../../storage/storable.js";
import type { AtomNode, TaskNode } from "../compiler.js";
import type { ActionHost, ActionSignal, AtomAction, Hold } from "./action.js";

/**
 * What execute receives beside its arguments: a class, not an object literal with a getter and
 * closures (about 700 bytes of garbage per atom, Node 20). Its name and attempt are its own
 * fields; the signal (an AbortController made when first read), the idempotency key and
 * `updateProgress` are worked out when read, and destructuring reads them.
 */
export class Context implements TaskContext {
  declare readonly name: string;
  declare readonly attempt: number;
  readonly #host: ActionHost;
  readonly #signal: ActionSignal;

  constructor(node: AtomNode, host: ActionHost, signal: ActionSignal) {
    this.name = node.name;
    this.attempt = host.journal.detail(node).attempts ?? 1;
    this.#host = host;
    this.#signal = signal;
  }

  get signal(): AbortSignal {
    return this.#signal.get();
  }

  get idempotencyKey(): string {
    return `${this.#host.journal.flowDetail.uuid}:${this.name}:${this.#host.journal.detail(this.name).generation ?? 0}`;
  }

  get updateProgress(): TaskContext["updateProgress"] {
    return (fraction, details) => this.#host.journal.progress(this.name, fraction, details);
  }
}

/** The value, if a log book can store it. @throws InvalidFormat naming the atom and where the value is */
export function storable(node: AtomNode, value: unknown, what: string): unknown {
  return checkStorable(value, what, `the ${what} of ${node.atom.kind} "${node.name}"`);
}

/** A task that needs the network, while the host is offline: it goes once the host is back online. */
const OFFLINE: Hold = { reason: "offline", at: undefined, over: (host) => host.online() };

/** A task: the user's execute and revert, in this process. */
export const taskAction: AtomAction<TaskNode> = {
  kind: "task",
  hold: (node, host) => (node.atom.needsNetwork && !host.online() ? OFFLINE : undefined),
  // Not async: a synchronous execute's result goes back as it is, with no promise per atom (the
  // runner records it at once); what a promise or a thenable resolves to is checked when it comes.
  execute(node, host, signal) {
    if (host.executor) return host.executor.run(node, host, signal, "execute");
    const result = node.atom.execute(host.storage.fetchArgs(node), new Context(node, host, signal));
    return typeof (result as PromiseLike<unknown> | null)?.then === "function" ? Promise.resolve(result).then((r) => storable(node, r, "result")) : storable(node, result, "result");
  },
  async revert(node, host, signal) {
    if (host.executor) return host.executor.run(node, host, signal, "revert");
    const args = host.storage.fetchArgs(node);
    const task = node.atom;
    if (!task.revert) return undefined;
    const d = host.journal.detail(node);
    const ctx: RevertContext = Object.assign(new Context(node, host, signal), {
      result: d.failure ? host.storage.getFailure(node.name) : d.result,
      flowFailures: host.storage.executeFailures(),
    });
    return storable(node, await task.revert(args, ctx), "revert result");
  },
  timeoutMs: (node) => node.atom.timeoutMs,
  needsNetwork: (node) => node.atom.needsNetwork,
};
