import { Cancelled, ExecutionFailure, IncompatibleVersion, LockLost, MissingDependencies, NotFound } from "../errors.js";
import { incompatibilities } from "./incompatibilities.js";
import type { EngineEvents, Listener } from "../notify/notifier.js";
import { Notifier } from "../notify/notifier.js";
import type { FlowItem } from "../patterns/flow.js";
import { MemoryBackend } from "../persistence/memory.js";
import { SCHEMA_VERSION, type AtomDetail, type FactoryRef, type FlowDetail, type LogBook } from "../persistence/models.js";
import type { Backend } from "../ports/backend.js";
import type { Lease, LockService } from "../ports/lock.js";
import { type Clock, systemClock } from "../ports/clock.js";
import { defaultIds, type IdGenerator } from "../ports/ids.js";
import type { FlowState, RunnerState } from "../states.js";
import { checkStorable } from "../storage/storable.js";
import { Storage, type FlowStorage, type StoredValues } from "../storage/storage.js";
import { compile, type ExecutionGraph, type FlowGraph } from "./compiler.js";
import { fingerprint, flowsOf } from "./fingerprint.js";
import { topologicalOrder } from "./gates.js";
import { nextWakeup } from "../snapshot/rules.js";
import { Journal } from "./journal.js";
import { reconcile } from "./reconcile.js";
import { Run } from "./run.js";
import type { Executor } from "./actions/delegate.js";
import type { Loaded, RunOptions } from "./runner.js";
import { Writer } from "./writer.js";

/**
 * How to run a flow and where to keep its log book.
 * @example load(flow, { backend, engine: "parallel", maxConcurrency: 8, store: { userId: "u1" }, maxWaitMs: 60_000 })
 */
export interface EngineOptions {
  /** Where the log book lives; a fresh {@link MemoryBackend} by default. */
  backend?: Backend;
  /** `"serial"` (default) runs one atom at a time; `"parallel"` runs ready atoms concurrently. */
  engine?: "serial" | "parallel";
  /** Most atoms running at once on the parallel engine (default 64), whatever runs them. */
  maxConcurrency?: number;
  /**
   * Where tasks execute and revert: by default here, in this process; an {@link Executor}
   * (a pool of Web Workers, `taskflow-ts/worker`) runs every task's execute and revert by the
   * task's name instead, and the log book records which worker ran each attempt.
   */
  executor?: Executor;
  /**
   * Values injected persistently at the flow level (stored in the flow detail). Given when
   * resuming, they are injected on top of the stored ones, as TaskFlow's `load` does.
   */
  store?: Record<string, unknown>;
  /** The log book to add the flow detail to: its uuid, or a new one's name. */
  book?: { uuid: string } | { name: string };
  /** Resume this stored flow detail instead of starting a new one. */
  flowDetailId?: string;
  /** Do not revert on failure: the flow ends FAILURE with its atoms as they are. */
  neverResolve?: boolean;
  /** A retry that decides REVERT always defers to the enclosing retry (TaskFlow's `defer_reverts`). */
  deferReverts?: boolean;
  /**
   * Longest wait for a timer (a sleep, a retry's backoff) that a run does in-process; a longer
   * one ends the run SUSPENDED with the wake-up time stored, for the host to run it again then.
   * Default: no limit. A Durable Object host sets 0 and arms an alarm instead.
   */
  maxWaitMs?: number;
  /** Where time comes from and how the engine waits (tests: `ManualClock`). */
  clock?: Clock;
  /** A number in [0, 1), for backoff jitter. Default `Math.random`. */
  random?: () => number;
  /** Whether the host has the network at the start (see `engine.setOnline`). Default true. */
  online?: boolean;
  /** Makes the ids of new log books and flow details; {@link defaultIds} by default. */
  ids?: IdGenerator;
  /** Names this engine in the audit trail (`runner` of each transition), e.g. a conductor's name; random by default. */
  runnerId?: string;
  /**
   * Keeps runners of one flow apart: a run (and a change made while no run is under way) holds
   * the flow's lock, and every write carries its fencing token, so two tabs, workers or
   * isolates never execute the same step. Default: the backend's own (`backend.locks`: one
   * process for {@link MemoryBackend}); `false` runs without a lock.
   */
  lock?: LockService | false;
  /** When another runner holds the flow: wait for it (default), or fail at once with `LockHeld`. */
  waitForLock?: boolean;
  /** Receives errors thrown by listeners (they never stop the engine). */
  onListenerError?: (error: unknown) => void;
  /** @internal set by the factory registry */
  factory?: FactoryRef;
}

