// A pool of Web Workers that run tasks by name: TaskFlow's worker-based engine
// (taskflow/engines/worker_based/) on Comlink. A worker registers its task implementations with
// `serveTasks` and announces their names when the pool adds it (TaskFlow's NOTIFY); the pool
// routes each request to a worker that can run it, least busy first, up to `perWorker` at once;
// a request waits (TaskFlow's WAITING/PENDING) until a worker takes it, or fails with
// RequestTimeout; a worker that dies fails its running requests with WorkerLost, as data, so the
// flow's retry and revert rules apply. The pool notices a death itself: a Worker's `error` event
// (it crashed, or its script did not load), or no answer to a ping within a bounded time
// (it closed itself, or hangs); TaskFlow's workers announce themselves periodically for the same
// reason (its NOTIFY, and the proxy's expiry of workers not heard from).
import * as Comlink from "comlink";
import {
  Executor, ExecutionFailure, Failure, RequestTimeout, registerErrorClass, systemClock,
  type Clock, type ExecutionContext, type ExecutionOutcome, type TaskRequest,
} from "taskflow-ts";
import type { RunnerTarget } from "./client.js";
import type { RunnerScope } from "./host.js";

/**
 * The worker that ran a request went away (terminated, crashed) before it answered. The request
 * may have run: tasks run at least once, with the same idempotency key.
 * @example if (engine.storage.getFailure("render")?.check(WorkerLost)) console.log("retried elsewhere")
 */
export class WorkerLost extends ExecutionFailure {
  static {
    this.prototype.name = "WorkerLost";
  }
}
registerErrorClass(WorkerLost);

/**
 * A task implementation a worker registers: the request's arguments and what it needs to run.
 * @example const add: TaskImplementation = ({ x, y }) => (x as number) + (y as number)
 */
export type TaskImplementation = (args: Record<string, unknown>, context: WorkerTaskContext) => unknown;

/**
 * What an implementation receives beside its arguments.
 * @example const impl: TaskImplementation = (args, ctx) => { ctx.progress(0.5); return ctx.request.attempt; }
 */
export interface WorkerTaskContext {
  readonly request: TaskRequest;
  readonly signal: AbortSignal;
  progress(fraction: number, details?: unknown): void;
}

/**
 * Options of {@link serveTasks}.
 * @example serveTasks({ band: renderBand }, { transfer: ["band"] })
 */
export interface ServeTasksOptions {
  /** Where to listen: the worker's scope by default, or a MessagePort. */
  scope?: RunnerScope;
  /**
   * Tasks whose results are transferred to the page, not copied: every ArrayBuffer in the result
   * (a typed array's too) moves, and is detached here. For large binary results; the
   * implementation must not use the buffer once it has returned it.
   */
  transfer?: string[];
}

/** The ArrayBuffers in a value (arrays, plain objects, typed arrays), each once: what a transfer moves. */
function buffersIn(value: unknown, found = new Set<ArrayBuffer>()): ArrayBuffer[] {
  if (value instanceof ArrayBuffer) found.add(value);
  else if (ArrayBuffer.isView(value)) {
    if (value.buffer instanceof ArrayBuffer) found.add(value.buffer);
  } else if (Array.isArray(value)) for (const v of value) buffersIn(v, found);
  else if (value !== null && typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype) for (const v of Object.values(value)) buffersIn(v, found);
  return [...found];
}

/** The messages a worker answers, over Comlink. */
interface TaskWorkerApi {
  hello(): { protocol: 1; tasks: string[] };
  run(id: number, request: TaskRequest, progress: (fraction: number, details?: unknown) => void): Promise<ExecutionOutcome>;
  abort(id: number): void;
}

/**
 * Serves task implementations by name in a worker (`execute` and, where a task has one,
 * `revert:<name>` for its revert). A task's throw comes back as a Failure, as data.
 * @example serveTasks({ add: ({ x, y }) => (x as number) + (y as number), "revert:add": () => undefined })
 */
