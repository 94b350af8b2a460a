import { DurableObject } from "cloudflare:workers";
import type { Engine, EngineOptions } from "../../src/engine/engine.js";
import type { FlowRegistry } from "../../src/engine/helpers.js";
import { DisallowedAccess, Duplicate, InvalidFormat, NotFound } from "../../src/errors.js";
import type { FlowDetail } from "../../src/persistence/models.js";
import type { Backend } from "../../src/ports/backend.js";
import { systemClock } from "../../src/ports/clock.js";
import { isFinalFlowState } from "../../src/snapshot/rules.js";
import { readSnapshot, type FlowSnapshot } from "../../src/snapshot/snapshot.js";
import { DurableObjectBackend } from "./backend.js";
import { KeyedQueue } from "./keyed-queue.js";
import { AlarmDriver } from "./runner-alarm.js";
import { FlowIndex, requestDifferences, type FlowEntry } from "./runner-index.js";
import { serveHttp } from "./runner-http.js";
import * as schemas from "./runner-requests.js";
import { parse, type Json } from "./runner-requests.js";
import { dueAt, statusOf, type FlowLog, type FlowStatus } from "./runner-status.js";

/** How a FlowRunner runs its flows. */
export interface FlowRunnerOptions extends Pick<EngineOptions, "engine" | "maxConcurrency" | "clock" | "random" | "deferReverts" | "neverResolve" | "onListenerError"> {
  /**
   * How long after it has work to do (just started, given its input, resumed, or interrupted by
   * an eviction) the alarm runs a flow. Default 0: at once. Timers are always served at their
   * stored time. Tests set an hour and run the alarm by hand (`runDurableObjectAlarm`).
   */
  resumeDelayMs?: number;
  /** The Worker secret (a binding of `env`) that HTTP requests must show as a bearer token. Default `"API_TOKEN"`. */
  tokenSecret?: string;
}

/** What `start` returns: the flow's status, and whether this call created it. */
export interface Started extends FlowStatus {
  /** False when a flow with this id and the same input already existed: nothing new was started. */
  created: boolean;
}

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
 * input, DisallowedAccess for an action the flow's state refuses.
 */
export abstract class FlowRunner<Env = Cloudflare.Env> extends DurableObject<Env> {
  /** The flows this runner may start, by name. */
  protected abstract readonly flows: FlowRegistry;
  /** How flows run here; override the field in a subclass. */
  protected readonly options: FlowRunnerOptions = {};

  #backend: Backend | undefined;
  #index: FlowIndex | undefined;
  /** One engine per flow for the life of the object: every run and input of a flow goes through it. */
  readonly #engines = new Map<string, Promise<Engine>>();
  /** Flows whose engine is running now (a run, a cancel's revert, a suspension). */
  readonly #live = new Map<string, Engine>();
  readonly #queue = new KeyedQueue();
  /** Cancels of a running flow under way (see `cancel`): every turn of the flow waits for them. */
  readonly #cancels = new Map<string, Promise<void>>();
  #alarmDriver: AlarmDriver | undefined;

  /**
   * Starts flow `flowName` of the registry as `id`, with `args` for its factory and `store` as
   * its inputs; the alarm runs it. Idempotent: the same id with the same input returns the
   * existing flow (`created: false`) and runs nothing again.
   * @throws InvalidFormat for a bad argument, an unknown flow name or a missing input;
   * Duplicate when `id` is taken by a flow started with other input
   */
  async start(id: string, flow: string, args: Json[] = [], store: { [name: string]: Json } = {}): Promise<Started> {
    const request = {
      id: parse(schemas.flowId, id, "flow id"),
      flow: parse(schemas.flowName, flow, "flow name"),
      args: parse(schemas.flowArgs, args ?? [], "args"),
      store: parse(schemas.flowStore, store ?? {}, "store"),
    };
    return this.#turn(request.id, async () => {
      const existing = this.#entries.get(id);
      if (existing) {
        const differences = requestDifferences(existing, request.flow, request.args, request.store);
        if (differences.length > 0) {
          throw new Duplicate(`flow id "${id}" is taken by a flow started with other input (${differences.join("; ")}); start it under a new id, or send the same input to get the existing flow`);
        }
        // The object died between storing the request and writing the flow: write it now.
        if ((await this.#detail(existing)) === undefined) {
          await this.#create(existing);
          await this.#alarms.workAdded();
        }
        return { created: false, ...(await this.get(id)) };
      }
      const entry: FlowEntry = { ...request, createdAt: this.#now(), held: false, runNow: false };
      try {
        await this.#create(entry);
      } catch (e) {
        this.#entries.delete(id); // refused or not written: the id stays free
        this.#engines.delete(id);
        await this.#alarms.reschedule();
        throw e;
      }
      await this.#alarms.workAdded();
      return { created: true, ...(await this.get(id)) };
    });
  }

