// Remote task execution at the edge (issue 14): a flow in a FlowRunner sends its tasks' executes
// and reverts to another Worker over a service binding, or to a pool of Durable Objects, with the
// request/outcome protocol of taskflow-ts/worker's WorkerPool (src/ports/executor.ts) and its
// failure mapping: a task's throw comes back as a Failure, no answer by the deadline is a
// RequestTimeout, a call the runtime could not complete is WorkerLost. TaskFlow's worker-based
// engine does the same over a message bus (taskflow/engines/worker_based/executor.py).
//
// Why nothing here survives an eviction, and nothing needs to: an RPC call is lost with the
// runner's isolate, but the atom was stored RUNNING before the call (write-ahead) and the runner
// keeps an alarm armed while a flow runs, so the next life sends the request again, with the same
// idempotency key. A stateless Worker then runs the task again (at least once); a TaskObject
// answers the second request with the outcome of the first (task-service.ts), which it kept, or
// joins the first while it still runs: the result is delivered, the task runs once.
import {
  ExecutionFailure, Executor, Failure, RequestTimeout, registerErrorClass, systemClock,
  type Clock, type ExecutionContext, type ExecutionOutcome, type TaskRequest,
} from "taskflow-ts";

/**
 * The remote end of an edge executor: the `run` method of a {@link TaskEntrypoint} (through a
 * service binding) or of a {@link TaskObject} (through a Durable Object stub). Structural, so a
 * typed binding or stub fits as it is.
 * @example const service: TaskService = env.TASKS; // a service binding to `export class Tasks extends TaskEntrypoint`
 */
export interface TaskService {
  run(request: TaskRequest): Promise<unknown>;
}

/**
 * Where a request goes: the target, and the worker's name that the log book records for the
 * attempt (and that a revert's request carries as `worker`, to go back there).
 * @example const route: EdgeRoute = (request) => ({ worker: "tasks", target: env.TASKS })
 */
export type EdgeRoute = (request: TaskRequest) => { worker: string; target: TaskService };

/**
 * Options of an {@link EdgeExecutor}.
 * @example EdgeExecutor.service(env.TASKS, { name: "tasks", requestTimeoutMs: 30_000 })
 */
export interface EdgeExecutorOptions {
  /**
   * How long a request may go unanswered before it fails with RequestTimeout (default 60 s; a
   * task's `timeoutMs` if shorter). The remote may still be running it: the flow's retry decides,
   * and a request sent again carries the same idempotency key.
   */
  requestTimeoutMs?: number;
  clock?: Clock;
}

/**
 * The call to the worker failed in the runtime (the remote Worker crashed, ran out of CPU or
 * memory, was redeployed mid-call, or its binding is wrong) rather than in the task. The task
 * may have run: it runs again per the flow's retry, with the same idempotency key. The same
 * name as taskflow-ts/worker's pool failure, so one retry rule covers both.
 * @example retry: { onFailure: (history) => (history.causedBy("WorkerLost") ? "RETRY" : "REVERT") }
 */
export class WorkerLost extends ExecutionFailure {
  static {
    this.prototype.name = "WorkerLost";
  }
}
registerErrorClass(WorkerLost);

/**
 * An executor that runs a FlowRunner's tasks in another Worker (TaskFlow's worker-based engine,
 * at the edge): give it as the runner's `executor` option. {@link EdgeExecutor.service} sends
 * every request over a service binding to a {@link TaskEntrypoint}; {@link EdgeExecutor.objects}
 * to a pool of {@link TaskObject}s, for tasks that need storage of their own, and which run each
 * task once per idempotency key even when the runner is evicted mid-call. A revert goes to the
 * worker that ran the execute; the log book records the worker of each attempt (`workers`).
 * @example
 * export class Jobs extends FlowRunner<Env> {
 *   protected readonly flows = registry;
 *   protected override readonly options = { executor: EdgeExecutor.service(this.env.TASKS) };
 * }
 */
export class EdgeExecutor extends Executor {
  readonly #route: EdgeRoute;
  readonly #timeoutMs: number;
  readonly #clock: Clock;

  constructor(route: EdgeRoute, options: EdgeExecutorOptions = {}) {
    super();
    this.#route = route;
    this.#timeoutMs = options.requestTimeoutMs ?? 60_000;
    this.#clock = options.clock ?? systemClock;
  }

