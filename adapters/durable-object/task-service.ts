// The remote end of an EdgeExecutor (edge-executor.ts): a Worker entrypoint or a Durable Object
// that runs task implementations by name, as serveTasks does in a Web Worker
// (taskflow-ts/worker): `name` runs an execute, `revert:name` its revert (none: nothing to undo),
// and a throw comes back as a Failure, as data, never as an RPC exception.
import { DurableObject, WorkerEntrypoint } from "cloudflare:workers";
import { ExecutionFailure, Failure, type ExecutionOutcome, type TaskRequest } from "taskflow-ts";

/**
 * A task implementation a {@link TaskEntrypoint} or {@link TaskObject} serves: the request's
 * arguments, and the request itself (its `idempotencyKey`, to make a side effect happen once).
 * @example const charge: EdgeTaskImplementation = async ({ amount }, { idempotencyKey }) => payments.charge(amount, { idempotencyKey })
 */
export type EdgeTaskImplementation = (args: Record<string, unknown>, request: TaskRequest) => unknown;

/**
 * Runs one request on `tasks`: the outcome as data, a throw included.
 * @example const outcome = await runTask({ add: ({ x, y }) => (x as number) + (y as number) }, request)
 */
export async function runTask(tasks: Record<string, EdgeTaskImplementation>, request: TaskRequest): Promise<ExecutionOutcome> {
  try {
    const impl = Object.hasOwn(tasks, request.action === "revert" ? `revert:${request.task}` : request.task)
      ? tasks[request.action === "revert" ? `revert:${request.task}` : request.task]
      : undefined;
    if (!impl && request.action === "revert") return { ok: true, value: undefined };
    if (!impl) throw new ExecutionFailure(`this worker has no task "${request.task}"; add it to its tasks`);
    return { ok: true, value: await impl(request.args, request) };
  } catch (e) {
    return { ok: false, failure: Failure.fromError(e).toJSON() };
  }
}

/**
 * A Worker entrypoint that runs tasks for an {@link EdgeExecutor.service}: export a subclass
 * from the Worker with its `tasks`, and bind a runner's Worker to it (`services` with
 * `entrypoint` in wrangler's config). Stateless: a request sent again after the runner was
 * evicted runs the task again (at least once, with the same idempotency key): give side effects
 * that key, or serve them from a {@link TaskObject}.
 * @example
 * export class Tasks extends TaskEntrypoint<Env> {
 *   protected readonly tasks = { resize: ({ image }) => resize(image as string), "revert:resize": ({ image }) => this.env.BUCKET.delete(`thumb/${image}`) };
 * }
 */
export abstract class TaskEntrypoint<Env = Cloudflare.Env> extends WorkerEntrypoint<Env> {
  /** The implementations, by task name (`revert:<name>` for a revert). */
  protected abstract readonly tasks: Record<string, EdgeTaskImplementation>;

  /** Runs one request (the executor's RPC call). */
  async run(request: TaskRequest): Promise<ExecutionOutcome> {
    return runTask(this.tasks, request);
  }
}

/** Where a TaskObject keeps outcomes: `tf:outcome:<action>:<key>`, and `tf:kept:<time>:<action>:<key>` to forget them in order. */
const OUTCOME = "tf:outcome:";
const KEPT = "tf:kept:";
/** Kept outcomes forgotten per request, at most: forgetting never costs a request much. */
const FORGET_PER_RUN = 16;

/**
 * A Durable Object that runs tasks for an {@link EdgeExecutor.objects} pool: export a subclass
 * with its `tasks`, which may use the object's own storage (`this.ctx.storage`). It runs each
 * request once per idempotency key and action: the outcome is kept `keepOutcomesMs` (default a
 * day), so a request sent again (the runner evicted mid-call, or timed out) gets the first one's
 * outcome, or waits for it while it still runs, instead of running the task twice.
 * @example
 * export class Ledger extends TaskObject<Env> {
 *   protected readonly tasks = { book: ({ amount }) => this.ctx.storage.kv.put("balance", (this.ctx.storage.kv.get<number>("balance") ?? 0) + (amount as number)) };
 * }
 */
export abstract class TaskObject<Env = Cloudflare.Env> extends DurableObject<Env> {
  /** The implementations, by task name (`revert:<name>` for a revert). */
  protected abstract readonly tasks: Record<string, EdgeTaskImplementation>;
  /** How long an outcome is kept for a request sent again. */
  protected readonly keepOutcomesMs: number = 86_400_000;
  readonly #running = new Map<string, Promise<ExecutionOutcome>>();

  /** Runs one request (the executor's RPC call), or answers with the outcome of the same one run before. */
  async run(request: TaskRequest): Promise<ExecutionOutcome> {
    const key = `${request.action}:${request.idempotencyKey}`;
    const kv = this.ctx.storage.kv;
    const kept = kv.get<{ outcome: ExecutionOutcome }>(OUTCOME + key);
    if (kept) return kept.outcome;
    const running = this.#running.get(key);
    if (running) return running;
    const run = runTask(this.tasks, request).then((outcome) => {
      const at = Date.now();
      try {
        kv.put(OUTCOME + key, { outcome });
        kv.put(`${KEPT}${String(at).padStart(15, "0")}:${key}`, key);
      } catch (e) {
        // Too large to keep: answered all the same, and a request sent again runs it again.
        kv.delete(OUTCOME + key);
        console.warn(`TaskObject: the outcome of ${key} is not kept for a request sent again:`, e);
      }
      this.#forget(at);
      return outcome;
    });
    this.#running.set(key, run);
    try {
      return await run;
    } finally {
      this.#running.delete(key);
    }
  }

  /** Forgets the oldest outcomes kept longer than `keepOutcomesMs`. */
  #forget(now: number): void {
    const kv = this.ctx.storage.kv;
    const before = `${KEPT}${String(now - this.keepOutcomesMs).padStart(15, "0")}`;
    for (const [index, key] of [...kv.list<string>({ prefix: KEPT, end: before, limit: FORGET_PER_RUN })]) {
      kv.delete(OUTCOME + key);
      kv.delete(index);
    }
  }
}
