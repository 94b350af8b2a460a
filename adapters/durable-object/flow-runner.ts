import { DurableObject } from "cloudflare:workers";
import { DisallowedAccess, Duplicate, InvalidFormat, NotFound, systemClock, type Backend, type Engine, type EngineOptions, type FlowDetail, type FlowRegistry } from "taskflow-ts";
import { DurableObjectBackend } from "./backend.js";
import { FlowSlots, type FlowRunnerOptions, type Started } from "./flow-slots.js";
import { serveHttp } from "./runner-http.js";
import type { Json } from "./runner-requests.js";
import type { FlowLog, FlowStatus } from "./runner-status.js";

export type { FlowRunnerOptions, Started } from "./flow-slots.js";

/**
 * A Durable Object that runs flows and keeps their log books in its own SQLite-backed storage,
 * so a flow goes on after the object is evicted or restarted, and waits minutes or days for a
 * timer or an input without holding an isolate.
 *
 * Export a subclass from your Worker, with the flows it may start:
 * ```ts
 * const flows = new FlowRegistry().register("provision", (plan: string) => provisionFlow(plan));
 * export class Jobs extends FlowRunner<Env> {
 *   protected readonly flows = flows;
 *   protected override readonly options = { engine: "parallel" } as const;
 * }
 * // in the Worker: (await env.JOBS.getByName("jobs").start("job-1", "provision", ["pro"], { tenant: "acme" })).state
 * ```
 * A subclass rather than a factory: the runtime constructs the exported class itself (with
 * `ctx` and `env`), a subclass gets the typed RPC stub (`DurableObjectNamespace<Jobs>`) for
 * free, and it can add its own methods or override the hooks (`observe`, `makeBackend`).
 *
 * How it runs: each change is written to the log book before it is acted on, and **the alarm
 * does the running**. `start`, `provide`, `revise` and `resume` store what they were given and
 * arm the alarm; `alarm()` runs every flow that has work to do, and stays while they run to
 * start any other that comes due meanwhile (runner-alarm.ts). While a flow is unfinished an
 * alarm is armed: at once for a flow that is running (so an eviction mid-run resumes it: atoms
 * that were RUNNING run again, SUCCESS atoms never do), at the stored wake-up time for a flow
 * waiting on a sleep, a retry's backoff or a wait's deadline. A flow waiting for an input needs
 * no alarm until the input comes. The engine never waits in-process (`maxWaitMs: 0`).
 *
 * Reach it through its binding: a Durable Object has no public URL, so only the Worker's code
 * calls its RPC methods. Its `fetch()` is an HTTP surface for a Worker that forwards requests
 * as they come; it refuses any request without `Authorization: Bearer <secret>` (the
 * `API_TOKEN` secret by default).
 *
 * Errors keep their TaskFlow name across RPC (`e.name === "NotFound"`): NotFound for an unknown
 * flow id, InvalidFormat for a refused argument or input, Duplicate for an id taken by another
 * input, DisallowedAccess for an action the flow's state refuses, StorageFailure for a stored
 * record of the flow that does not read back (corrupted, foreign): the alarm then marks that flow
 * broken and goes on with the others.
 *
 * One runner per flow: the engines run under the flow's lock in the backend's lock service (one
 * per life of the object) and fence every write with the token they claimed, so a run of an
 * older life of the object that is still finishing an `await` (after an eviction or a deploy)
 * gets `LockLost` at its next write and stores nothing. Within one life, an input, suspend or
 * cancel for a running flow goes to its running engine (which holds the lock), never to a second
 * engine that would wait for it. A backend made by `makeBackend` must offer `locks` and `claim`
 * (the core's `BackendWrapper` passes them on), or its flows run unlocked and unfenced.
 *
 * Finished flows are kept `retentionMs` (default 7 days) after they ended, then the alarm
 * deletes their log books (see {@link FlowRunnerOptions.retentionMs}).
 *
 * The logic is in flow-slots.ts (`FlowSlots`: one slot per flow, in explicit states),
 * runtime-agnostic and tested in Node; this class is its RPC and HTTP façade.
 * @example
 * export class Jobs extends FlowRunner<Env> {
 *   protected readonly flows = new FlowRegistry().register("provision", (plan: string) => provisionFlow(plan));
 * }
 */
export abstract class FlowRunner<Env = Cloudflare.Env> extends DurableObject<Env> {
  /** The flows this runner may start, by name. */
  protected abstract readonly flows: FlowRegistry;
  /** How flows run here; override the field in a subclass. */
  protected readonly options: FlowRunnerOptions = {};