export function serveTasks(tasks: Record<string, TaskImplementation>, options: ServeTasksOptions = {}): void {
  const running = new Map<number, AbortController>();
  const transfer = new Set(options.transfer ?? []);
  const api: TaskWorkerApi = {
    hello: () => ({ protocol: 1, tasks: Object.keys(tasks).filter((k) => !k.startsWith("revert:")) }),
    async run(id, request, progress) {
      const controller = new AbortController();
      running.set(id, controller);
      const impl = request.action === "revert" ? tasks[`revert:${request.task}`] : tasks[request.task];
      try {
        if (!impl && request.action === "revert") return { ok: true, value: undefined };
        if (!impl) throw new ExecutionFailure(`this worker has no task "${request.task}"; register it with serveTasks`);
        const sent: Array<Promise<unknown>> = [];
        const value = await impl(request.args, { request, signal: controller.signal, progress: (f, d) => void sent.push(Promise.resolve(progress(f, d)).catch(() => undefined)) });
        // Progress travels on a port of its own: let it arrive before the answer does.
        await Promise.all(sent);
        const outcome: ExecutionOutcome = { ok: true, value };
        return request.action === "execute" && transfer.has(request.task) ? Comlink.transfer(outcome, buffersIn(value)) : outcome;
      } catch (e) {
        return { ok: false, failure: Failure.fromError(e).toJSON() };
      } finally {
        running.delete(id);
        // The page's progress callback crossed as a proxy with a port of its own: close it.
        (progress as unknown as Partial<Comlink.Remote<unknown>>)[Comlink.releaseProxy]?.();
      }
    },
    abort: (id) => running.get(id)?.abort(new ExecutionFailure("the engine gave up on this request")),
  };
  Comlink.expose(api, (options.scope ?? (globalThis as unknown as RunnerScope)) as Comlink.Endpoint);
}

/**
 * Options of a {@link WorkerPool}.
 * @example new WorkerPool({ perWorker: 2, requestTimeoutMs: 30_000 })
 */
export interface WorkerPoolOptions {
  /** Most requests one worker runs at once (default 1). */
  perWorker?: number;
  /** How long a request may wait for a worker to take it before it fails with RequestTimeout (default 60 s; a task's `timeoutMs` if shorter). */
  requestTimeoutMs?: number;
  /** `"least-busy"` (default) or `"round-robin"`. */
  routing?: "least-busy" | "round-robin";
  /**
   * How often the pool pings each worker (default 5 s; 0: never). A worker that does not answer
   * within `heartbeatTimeoutMs` is dropped as dead (it closed itself, or hangs), failing its
   * running requests with WorkerLost. A task that computes synchronously holds its worker's
   * answers too: keep each synchronous stretch well under the timeout, or raise it.
   */
  heartbeatMs?: number;
  /** How long a ping may go unanswered, and how long a worker being added may take to say which tasks it serves (default 30 s). */
  heartbeatTimeoutMs?: number;
  /** The pool's timers (request timeouts, pings): the platform's by default; a ManualClock in tests. */
  clock?: Clock;
}

interface Member {
  name: string;
  remote: Comlink.Remote<TaskWorkerApi>;
  tasks: Set<string>;
  running: Map<number, (outcome: ExecutionOutcome) => void>;
  terminate: (() => void) | undefined;
  port: RunnerTarget;
  /** Aborted when the worker leaves the pool: stops its pings and its error listener. */
  gone: AbortController;
}

interface Waiting {
  request: TaskRequest;
  context: ExecutionContext;
  resolve(outcome: ExecutionOutcome): void;
  stopTimer: AbortController;
}

/**
 * An executor that runs tasks on a pool of Web Workers (TaskFlow's worker-based engine): give it
 * as the engine's `executor`. Workers are added with the names of the tasks they serve; a worker
 * that dies (its `error` event, or no answer to a ping) or is removed with
 * {@link WorkerPool.lose} fails its running requests with {@link WorkerLost}. Reverts go back to
 * the worker that ran the execute while it is in the pool.
 * @example
 * const pool = new WorkerPool({ perWorker: 2 });
 * await pool.add(new Worker(new URL("./tasks.worker.ts", import.meta.url), { type: "module" }));
 * await load(flow, { executor: pool, engine: "parallel" }).run();
 * pool.close();
 */
export class WorkerPool extends Executor {
  readonly #members = new Map<string, Member>();
  readonly #waiting: Waiting[] = [];
  readonly #options: Required<WorkerPoolOptions>;
  #ids = 0;
  #turn = 0;
  #closed = false;