/** What the engine's free functions reach: set by the class itself, not exported from the package. */
export interface EngineInternals {
  /** Makes a change under the flow's lock and stores it; then the flow goes on (`run`: an idle engine runs). */
  change(engine: Engine<any, any>, change: (journal: Journal, graph: ExecutionGraph, running: boolean) => unknown, run: boolean): Promise<void>;
  /** The loaded flow detail's journal and the compiled graph (loading it first). */
  read(engine: Engine<any, any>): Promise<{ journal: Journal; graph: ExecutionGraph }>;
  /** Runs the loop, handing each runner state to `hook`. */
  drive(engine: Engine<any, any>, hook: (state: RunnerState) => Promise<void>): Promise<void>;
}

/** Assigned once, by Engine's static block. */
export let internals: EngineInternals;

/**
 * Counters of the last run.
 * @example await engine.run(); console.log(`${engine.statistics.executed} executed in ${engine.statistics.commits} commits`)
 */
export interface EngineStatistics {
  commits: number;
  executed: number;
  reverted: number;
  discardedFailures: number;
}

/**
 * Runs one flow against one flow detail of a log book, through TaskFlow's runner state machine,
 * writing every transition ahead of acting on it. Build it with {@link load}.
 *
 * Tasks run **at least once**: a task that was RUNNING when its host went away runs again on
 * resume. Tasks that reached SUCCESS never run again; their stored results are reused.
 *
 * `Provides` and `Results` type what {@link Engine.storage} reads: {@link load} takes them from
 * the flow (and its `store`).
 *
 * @example
 * const engine = load(flow, { backend, store: { guest: "ada" } });
 * await engine.run();
 * engine.storage.fetch("receipt");
 */
export class Engine<Provides extends object = {}, Results extends object = {}> {
  declare readonly flow: FlowItem;
  declare readonly backend: Backend;
  readonly statistics: EngineStatistics = { commits: 0, executed: 0, reverted: 0, discardedFailures: 0 };
  /**
   * This engine instance's id, unique across tabs, workers and objects: the audit trail names it
   * as the `runner` of every transition it commits. Random unless {@link EngineOptions.runnerId} names it.
   */
  declare readonly runnerId: string;
  readonly #notifier: Notifier;
  /** Where this engine reads the time (and how it waits). */
  declare readonly clock: Clock;
  readonly #ids: IdGenerator;
  readonly #maxConcurrency: number;
  #compiled: ExecutionGraph | undefined;
  #topo: number[] = [];
  /** The flow detail as loaded: its journal (the one mutator), writer and reader. */
  #loaded: Loaded | undefined;
  #preparing: Promise<void> | undefined;
  /** The run under way, from the moment it is asked for. */
  #run: Run | undefined;
  #runPromise: Promise<void> | undefined;
  #isOnline: boolean;
  /** Injections asked for before the flow detail was loaded: applied when it is. */
  readonly #early: Array<(storage: Storage) => void> = [];

  readonly #options: EngineOptions;
  readonly #runOptions: RunOptions;

