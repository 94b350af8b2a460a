import { Failure } from "../../failure.js";
import type { ExecutionContext, ExecutionOutcome, TaskExecutor, TaskRequest } from "../../ports/executor.js";
import type { TaskNode } from "../compiler.js";
import { asFailure, type ActionHost, type ActionSignal } from "./action.js";
import { Context, storable } from "./task.js";

/**
 * Where tasks run when not in the engine's process (TaskFlow's worker-based engine): extend it
 * with `execute`, or wrap a plain {@link TaskExecutor} with {@link Executor.from}, and give it as
 * the engine's `executor` option. It runs every task's execute and revert by the task's name; the
 * engine keeps the decisions and the log book, and `maxConcurrency` still bounds how many run at
 * once. A class, so that the engine side of it is bundled only by apps that use an executor.
 * @example
 * const executor = Executor.from({ execute: async (request) => ({ ok: true, value: await callWorker(request), worker: "w1" }) });
 * await load(flow, { executor, engine: "parallel", maxConcurrency: 4 }).run();
 */
export abstract class Executor implements TaskExecutor {
  /** Runs one request; resolves with its outcome as data, a task's own failure included. */
  abstract execute(request: TaskRequest, context: ExecutionContext): Promise<ExecutionOutcome>;

  /**
   * An executor from a plain object with `execute`.
   * @example const executor = Executor.from({ execute: async () => ({ ok: true, value: 1 }) })
   */
  static from(executor: TaskExecutor): Executor {
    return new (class extends Executor {
      execute(request: TaskRequest, context: ExecutionContext) {
        return executor.execute(request, context);
      }
    })();
  }

  /**
   * The engine's side: builds the request of a task's execute or revert, runs it, records the
   * worker. Called by the task action; not for users.
   * @example await executor.run(node, host, signal, "execute") // inside the engine
   * @internal
   */
  run(node: TaskNode, host: ActionHost, signal: ActionSignal, action: "execute" | "revert"): Promise<unknown> {
    return delegate(this, node, host, signal, action);
  }
}

/**
 * Runs a task's execute or revert on the engine's executor: the request as data, the outcome
 * back as data, the worker that ran it recorded on the atom detail (with the transition that
 * follows, no write of its own). A failure comes back as a `Failure`, which the runner records
 * as it is (its class names kept, not wrapped).
 */
async function delegate(executor: TaskExecutor, node: TaskNode, host: ActionHost, signal: ActionSignal, action: "execute" | "revert"): Promise<unknown> {
  const { journal, storage } = host;
  const ctx = new Context(node, host, signal);
  const d = journal.detail(node);
  const request: TaskRequest = {
    action, task: node.atom.implementation ?? node.name, atom: node.name, flowUuid: journal.flowDetail.uuid,
    args: storage.fetchArgs(node), attempt: ctx.attempt, idempotencyKey: ctx.idempotencyKey,
  };
  if (node.atom.timeoutMs !== undefined) request.timeoutMs = node.atom.timeoutMs;
  if (action === "revert") {
    request.result = d.result;
    if (d.failure) request.failure = d.failure;
    request.flowFailures = Object.fromEntries(Object.entries(storage.executeFailures()).map(([k, f]) => [k, f.toJSON()]));
    const last = d.workers?.filter((w) => !w.revert).pop()?.worker;
    if (last !== undefined) request.worker = last;
  }
  let done = false;
  const outcome = await executor
    .execute(request, { signal: signal.get(), progress: (f, details) => done || ctx.updateProgress(f, details) })
    .finally(() => (done = true));
  if (outcome.worker !== undefined) journal.ranOn(node.name, { attempt: ctx.attempt, worker: outcome.worker, ...(action === "revert" ? { revert: true } : {}) });
  if (!outcome.ok) {
    const failure = Failure.fromJSON(outcome.failure);
    asFailure.add(failure);
    throw failure;
  }
  return storable(node, outcome.value, action === "execute" ? "result" : "revert result");
}