  /** The flow's state, atoms, results and what it waits for. @throws NotFound for an unknown id */
  async get(id: string): Promise<FlowStatus> {
    const entry = this.#require(id);
    return statusOf(entry, await this.#snapshot(entry), this.#now());
  }

  /** Every record of the flow: its log book, flow detail and atom details. @throws NotFound */
  async logBook(id: string): Promise<FlowLog> {
    const entry = this.#require(id);
    const detail = await this.#detail(entry);
    if (!detail) throw new NotFound(`flow "${id}" has no log book yet: its start is still being written; ask again`);
    const records = { logBook: await this.backend.getLogBook(detail.bookUuid), flowDetail: detail, atomDetails: await this.backend.getAtomDetails(detail.uuid) };
    return records as FlowLog; // records are checked storable data (the engine refuses anything else)
  }

  /**
   * Provides a value the flow waits for (or will): validated by the wait's schema and stored;
   * the alarm goes on with the flow.
   * @throws NotFound for a name the flow does not wait for; InvalidFormat for a refused value;
   * DisallowedAccess when the wait already has its value (use `revise`) or the flow has ended
   */
  async provide(id: string, name: string, value: unknown): Promise<FlowStatus> {
    const input = parse(schemas.inputName, name, "input name");
    await this.#withEngine(id, "provide an input to", (engine) => engine.provide(input, value, { run: false }));
    await this.#alarms.workAdded();
    return this.get(id);
  }

  /**
   * Changes an input the flow already read: what depends on it is reverted and run again by the
   * alarm; the rest keeps its results. @throws as `provide`; DisallowedAccess while an affected
   * atom is running
   */
  async revise(id: string, name: string, value: unknown): Promise<FlowStatus> {
    const input = parse(schemas.inputName, name, "input name");
    await this.#withEngine(id, "revise", (engine) => engine.revise(input, value, { run: false }));
    // Its state may not show the work to redo (a finished flow): say so, so the alarm runs it.
    this.#update(id, { runNow: true }, true);
    await this.#alarms.workAdded();
    return this.get(id);
  }

  /**
   * Suspends the flow: running atoms finish, nothing new starts, and no alarm runs it (even when
   * its timer is due) until `resume`. @throws DisallowedAccess when it has ended
   */
  async suspend(id: string): Promise<FlowStatus> {
    const entry = this.#require(id);
    this.#refuseEnded(id, await this.#detail(entry), "suspend");
    this.#update(id, { held: true }, true); // first: from here on, no alarm starts it
    this.#live.get(id)?.suspend();
    await this.#turn(id, async () => {
      const detail = await this.#detail(this.#require(id));
      // A flow stored RUNNING (or never run) is run just long enough to be stored SUSPENDED.
      if (detail && detail.state !== "SUSPENDED" && !isFinalFlowState(detail.state)) {
        await this.#runLive(id, await this.#engine(this.#require(id)), async (engine) => {
          const states = engine.runIter();
          await states.next(); // RESUMING: the flow is RUNNING and nothing is scheduled yet
          await states.return(); // leaving the loop suspends the engine, as TaskFlow's run_iter does
        });
      }
    });
    await this.#alarms.reschedule();
    return this.get(id);
  }

  /** Lets a suspended flow go on (and retries one the runner gave up on). @throws DisallowedAccess when it has ended */
  async resume(id: string): Promise<FlowStatus> {
    const entry = this.#require(id);
    if (!entry.runNow) this.#refuseEnded(id, await this.#detail(entry), "resume");
    this.#update(id, { held: false, error: undefined }, true);
    await this.#alarms.workAdded();
    return this.get(id);
  }

  /**
   * Cancels the flow: running tasks are aborted through their signal and everything that ran is
   * reverted, latest first; resolves when the flow has ended (REVERTED, or FAILURE if a revert
   * failed). @throws DisallowedAccess when it had already ended
   */
  async cancel(id: string, reason = "cancelled"): Promise<FlowStatus> {
    const why = parse(schemas.reason, reason ?? "cancelled", "reason");
    this.#require(id);
    const live = this.#live.get(id);
    if (live) {
      // The running engine cancels itself (aborting its tasks); if its run ends just before, the
      // cancel runs the revert on its own, outside the flow's turns: turns wait for it.
      const cancelling = live.cancel(why).catch(() => undefined); // a failed revert ends FAILURE: see the status
      this.#cancels.set(id, cancelling);
      this.#queue.after(id, cancelling);
      await cancelling;
      if (this.#cancels.get(id) === cancelling) this.#cancels.delete(id);
    } else {
      await this.#turn(id, async () => {
        const entry = this.#require(id);
        const detail = await this.#detail(entry);
        this.#refuseEnded(id, detail, "cancel");
        const engine = detail ? await this.#engine(entry) : await this.#create(entry);
        // Written ahead: an eviction mid-revert leaves an alarm that finishes the revert.
        this.#update(id, { runNow: true, held: false }, true);
        await this.#alarms.reschedule();
        await this.#runLive(id, engine, (e) => e.cancel(why));
      });
    }
    this.#update(id, { runNow: false, held: false });
    await this.#alarms.reschedule();
    return this.get(id);
  }

  /**
   * Runs the flows that have work to do, and stays while they run: a flow that comes due
   * meanwhile (a timer, a start, an input) starts at once rather than after the longest run.
   * Alarms of one object never overlap, so this invocation is the only one driving flows (see
   * runner-alarm.ts).
   */
  override async alarm(): Promise<void> {
    await this.#alarms.drive();
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

  /** Runs `task` in the flow's turn: after every earlier call about the flow, and any cancel under way. */
  #turn<T>(id: string, task: () => Promise<T>): Promise<T> {
    return this.#queue.run(id, async () => {
      await this.#cancels.get(id);
      return task();
    });
  }

  /** Made on first use: the subclass's `options` are not set yet while this class's fields are. */
  get #alarms(): AlarmDriver {
    return (this.#alarmDriver ??= new AlarmDriver({
      storage: this.ctx.storage,
      clock: this.options.clock ?? systemClock,
      resumeDelayMs: this.options.resumeDelayMs ?? 0,
      activeIds: () => this.#entries.activeIds(),
      dueAt: async (id, now) => {
        const entry = this.#entries.get(id);
        if (!entry || entry.held || entry.error !== undefined) return undefined;
        return dueAt(entry, await this.#snapshot(entry), now);
      },
      run: (id) => this.#turn(id, () => this.#runIfDue(id)),
    }));
  }

  get #entries(): FlowIndex {
    return (this.#index ??= new FlowIndex(this.ctx.storage.kv));
  }

  #now(): number {
    return (this.options.clock ?? systemClock).now();
  }

  #require(id: string): FlowEntry {
    const entry = this.#entries.get(parse(schemas.flowId, id, "flow id"));
    if (!entry) throw new NotFound(`no flow "${id}" in this runner; start it first (POST /flows or start())`);
    return entry;
  }

  /** Changes an entry without an await in between reading and writing it. */
  #update(id: string, patch: Partial<FlowEntry>, active?: boolean): void {
    const entry = this.#entries.get(id);
    if (entry) this.#entries.put({ ...entry, ...patch }, active ?? this.#entries.isActive(id));
  }

  #refuseEnded(id: string, detail: FlowDetail | undefined, action: string): void {
    if (detail && isFinalFlowState(detail.state)) {
      throw new DisallowedAccess(`cannot ${action} flow "${id}": it has ended ${detail.state}; start a new flow to run it again`);
    }
  }

  /** The stored flow detail, or undefined while its start is not written. */
  async #detail(entry: FlowEntry): Promise<FlowDetail | undefined> {
    if (entry.flowDetailId === undefined) return undefined;
    return this.backend.getFlowDetail(entry.flowDetailId).catch((e: unknown) => {
      if (e instanceof NotFound) return undefined;
      throw e;
    });
  }

  /** The flow read from its log book, or undefined while its start is not written. */
  async #snapshot(entry: FlowEntry): Promise<FlowSnapshot | undefined> {
    if (entry.flowDetailId === undefined) return undefined;
    return readSnapshot(this.backend, entry.flowDetailId).catch((e: unknown) => {
      if (e instanceof NotFound) return undefined;
      throw e;
    });
  }

  /** Acts on the flow's engine: the running one at once (it picks the change up), else in turn. */
  async #withEngine(id: string, action: string, act: (engine: Engine) => Promise<void>): Promise<void> {
    this.#require(id);
    const live = this.#live.get(id);
    if (live) return act(live);
    return this.#turn(id, async () => {
      const entry = this.#require(id);
      const detail = await this.#detail(entry);
      if (!detail) throw new DisallowedAccess(`cannot ${action} flow "${id}" yet: its start is still being written; try again`);
      if (detail.state === "REVERTED" || detail.state === "FAILURE") this.#refuseEnded(id, detail, action);
      await act(await this.#engine(entry));
    });
  }

  /** Builds the flow of an entry, checks its inputs, and writes it: the entry and the alarm first. */
  async #create(entry: FlowEntry): Promise<Engine> {
    let engine: Engine;
    try {
      engine = this.flows.load(entry.flow, entry.args, { ...this.#engineOptions(), backend: this.backend, store: entry.store, book: { name: entry.id } });
    } catch (e) {
      throw new InvalidFormat(`cannot build flow "${entry.flow}" from args ${JSON.stringify(entry.args)}: ${(e as Error).message}`, { cause: e });
    }
    await engine.prepare();
    engine.validate(); // a missing input is refused now, not found by the alarm later
    this.observe(engine, entry.id);
    // Read again, not written from `entry`: a suspend may have changed it during the awaits above.
    if (this.#entries.get(entry.id)) this.#update(entry.id, { flowDetailId: engine.flowDetailId }, true);
    else this.#entries.put({ ...entry, flowDetailId: engine.flowDetailId }, true);
    this.#engines.set(entry.id, Promise.resolve(engine));
    await this.#alarms.reschedule(); // write-ahead: if the object dies before the next line, the alarm writes it
    await engine.save(); // the log book and the flow detail, PENDING (atoms are written as they start)
    return engine;
  }

  #engine(entry: FlowEntry): Promise<Engine> {
    let engine = this.#engines.get(entry.id);
    if (!engine) {
      engine = this.flows.loadFromDetail(this.backend, entry.flowDetailId as string, this.#engineOptions()).then((e) => {
        this.observe(e, entry.id);
        return e;
      });
      this.#engines.set(entry.id, engine);
      const loading = engine;
      void loading.catch(() => {
        if (this.#engines.get(entry.id) === loading) this.#engines.delete(entry.id); // the next call tries again
      });
    }
    return engine;
  }

  #engineOptions(): Omit<EngineOptions, "backend" | "flowDetailId" | "factory"> {
    const { resumeDelayMs: _delay, tokenSecret: _secret, ...engine } = this.options;
    return { ...engine, maxWaitMs: 0 }; // never wait in-process: the alarm serves timers
  }

  /** In the flow's turn: runs it if it has work to do now. Never throws: a flow that cannot run is marked. */
  async #runIfDue(id: string): Promise<void> {
    const entry = this.#entries.get(id);
    if (!entry) return;
    try {
      const snap = await this.#snapshot(entry);
      const now = this.#now();
      const due = dueAt(entry, snap, now);
      if (due === undefined || due > now) {
        if (snap?.isFinal && !entry.runNow) this.#update(id, {}, false);
        return;
      }
      const engine = snap ? await this.#engine(entry) : await this.#create(entry);
      this.#update(id, { runNow: false });
      await this.#runLive(id, engine, (e) => e.run());
    } catch (e) {
      // Running it again would fail the same way (a definition changed incompatibly, a value
      // too large to store): stop, say why in its status, and wait for `resume`.
      this.#engines.delete(id);
      this.#update(id, { error: `${(e as Error).name}: ${(e as Error).message}` });
      console.error(`FlowRunner: flow "${id}" stopped; fix the cause, then resume it:`, e);
    }
  }

  /** Runs `how` on the flow's engine as its live run; a flow that ends REVERTED or FAILURE is not an error here. */
  async #runLive(id: string, engine: Engine, how: (engine: Engine) => Promise<void>): Promise<void> {
    this.#live.set(id, engine);
    try {
      await how(engine);
    } catch (e) {
      // A flow that ended REVERTED or FAILURE rejects its run: that is its end, not an error. A
      // failed write is one even then (the engine ended in memory, not in storage); a task's own
      // StorageFailure is not: ask the storage, not the error's class.
      if (!ended(engine) || engine.storage.broken) throw e;
    } finally {
      this.#live.delete(id);
    }
    if (ended(engine)) {
      this.#update(id, {}, false);
      this.#engines.delete(id);
    }
  }
}

function ended(engine: Engine): boolean {
  try {
    return isFinalFlowState(engine.storage.flowState);
  } catch {
    return false; // not even prepared
  }
}