  static {
    // The engine's free functions (provide, revise, waitingFor, runIter) reach in here: as
    // functions, an app that does not call them does not bundle them.
    internals = {
      change: async (engine, change, run) => {
        await engine.#exclusive(() => change(engine.#prepared().journal, engine.#graph(), engine.#run !== undefined));
        // After a stored change: a running engine looks again (a run still starting reads the
        // change when it builds its queues), an idle one runs when asked to.
        if (engine.#run) engine.#run.refresh();
        else if (run) await engine.run();
      },
      read: async (engine) => {
        await engine.prepare();
        return { journal: engine.#prepared().journal, graph: engine.#graph() };
      },
      drive: (engine, hook) => engine.#drive(hook),
    };
  }

  constructor(flow: FlowItem, options: EngineOptions = {}) {
    this.#options = options;
    this.flow = flow;
    this.backend = options.backend ?? new MemoryBackend();
    this.clock = options.clock ?? systemClock;
    this.#ids = options.ids ?? defaultIds;
    this.runnerId = options.runnerId ?? defaultIds();
    this.#maxConcurrency = options.engine === "parallel" ? Math.max(1, options.maxConcurrency ?? 64) : 1;
    this.#notifier = new Notifier(options.onListenerError);
    this.#isOnline = options.online ?? true;
    this.#runOptions = {
      clock: this.clock,
      statistics: this.statistics,
      maxConcurrency: this.#maxConcurrency,
      maxWaitMs: options.maxWaitMs ?? Infinity,
      neverResolve: options.neverResolve ?? false,
      deferReverts: options.deferReverts ?? false,
      random: options.random ?? Math.random,
      executor: options.executor,
      online: () => this.#isOnline,
    };
  }

  /** Subscribes to flow transitions, atom transitions or progress; returns the unsubscribe function. */
  on<K extends keyof EngineEvents>(type: K, listener: Listener<EngineEvents[K]>): () => void {
    return this.#notifier.on(type, listener);
  }

  /**
   * The flow compiled into its execution graph (compiled once, on first use), for drawing it.
   * @example toMermaid(engine.compile())
   */
  compile(): FlowGraph {
    return this.#graph();
  }

  #graph(): ExecutionGraph {
    if (!this.#compiled) {
      this.#compiled = compile(this.flow);
      this.#topo = topologicalOrder(this.#compiled.nodes);
    }
    return this.#compiled;
  }

  /**
   * What the flow detail holds, read-only: values, states, results, failures. Available once
   * {@link prepare} (or a run) has loaded the flow detail.
   */
  get storage(): FlowStorage<Provides, Results> {
    // The same reader, typed by the flow: its values are what the flow's atoms provide.
    return this.#prepared().storage as StoredValues as FlowStorage<Provides, Results>;
  }

  /**
   * Injects values at the flow level. Persistent ones (the default) are stored in the flow
   * detail with the next write and survive a resume; transient ones live only in this engine.
   * Injected values win over what atoms provide, as in TaskFlow. Before the flow detail is
   * loaded, they are kept and injected when it is.
   * @example const engine = load(flow, { backend }); engine.inject({ coupon: "SPRING" }); await engine.run();
   */
  inject(values: Record<string, unknown>, options: { transient?: boolean } = {}): void {
    this.#inject((s) => s.inject(values, options));
  }

