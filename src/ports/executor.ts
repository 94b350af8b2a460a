import type { FailureData } from "../failure.js";

/**
 * One task's execute or revert, as plain data: what an executor needs to run it anywhere (a Web
 * Worker, another Worker at the edge). TaskFlow's worker-based engine sends the same in its
 * REQUEST message (taskflow/engines/worker_based/protocol.py: task name, action, arguments,
 * and for a revert the result and the flow's failures).
 * @example const request: TaskRequest = { action: "execute", task: "add", atom: "add", flowUuid: "f1", args: { x: 1 }, attempt: 1, idempotencyKey: "f1:add:0" }
 */
export interface TaskRequest {
  action: "execute" | "revert";
  /** The name a worker knows the implementation by (a remote task's `implementation`, else the atom's name). */
  task: string;
  /** The atom's name in the flow. */
  atom: string;
  /** The flow detail the atom belongs to. */
  flowUuid: string;
  args: Record<string, unknown>;
  /** The execute attempt this request belongs to (a revert: the last one). */
  attempt: number;
  idempotencyKey: string;
  /** The task's `timeoutMs`, when it has one: the engine gives up then; an executor may drop the request. */
  timeoutMs?: number;
  /** A revert: what execute returned. */
  result?: unknown;
  /** A revert: the failure execute ended with, if it failed. */
  failure?: FailureData;
  /** A revert: the failures of the flow that caused it, by atom name. */
  flowFailures?: Record<string, FailureData>;
  /** A revert: the worker that ran the last execute, so the revert can run there if it still can. */
  worker?: string;
}

/**
 * What an executor receives beside the request: the engine's abort signal (a timeout, a cancel)
 * and where to report progress.
 * @example const context: ExecutionContext = { signal: AbortSignal.timeout(1000), progress: (f) => console.log(f) }
 */
export interface ExecutionContext {
  readonly signal: AbortSignal;
  progress(fraction: number, details?: unknown): void;
}

/**
 * How a request ended, as data: the value, or the failure (`Failure#toJSON()`), and the worker
 * that ran it, which the log book records for the attempt.
 * @example const outcome: ExecutionOutcome = { ok: false, failure: Failure.fromError(new Error("no")).toJSON(), worker: "w1" }
 */
export type ExecutionOutcome = { ok: true; value: unknown; worker?: string } | { ok: false; failure: FailureData; worker?: string };

/**
 * Where tasks run when not in the engine's process: a pool of Web Workers
 * (`taskflow-ts/worker`'s `WorkerPool`), another Worker at the edge. Given as the engine's
 * `executor` option, it runs every task's execute and revert (TaskFlow's worker-based engine);
 * the engine keeps the decisions and the log book, and `maxConcurrency` still bounds how many
 * run at once. An executor never throws for a task's own failure: it resolves with it as data.
 * @example
 * const executor: TaskExecutor = { execute: async (request) => ({ ok: true, value: await callWorker(request), worker: "w1" }) };
 * await load(flow, { executor, engine: "parallel", maxConcurrency: 4 }).run();
 */
export interface TaskExecutor {
  execute(request: TaskRequest, context: ExecutionContext): Promise<ExecutionOutcome>;
}