  #backend: Backend | undefined;
  #slotTable: FlowSlots | undefined;

  /**
   * Starts flow `flowName` of the registry as `id`, with `args` for its factory and `store` as
   * its inputs; the alarm runs it. Idempotent: the same id with the same input returns the
   * existing flow (`created: false`) and runs nothing again.
   * @throws InvalidFormat for a bad argument, an unknown flow name or a missing input;
   * Duplicate when `id` is taken by a flow started with other input
   */
  async start(id: string, flow: string, args: Json[] = [], store: { [name: string]: Json } = {}): Promise<Started> {
    return this.#slots.start(id, flow, args, store);
  }

  /** The flow's state, atoms, results and what it waits for. @throws NotFound for an unknown id */
  async get(id: string): Promise<FlowStatus> {
    return this.#slots.get(id);
  }

  /** Every record of the flow: its log book, flow detail and atom details. @throws NotFound */
  async logBook(id: string): Promise<FlowLog> {
    return this.#slots.logBook(id);
  }

  /**
   * Provides a value the flow waits for (or will): validated by the wait's schema and stored;
   * the alarm goes on with the flow.
   * @throws NotFound for a name the flow does not wait for; InvalidFormat for a refused value;
   * DisallowedAccess when the wait already has its value (use `revise`) or the flow has ended
   */
  async provide(id: string, name: string, value: unknown): Promise<FlowStatus> {
    return this.#slots.provide(id, name, value);
  }

  /**
   * Changes an input the flow already read: what depends on it is reverted and run again by the
   * alarm; the rest keeps its results. @throws as `provide`; DisallowedAccess while an affected
   * atom is running
   */
  async revise(id: string, name: string, value: unknown): Promise<FlowStatus> {
    return this.#slots.revise(id, name, value);
  }

  /**
   * Suspends the flow: running atoms finish, nothing new starts, and no alarm runs it (even when
   * its timer is due) until `resume`. @throws DisallowedAccess when it has ended
   */
  async suspend(id: string): Promise<FlowStatus> {
    return this.#slots.suspend(id);
  }

  /** Lets a suspended flow go on (and retries one the runner gave up on). @throws DisallowedAccess when it has ended */
  async resume(id: string): Promise<FlowStatus> {
    return this.#slots.resume(id);
  }

  /**
   * Cancels the flow: running tasks are aborted through their signal and everything that ran is
   * reverted, latest first; resolves when the flow has ended (REVERTED, or FAILURE if a revert
   * failed). @throws DisallowedAccess when it had already ended
   */
  async cancel(id: string, reason = "cancelled"): Promise<FlowStatus> {
    return this.#slots.cancel(id, reason);
  }

  /**
   * Runs the flows that have work to do, and stays while they run: a flow that comes due
   * meanwhile (a timer, a start, an input) starts at once rather than after the longest run.
   * Alarms of one object never overlap, so this invocation is the only one driving flows (see
   * runner-alarm.ts). It also deletes finished flows whose retention period is over.
   */
  override async alarm(): Promise<void> {
    await this.#slots.alarm();
  }

  /** The HTTP surface (see runner-http.ts), behind the bearer token. */
  override async fetch(request: Request): Promise<Response> {
    const name = this.options.tokenSecret ?? "API_TOKEN";
    const token = (this.env as unknown as Record<string, unknown> | undefined)?.[name];
    return serveHttp(request, this, typeof token === "string" ? token : undefined, name);
  }

  /** Called with each engine this object makes for a flow: add listeners here (logging, metrics). */
  protected observe(_engine: Engine, _id: string): void {}

  /** The backend of the log books; override to wrap it (instrumentation, fault injection in tests). */
  protected makeBackend(): Backend {
    return new DurableObjectBackend(this.ctx.storage);
  }

  /** Where the log books are (made on first use, once per life of the object). */
  protected get backend(): Backend {
    return (this.#backend ??= this.makeBackend());
  }

  /** Made on first use: the subclass's fields (`flows`, `options`) are not set yet while this class's are. */
  get #slots(): FlowSlots {
    return (this.#slotTable ??= new FlowSlots({
      backend: this.backend,
      flows: this.flows,
      options: this.options,
      kv: this.ctx.storage.kv,
      alarm: this.ctx.storage,
      observe: (engine, id) => this.observe(engine, id),
    }));
  }
}