  /**
   * Injects argument values for one atom, by argument name (they win over the store and over
   * what other atoms provide). Before the flow detail is loaded, they are kept until it is.
   * @throws NotFound for a name that is not an atom of this flow
   * @example engine.injectAtomArgs("charge", { currency: "EUR" }); await engine.run();
   */
  injectAtomArgs(atom: string, values: Record<string, unknown>, options: { transient?: boolean } = {}): void {
    if (!this.#graph().atoms.has(atom)) throw new NotFound(`flow "${this.flow.name}" has no atom named "${atom}"`);
    this.#inject((s) => s.injectAtomArgs(atom, values, options));
  }

  #inject(apply: (storage: Storage) => void): void {
    if (this.#loaded) apply(this.#loaded.storage);
    else this.#early.push(apply);
  }

  #prepared(): Loaded {
    if (!this.#loaded) throw new ExecutionFailure("the engine is not prepared yet: await engine.prepare() or engine.run() first");
    return this.#loaded;
  }

  /**
   * The flow's state as this engine holds it (PENDING, RUNNING, SUSPENDED, SUCCESS, REVERTED, …):
   * `engine.storage.flowState`, one step closer. Available once {@link prepare} (or a run) has
   * loaded the flow detail.
   * @throws ExecutionFailure before that
   * @example await engine.run().catch(() => {}); if (engine.state === "REVERTED") showUndone();
   */
  get state(): FlowState {
    return this.storage.flowState;
  }

  /** The id of the flow detail this engine runs (to resume it later). */
  get flowDetailId(): string {
    return this.storage.flowDetail.uuid;
  }

  /**
   * Loads (or creates) the log book and flow detail, matches stored atoms to the definition by
   * name and refuses an incompatible definition. Idempotent.
   * @throws IncompatibleVersion listing every difference
   */
  async prepare(): Promise<void> {
    if (this.#loaded && !this.#loaded.writer.broken) return;
    return this.#reload();
  }

  /** Loads the flow detail from the backend, even if this engine holds it already. */
  #reload(): Promise<void> {
    // Callers at once (a run and a cancel) share one load: two would make two storages.
    this.#preparing ??= this.#load().finally(() => (this.#preparing = undefined));
    return this.#preparing;
  }

  async #load(): Promise<void> {
    const graph = this.#graph();
    const now = this.clock.now();
    const current = fingerprint(graph);
    const flows = flowsOf(graph);
    // Reloading after a failed write: the flow detail this engine stored, if it got that far;
    // if not, the same ids again (the write may have landed all the same, as after a timeout).
    const previous = this.#loaded;
    const id = this.#options.flowDetailId ?? (previous?.writer.stored ? previous.journal.flowDetail.uuid : undefined);
    let book: LogBook;
    let flow: FlowDetail;
    let stored: AtomDetail[] = [];
    let newBook = false;
    if (id !== undefined) {
      flow = await this.backend.getFlowDetail(id);
      book = await this.backend.getLogBook(flow.bookUuid);
      stored = await this.backend.getAtomDetails(id);
      const differences = incompatibilities(flow, current, flows);
      if (differences.length > 0) {
        throw new IncompatibleVersion(
          `flow detail "${id}" was run by an incompatible definition of "${flow.name}"; resume it with the definition it ran, or start a new flow detail:\n  - ${differences.join("\n  - ")}`,
          differences,
        );
      }
    } else {
      const ref = this.#options.book;
      if (ref && "uuid" in ref) book = await this.backend.getLogBook(ref.uuid);
      else {
        book = previous?.journal.book ?? { schemaVersion: SCHEMA_VERSION, uuid: this.#ids(), name: ref?.name ?? this.flow.name, createdAt: now, updatedAt: now, meta: {} };
        newBook = true;
      }
      flow = {
        schemaVersion: SCHEMA_VERSION,
        uuid: previous?.journal.flowDetail.uuid ?? this.#ids(),
        bookUuid: book.uuid,
        name: this.flow.name,
        state: "PENDING",
        createdAt: now,
        updatedAt: now,
        fingerprint: current,
        flows,
        store: { ...checkStorable(this.#options.store ?? {}, "store", "the store") },
        factory: this.#options.factory,
        meta: {},
      };
    }
    // An atom's detail is written on its first change, not here: the fingerprint lists every
    // atom already, and a fan-out of n atoms would otherwise pay n more puts before it starts.
    const reconciled = reconcile(graph, flow, stored, now);
    const journal = new Journal(book, flow, graph.atoms, reconciled.details, reconciled.interrupted, this.clock, this.#notifier, this.runnerId);
    const writer = new Writer(this.backend, journal, this.clock, id !== undefined ? flow : undefined, this.statistics);
    const storage = new Storage(journal, writer, graph);
    if (previous) storage.keepTransient(previous.storage); // values injected in memory only survive a reload
    else if (id !== undefined && this.#options.store) storage.inject(this.#options.store); // TaskFlow's load(flow, store, flow_detail)
    for (const apply of this.#early.splice(0)) apply(storage);
    if (newBook) journal.queueBook();
    if (id === undefined) journal.queueFlow();
    // A compatible change (atoms added, a minor version bumped) becomes the stored definition; so
    // do the flows of a detail stored before they were compared, and the whole fingerprint of a
    // detail a host created without one: a later incompatible resume is refused.
    else if (JSON.stringify([flow.fingerprint, flow.flows]) !== JSON.stringify([current, flows])) journal.updateFlow({ fingerprint: current, flows });
    this.#loaded = { graph, topo: this.#topo, journal, writer, storage };
  }

  /**
   * Writes the flow to its log book without running it: the log book, the flow detail and what
   * changed since the last write. Keep `flowDetailId` (in a URL, localStorage) after this, not
   * before: a reload then always finds the flow, even one that never ran.
   */
  async save(): Promise<void> {
    await this.prepare();
    await this.#commit();
  }

  /**
   * Checks that every atom can find its required arguments (from the store or an earlier atom).
   * @throws MissingDependencies listing each atom and name
   */
  validate(): void {
    const { storage } = this.#prepared();
    const missing: Array<{ atom: string; symbol: string }> = [];
    for (const n of this.#graph().atoms.values()) {
      for (const spec of n.args) {
        const { arg } = spec;
        if (spec.optional || Object.hasOwn(n.atom.inject, arg) || storage.hasAtomArg(n.name, arg)) continue;
        if (spec.providers.length === 0 && !storage.isInjected(spec.symbol)) missing.push({ atom: n.name, symbol: spec.symbol });
      }
    }
    if (missing.length > 0) {
      const lines = missing.map((m) => `atom "${m.atom}" requires "${m.symbol}"`);
      throw new MissingDependencies(
        `flow "${this.flow.name}": nothing provides what these atoms require; add a task that provides it or pass it in the store:\n  - ${lines.join("\n  - ")}`,
        missing,
      );
    }
  }

  /**
   * Asks the engine to stop: running atoms finish, nothing new starts, and the run ends
   * SUSPENDED. A later run (on this engine or a new one on the same flow detail) resumes.
   */
  suspend(): void {
    this.#run?.suspend();
  }

  /**
   * Cancels the flow: nothing new starts, running tasks are aborted through their `signal`, and
   * everything that ran is reverted in reverse order; the flow ends REVERTED. Resolves when the
   * revert is done (on a flow that is not running, it runs the revert). Rejects only if a revert
   * fails (with that failure).
   */
  async cancel(reason = "cancelled"): Promise<void> {
    const cancelled = { reason, at: this.clock.now() };
    const settle = (p: Promise<void>) => p.catch((e: unknown) => {
      if (!(e instanceof Cancelled)) throw e;
    });
    if (this.#run && this.#runPromise) {
      // A run still starting keeps the request, and its runner stores it before its first step.
      if (this.#run.starting) this.#run.cancel(cancelled);
      else {
        this.#prepared().journal.updateFlow({ cancelled });
        this.#run.cancel(cancelled);
        // Stored now, not at the runner's next step: a task that ignores its signal may run for
        // long, and a host that dies meanwhile must find the flow cancelled.
        await this.#commit();
      }
      return settle(this.#runPromise);
    }
    await this.#exclusive(() => {
      const { journal } = this.#prepared();
      journal.updateFlow({ cancelled });
      for (const d of journal.atomDetails()) journal.intend(d.name, "REVERT");
    });
    return settle(this.run());
  }

  /**
   * Tells the engine whether the host has the network (a page: `navigator.onLine` and the
   * `online`/`offline` events). Tasks marked `needsNetwork` wait while offline, and their failures
   * while offline do not spend retry attempts.
   */
  setOnline(online: boolean): void {
    this.#isOnline = online;
    if (online) this.#run?.poke();
  }

  /**
   * When the flow next has something to do (ms since the epoch), if it waits on a timer: a sleep,
   * a retry's backoff, or a wait's deadline. Hosts arm a timer or an alarm for it; resuming
   * earlier waits the rest. A time already past means it is due: run the flow now.
   */
  nextWakeup(): number | undefined {
    return nextWakeup(this.storage.flowState, this.storage.atomDetails());
  }


  /** Puts every atom back to PENDING so that the next run starts over (TaskFlow's `reset`). */
  async reset(): Promise<void> {
    await this.#exclusive(() => {
      const { journal } = this.#prepared();
      for (const n of this.#graph().atoms.values()) journal.startOver(n, true);
      journal.updateFlow({ cancelled: undefined }); // the only way out of a cancel
      journal.moveFlow("PENDING", true);
    });
  }

  /**
   * Runs the flow until nothing can progress. Resolves when it ends SUCCESS or SUSPENDED;
   * rejects with the stored failure (one: the original error class; several:
   * `WrappedFailure`) when it ends REVERTED or FAILURE.
   */
  async run(): Promise<void> {
    await this.#drive(undefined);
  }

  /** Runs the loop, handing each runner state to `hook` when there is one (runIter). */
  #drive(hook: ((state: RunnerState) => Promise<void>) | undefined): Promise<void> {
    if (this.#run) return Promise.reject(new ExecutionFailure(`flow "${this.flow.name}" is already running on this engine`));
    const run = (this.#run = new Run(this.#runOptions));
    this.#runPromise = (async () => {
      let lease: Lease | undefined;
      try {
        lease = await this.#hold();
        const { signal } = lease ?? {};
        // The lock lost mid-run: nothing more is written, running actions are told, and the run
        // stops at its next step with LockLost.
        signal?.addEventListener("abort", () => {
          const lost = new LockLost(`flow "${this.flow.name}" (${this.flowDetailId}) lost its lock: ${String((signal.reason as Error)?.message ?? signal.reason)}`);
          this.#loaded?.writer.lose(lost);
          run.end(lost);
          run.poke();
        }, { once: true });
        this.validate();
        Object.assign(this.statistics, { commits: 0, executed: 0, reverted: 0, discardedFailures: 0 });
        await run.start(this.#prepared(), hook);
      } catch (e) {
        // Whatever is still running belongs to a run that is over: tell it through its signal.
        run.end(e);
        throw e;
      } finally {
        this.#run = undefined;
        await lease?.release();
      }
    })();
    return this.#runPromise;
  }

  /**
   * Takes the flow's lock, if runs take one, and loads the flow detail under it: again when this
   * engine loaded it before holding the lock (another runner may have run it since), unless
   * changes made here are still to be written. The writer then fences every batch.
   * @throws LockHeld when another runner holds it and `waitForLock` is false
   */
  async #hold(): Promise<Lease | undefined> {
    const service = this.#options.lock === false ? undefined : (this.#options.lock ?? this.backend.locks);
    if (!service) {
      await this.prepare();
      return undefined;
    }
    const known = this.#options.flowDetailId ?? (this.#loaded?.writer.stored ? this.#loaded.journal.flowDetail.uuid : undefined);
    if (known === undefined) await this.prepare(); // a new flow detail: the load makes its id
    const id = known ?? this.flowDetailId;
    const lease = await service.acquire(`taskflow:flow:${id}`, { wait: this.#options.waitForLock ?? true });
    try {
      // Claimed before it is read: whatever an older holder writes after this read is refused.
      const epoch = await this.backend.claim?.(id);
      if (known !== undefined && this.#loaded && this.#loaded.journal.pending === 0) await this.#reload();
      else await this.prepare();
      if (epoch !== undefined) this.#prepared().writer.fence(epoch);
    } catch (e) {
      await lease.release();
      throw e;
    }
    return lease;
  }

  /**
   * Makes a change and stores it under the flow's lock: a running engine holds it already; an
   * idle one takes it for the change (and loads the flow again first, see {@link #hold}).
   */
  async #exclusive(change: () => unknown): Promise<void> {
    let lease: Lease | undefined;
    if (this.#run) await this.prepare(); // the run holds the lock already
    else lease = await this.#hold();
    try {
      await change();
      await this.#commit();
    } finally {
      await lease?.release();
    }
  }

  async #commit(): Promise<void> {
    await this.#prepared().writer.commit();
  }
}
