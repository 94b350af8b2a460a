import { History, type HistoryEntry, type Retry } from "../atoms/retry.js";
import { Sleep } from "../atoms/sleep.js";
import type { RevertContext, Task, TaskContext } from "../atoms/task.js";
import { InvalidFormat, RequestTimeout } from "../errors.js";
import { WaitFor } from "../atoms/wait-for.js";
import { findUnstorable } from "../storage/storable.js";
import type { Storage } from "../storage/storage.js";
import type { ExecNode } from "./compiler.js";
import type { Transitions } from "./transitions.js";

/**
 * The abort signal of one action, created only when the task reads `ctx.signal`: most tasks
 * never do, and an AbortController per atom is a measurable share of a no-op atom's cost.
 */
export class ActionSignal {
  private controller: AbortController | undefined;
  private reason: { value: unknown } | undefined;

  get(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.reason) this.controller.abort(this.reason.value);
    }
    return this.controller.signal;
  }

  abort(reason: unknown): void {
    this.reason ??= { value: reason };
    this.controller?.abort(reason);
  }
}

/** A retry's stored history, as its controller sees it. */
export function historyOf(storage: Storage, retry: ExecNode): History {
  return new History((storage.detail(retry.name).result as HistoryEntry[] | undefined) ?? [], storage.getFailure(retry.name));
}

function context(storage: Storage, transitions: Transitions, node: ExecNode, signal: ActionSignal): TaskContext {
  const d = storage.detail(node.name);
  return {
    name: node.name,
    get signal() {
      return signal.get();
    },
    attempt: d.meta.attempts ?? 1,
    idempotencyKey: `${storage.flowDetail.uuid}:${node.name}:${d.meta.generation ?? 0}`,
    updateProgress: (fraction, details) => transitions.progress(node.name, fraction, details),
  };
}

function storable(node: ExecNode, value: unknown, what: string): unknown {
  const bad = findUnstorable(value, what);
  if (bad !== undefined) {
    throw new InvalidFormat(`${node.kind} "${node.name}" returned a value the log book cannot store: ${bad}; return plain, structured-cloneable data`);
  }
  return value;
}

/** Runs an atom's execute; for a retry, resolves to its new history. */
export async function execute(storage: Storage, transitions: Transitions, node: ExecNode, signal: ActionSignal): Promise<unknown> {
  const args = storage.fetchArgs(node);
  transitions.reportProgress(node.name, 0);
  if (node.kind === "retry") {
    const history = historyOf(storage, node);
    const value = storable(node, await (node.atom as Retry<any>).execute(history, args), "result");
    return [...history.entries, { value, failures: {} }] satisfies HistoryEntry[];
  }
  const task = node.atom as Task<any>;
  // A sleep's waiting is done by the engine before it starts; it provides its wake-up time.
  if (task instanceof Sleep) return storage.detail(node.name).meta.wakeAt ?? 0;
  if (task instanceof WaitFor) {
    // The engine starts a wait only once its input is stored, or once its deadline has passed.
    const inputs = storage.flowDetail.meta.inputs;
    if (inputs && task.input in inputs) return inputs[task.input];
    throw new RequestTimeout(`no value was provided for "${task.input}" before its deadline`);
  }
  return storable(node, await task.execute(args, context(storage, transitions, node, signal)), "result");
}

/** Runs an atom's revert; a retry's history is cleared by its revert (the stored result becomes []). */
export async function revert(storage: Storage, transitions: Transitions, node: ExecNode, signal: ActionSignal): Promise<unknown> {
  const args = storage.fetchArgs(node);
  transitions.reportProgress(node.name, 0);
  if (node.kind === "retry") {
    return storable(node, await (node.atom as Retry<any>).revert(historyOf(storage, node), args), "revert result");
  }
  const task = node.atom as Task<any>;
  if (!task.revert) return undefined;
  const d = storage.detail(node.name);
  const ctx: RevertContext = {
    ...context(storage, transitions, node, signal),
    result: d.failure ? storage.getFailure(node.name) : d.result,
    flowFailures: storage.executeFailures(),
  };
  return storable(node, await task.revert(args, ctx), "revert result");
}