  constructor(options: WorkerPoolOptions = {}) {
    super();
    this.#options = {
      perWorker: options.perWorker ?? 1, requestTimeoutMs: options.requestTimeoutMs ?? 60_000, routing: options.routing ?? "least-busy",
      heartbeatMs: options.heartbeatMs ?? 5_000, heartbeatTimeoutMs: options.heartbeatTimeoutMs ?? 30_000, clock: options.clock ?? systemClock,
    };
  }

  /**
   * Adds a worker (a Worker, or a MessagePort to one) once it has said which tasks it serves.
   * `terminate` is called when the pool drops it (a Worker's own by default). From then on the
   * pool watches it: its `error` event (a Worker's) or an unanswered ping drops it.
   * @throws WorkerLost when the worker fails to load, or does not answer within `heartbeatTimeoutMs` (it is terminated)
   * @example const name = await pool.add(worker, { name: "w1" })
   */
  async add(target: RunnerTarget, options: { name?: string; terminate?: () => void } = {}): Promise<string> {
    if (this.#closed) throw new ExecutionFailure("the pool is closed; make a new one");
    const name = options.name ?? `worker-${++this.#ids}`;
    const own = (target as { terminate?: () => void }).terminate;
    const m: Member = {
      name, remote: Comlink.wrap<TaskWorkerApi>(target as Comlink.Endpoint), tasks: new Set(), running: new Map(),
      terminate: options.terminate ?? own?.bind(target), port: target, gone: new AbortController(),
    };
    // A Worker whose script throws (or fails to load) says so with an `error` event, once.
    let crashed = (_why: string) => undefined as void;
    const died = new Promise<string>((resolve) => (crashed = resolve));
    const onError = (e: Event) => {
      const why = `it crashed: ${(e as ErrorEvent).message || "its script failed to load or threw"}`;
      crashed(why);
      this.lose(name, why);
    };
    (target as Partial<EventTarget>).addEventListener?.("error", onError, { signal: m.gone.signal });
    const timer = new AbortController();
    const hello = await Promise.race([
      m.remote.hello().then((h) => h, () => undefined),
      died,
      this.#options.clock.sleep(this.#options.heartbeatTimeoutMs, timer.signal).then(() => `it did not say which tasks it serves within ${this.#options.heartbeatTimeoutMs} ms`),
    ]);
    timer.abort();
    if (typeof hello !== "object" || this.#closed) {
      const why = typeof hello === "string" ? hello : this.#closed ? "the pool was closed" : "it did not answer";
      m.gone.abort();
      this.#release(m);
      throw new WorkerLost(`worker "${name}" could not join the pool: ${why}; check its script serves tasks with serveTasks`);
    }
    for (const t of hello.tasks) m.tasks.add(t);
    this.#members.set(name, m);
    if (this.#options.heartbeatMs > 0) void this.#watch(m);
    this.#dispatch();
    return name;
  }

  /** Pings a worker every `heartbeatMs` while it is in the pool; one unanswered for `heartbeatTimeoutMs` drops it. */
  async #watch(m: Member): Promise<void> {
    const { clock, heartbeatMs, heartbeatTimeoutMs } = this.#options;
    const gone = m.gone.signal;
    for (;;) {
      await clock.sleep(heartbeatMs, gone);
      if (gone.aborted) return;
      const timer = new AbortController();
      gone.addEventListener("abort", () => timer.abort(), { once: true, signal: timer.signal });
      const answered = await Promise.race([
        m.remote.hello().then(() => true, () => false),
        clock.sleep(heartbeatTimeoutMs, timer.signal).then(() => false),
      ]);
      timer.abort();
      if (gone.aborted) return;
      if (!answered) return this.lose(m.name, `it did not answer a ping within ${heartbeatTimeoutMs} ms: it stopped, or a task holds it in a synchronous loop`);
    }
  }

  /** The workers in the pool, with the tasks each serves and how many requests it runs. @example pool.workers() // [{ name: "w1", tasks: ["add"], running: 1 }] */
  workers(): Array<{ name: string; tasks: string[]; running: number }> {
    return [...this.#members.values()].map((m) => ({ name: m.name, tasks: [...m.tasks], running: m.running.size }));
  }

  /**
   * Drops a worker (terminating it), as the pool does itself when one crashes or stops
   * answering: its running requests fail with WorkerLost, and requests waiting for a worker go
   * to the others.
   * @example pool.lose("w1", "the user shrank the pool")
   */
  lose(name: string, why = "it was terminated"): void {
    const m = this.#members.get(name);
    if (!m) return;
    this.#members.delete(name);
    m.gone.abort();
    this.#release(m);
    const failure = (request: string) => Failure.fromError(new WorkerLost(`worker "${name}" went away while running ${request} (${why}); the task may have run: it runs again per the flow's retry`)).toJSON();
    for (const [, settle] of m.running) settle({ ok: false, failure: failure("a request"), worker: name });
    m.running.clear();
    this.#dispatch();
  }

  /** Terminates every worker and fails what waits; nothing is left running. @example pool.close() */
  close(): void {
    this.#closed = true;
    for (const name of [...this.#members.keys()]) this.lose(name, "the pool was closed");
    for (const w of this.#waiting.splice(0)) this.#expire(w, "the pool was closed");
  }

  execute(request: TaskRequest, context: ExecutionContext): Promise<ExecutionOutcome> {
    return new Promise((resolve) => {
      if (this.#closed) return resolve({ ok: false, failure: Failure.fromError(new ExecutionFailure("the pool is closed; give the engine an open one")).toJSON() });
      // A revert no worker here can run, of an execute no worker answered: nothing ran to undo.
      const members = [...this.#members.values()];
      if (request.action === "revert" && request.worker === undefined && !members.some((m) => m.tasks.has(request.task))) return resolve({ ok: true, value: undefined });
      const waiting: Waiting = { request, context, resolve, stopTimer: new AbortController() };
      this.#waiting.push(waiting);
      const ms = Math.min(this.#options.requestTimeoutMs, request.timeoutMs ?? Infinity);
      void this.#options.clock.sleep(ms, waiting.stopTimer.signal).then(() => {
        const at = this.#waiting.indexOf(waiting);
        if (at >= 0) {
          this.#waiting.splice(at, 1);
          this.#expire(waiting, `no worker took it within ${ms} ms`);
        }
      });
      this.#dispatch();
    });
  }

  #expire(w: Waiting, why: string): void {
    w.stopTimer.abort();
    const error = new RequestTimeout(`task "${w.request.task}" (atom "${w.request.atom}"): ${why}; add a worker that serves it or raise requestTimeoutMs`);
    w.resolve({ ok: false, failure: Failure.fromError(error).toJSON() });
  }

  /** Hands waiting requests to workers that can take them, oldest first. */
  #dispatch(): void {
    for (let i = 0; i < this.#waiting.length; ) {
      const w = this.#waiting[i]!;
      const member = this.#choose(w.request);
      if (!member) {
        i++;
        continue;
      }
      this.#waiting.splice(i, 1);
      w.stopTimer.abort();
      this.#start(member, w);
    }
  }

  #choose(request: TaskRequest): Member | undefined {
    const able = [...this.#members.values()].filter((m) => (request.action === "revert" || m.tasks.has(request.task)) && m.running.size < this.#options.perWorker);
    if (request.action === "revert") {
      const same = able.find((m) => m.name === request.worker);
      if (same) return same;
      const servers = able.filter((m) => m.tasks.has(request.task));
      if (servers.length > 0) return servers[0];
      return undefined;
    }
    if (able.length === 0) return undefined;
    if (this.#options.routing === "round-robin") return able[this.#turn++ % able.length];
    return able.reduce((a, b) => (b.running.size < a.running.size ? b : a));
  }

  #start(m: Member, w: Waiting): void {
    const id = ++this.#ids;
    let settled = false;
    const progress = Comlink.proxy((f: number, d?: unknown) => settled || w.context.progress(f, d));
    const settle = (outcome: ExecutionOutcome) => {
      if (settled) return;
      settled = true;
      m.running.delete(id);
      w.context.signal.removeEventListener("abort", onAbort);
      w.resolve({ ...outcome, worker: m.name });
      this.#dispatch();
    };
    const onAbort = () => void m.remote.abort(id).catch(() => undefined);
    w.context.signal.addEventListener("abort", onAbort);
    m.running.set(id, settle);
    m.remote.run(id, w.request, progress).then(settle, (e: unknown) => settle({ ok: false, failure: Failure.fromError(e).toJSON() }));
  }

  #release(m: Member): void {
    m.remote[Comlink.releaseProxy]();
    try {
      m.terminate?.();
    } finally {
      (m.port as { close?: () => void }).close?.();
    }
  }
}