  /**
   * Every request to one Worker, through its service binding (RPC to a {@link TaskEntrypoint});
   * the log book names the worker `name` (default `"tasks"`).
   * @example EdgeExecutor.service(env.TASKS, { name: "image-tasks" })
   */
  static service(binding: TaskService, options: EdgeExecutorOptions & { name?: string } = {}): EdgeExecutor {
    const worker = options.name ?? "tasks";
    return new EdgeExecutor(() => ({ worker, target: binding }), options);
  }

  /**
   * Requests to a pool of {@link TaskObject}s of one namespace: an execute to the object `pick`
   * names (default: one of `size` objects, `"tasks-0"` to `"tasks-<size-1>"`, by the request's
   * idempotency key, so a request sent again reaches the object that kept its outcome); a revert
   * to the object that ran the execute. The object's name is the worker recorded.
   * @example EdgeExecutor.objects(env.TASK_OBJECTS, { size: 8 })
   * @example EdgeExecutor.objects(env.TASK_OBJECTS, { pick: (request) => `tenant-${request.args.tenant}` })
   */
  static objects(
    namespace: { getByName(name: string): TaskService },
    options: EdgeExecutorOptions & { size?: number; pick?: (request: TaskRequest) => string } = {},
  ): EdgeExecutor {
    const size = options.size ?? 4;
    const pick = options.pick ?? ((request: TaskRequest) => `tasks-${hash(request.idempotencyKey) % size}`);
    return new EdgeExecutor((request) => {
      const worker = request.action === "revert" && request.worker !== undefined ? request.worker : pick(request);
      return { worker, target: namespace.getByName(worker) };
    }, options);
  }

  async execute(request: TaskRequest, context: ExecutionContext): Promise<ExecutionOutcome> {
    let worker: string | undefined;
    const failed = (error: Error): ExecutionOutcome => ({ ok: false, failure: Failure.fromError(error).toJSON(), ...(worker === undefined ? {} : { worker }) });
    const what = `task "${request.task}" (atom "${request.atom}")`;
    const ms = Math.min(this.#timeoutMs, request.timeoutMs ?? Infinity);
    const stop = new AbortController();
    let onAbort: (() => void) | undefined;
    try {
      const route = this.#route(request);
      worker = route.worker;
      const call = route.target.run(request).then(
        (answer) => outcomeOf(answer, worker as string) ?? failed(new WorkerLost(`${what}: worker "${worker}" answered with something that is not an outcome; serve tasks with TaskEntrypoint or TaskObject`)),
        (e: unknown) => failed(new WorkerLost(`${what}: the call to worker "${worker}" failed (${(e as Error)?.message ?? String(e)}); the task may have run: it runs again per the flow's retry, with the same idempotency key`, { cause: e })),
      );
      const timeout = this.#clock.sleep(ms, stop.signal).then(() =>
        failed(new RequestTimeout(`${what}: worker "${worker}" did not answer within ${ms} ms; it may still be running: the flow's retry decides, a request sent again has the same idempotency key; raise requestTimeoutMs if it needs longer`)),
      );
      // The engine gave up (its own timeout, a cancel): nothing can stop the remote, so stop waiting.
      const aborted = new Promise<ExecutionOutcome>((resolve) => {
        onAbort = () => resolve(failed(asError(context.signal.reason)));
        if (context.signal.aborted) onAbort();
        else context.signal.addEventListener("abort", onAbort);
      });
      return await Promise.race([call, timeout, aborted]);
    } catch (e) {
      return failed(asError(e)); // a route that threw (an unknown worker name, a bad binding)
    } finally {
      stop.abort();
      if (onAbort) context.signal.removeEventListener("abort", onAbort);
    }
  }
}

/** What a remote answered, checked: it crossed a boundary, so it is data to check, not to trust. */
function outcomeOf(answer: unknown, worker: string): ExecutionOutcome | undefined {
  if (typeof answer !== "object" || answer === null) return undefined;
  const a = answer as { ok?: unknown; value?: unknown; failure?: unknown };
  if (a.ok === true) return { ok: true, value: a.value, worker };
  if (a.ok !== false) return undefined;
  try {
    return { ok: false, failure: Failure.fromJSON(a.failure).toJSON(), worker };
  } catch {
    return undefined;
  }
}

function asError(e: unknown): Error {
  return e instanceof Error ? e : new ExecutionFailure(String(e));
}

/** FNV-1a: a stable spread of idempotency keys over the pool (the same key, the same object). */
function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}
