// A pool of Web Workers that run tasks by name: TaskFlow's worker-based engine
// (taskflow/engines/worker_based/) on Comlink. A worker registers its task implementations with
// `serveTasks` and announces their names when the pool adds it (TaskFlow's NOTIFY); the pool
// routes each request to a worker that can run it, least busy first, up to `perWorker` at once;
// a request waits (TaskFlow's WAITING/PENDING) until a worker takes it, or fails with
// RequestTimeout; a worker removed as dead fails its running requests with WorkerLost, as data,
// so the flow's retry and revert rules apply.
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
export function serveTasks(tasks: Record<string, TaskImplementation>, options: { scope?: RunnerScope } = {}): void {
  const running = new Map<number, AbortController>();
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
        return { ok: true, value };
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
  clock?: Clock;
}

interface Member {
  name: string;
  remote: Comlink.Remote<TaskWorkerApi>;
  tasks: Set<string>;
  running: Map<number, (outcome: ExecutionOutcome) => void>;
  terminate: (() => void) | undefined;
  port: RunnerTarget;
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
 * that dies is removed with {@link WorkerPool.lose}, failing its running requests with
 * {@link WorkerLost}. Reverts go back to the worker that ran the execute while it is in the pool.
 * @example
 * const pool = new WorkerPool({ perWorker: 2 });
 * await pool.add(new Worker(new URL("./tasks.worker.ts", import.meta.url), { type: "module" }));
 * await load(flow, { executor: pool, engine: "parallel" }).run();
 * pool.close();
 */
export class WorkerPool extends Executor {
  readonly #members = new Map<string, Member>();
  readonly #waiting: Waiting[] = [];
  readonly #options: Required<Omit<WorkerPoolOptions, "clock">> & { clock: Clock };
  #ids = 0;
  #turn = 0;
  #closed = false;

  constructor(options: WorkerPoolOptions = {}) {
    super();
    this.#options = { perWorker: options.perWorker ?? 1, requestTimeoutMs: options.requestTimeoutMs ?? 60_000, routing: options.routing ?? "least-busy", clock: options.clock ?? systemClock };
  }

  /**
   * Adds a worker (a Worker, or a MessagePort to one) once it has said which tasks it serves.
   * `terminate` is called when the pool drops it (a Worker's own by default).
   * @example const name = await pool.add(worker, { name: "w1" })
   */
  async add(target: RunnerTarget, options: { name?: string; terminate?: () => void } = {}): Promise<string> {
    if (this.#closed) throw new ExecutionFailure("the pool is closed; make a new one");
    const remote = Comlink.wrap<TaskWorkerApi>(target as Comlink.Endpoint);
    const { tasks } = await remote.hello();
    const name = options.name ?? `worker-${++this.#ids}`;
    const own = (target as { terminate?: () => void }).terminate;
    this.#members.set(name, { name, remote, tasks: new Set(tasks), running: new Map(), terminate: options.terminate ?? own?.bind(target), port: target });
    this.#dispatch();
    return name;
  }

  /** The workers in the pool, with the tasks each serves and how many requests it runs. @example pool.workers() // [{ name: "w1", tasks: ["add"], running: 1 }] */
  workers(): Array<{ name: string; tasks: string[]; running: number }> {
    return [...this.#members.values()].map((m) => ({ name: m.name, tasks: [...m.tasks], running: m.running.size }));
  }

  /**
   * Drops a worker that died (or terminates one): its running requests fail with WorkerLost,
   * and requests waiting for a worker go to the others.
   * @example worker.addEventListener("error", () => pool.lose("w1"))
   */
  lose(name: string, why = "it was terminated"): void {
    const m = this.#members.get(name);
    if (!m) return;
    this.#members.delete(name);
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
