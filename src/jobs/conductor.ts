import type { Duration } from "../duration.js";
import { ConductorFailure, DependencyFailure, ExecutionFailure, JobFailure, LockLost, MultipleChoices, NotFound, StorageFailure } from "../errors.js";
import { Engine, type EngineOptions } from "../engine/engine.js";
import type { FlowRegistry } from "../engine/helpers.js";
import type { FlowItem } from "../patterns/flow.js";
import { BackendWrapper } from "../persistence/wrappers.js";
import type { Backend, ClaimedFlow } from "../ports/backend.js";
import type { AtomDetail, FlowDetail, LogBook, WriteBatch } from "../persistence/models.js";
import { type Clock, systemClock } from "../ports/clock.js";
import type { Lease, LockService } from "../ports/lock.js";
import type { FlowState } from "../states.js";
import type { JobBoard } from "./board.js";
import type { ClaimUpdate, Job, JobClaim } from "./job.js";
import { leaseOf } from "./memory.js";

/**
 * What a conductor tells its listeners, by type (TaskFlow's conductor events, and the claim's):
 * a job claimed, each stage of its dispatch starting and ending, its lease renewed, and how it
 * ended: consumed, abandoned, trashed, or lost (the claim ran out or another conductor took it
 * over: this conductor stopped working on it and wrote nothing more). `error`: the board failed
 * outside any job (the conductor goes on).
 * @example conductor.on("consumed", ({ job, state }) => console.log(`${job.name}: ${state}`))
 */
export interface ConductorEvents {
  claimed: { job: Job; claim: JobClaim };
  stage: { job: Job; stage: "compilation" | "preparation" | "validation" | "running"; phase: "start" | "end" };
  renewed: { job: Job; claim: JobClaim };
  consumed: { job: Job; state: FlowState; error?: unknown };
  abandoned: { job: Job; reason: string; error?: unknown };
  trashed: { job: Job; error: unknown };
  lost: { job: Job; error: unknown };
  error: { error: unknown };
}

/**
 * Options of a {@link Conductor}.
 * @example new Conductor({ name: "worker-1", board, backend, flows, leaseMs: 30_000, maxJobs: 4 })
 */
export interface ConductorOptions {
  /** The conductor's name: the owner of its claims (unique among the conductors of a board). */
  name: string;
  board: JobBoard;
  /** Where the jobs' log books live. */
  backend: Backend;
  /** The flow factories that jobs name. */
  flows: FlowRegistry;
  /** Where the conductor reads the time and waits between renewals (tests: `ManualClock`). */
  clock?: Clock;
  /** Each claim's lease (ms, default 30 s), renewed every third of it while the job runs. */
  leaseMs?: Duration;
  /** Jobs run at once (default 1: TaskFlow's blocking conductor). */
  maxJobs?: number;
  /** Options for each job's engine (its kind, concurrency, listeners' error handler…). */
  engine?: Omit<EngineOptions, "backend" | "flowDetailId" | "store" | "factory" | "lock" | "clock" | "book" | "ids">;
  /** Called with each job's engine before it runs (to listen to its events). */
  onEngine?: (engine: Engine, job: Job) => void;
}

/**
 * Options of {@link Conductor.run}.
 * @example await conductor.run({ maxDispatches: 10 })
 */
export interface ConductorRunOptions {
  /** Stop claiming after this many dispatches, and end once they have ended (TaskFlow's `max_dispatches`). */
  maxDispatches?: number;
}

type Outcome =
  | { kind: "consume"; state: FlowState; error?: unknown }
  | { kind: "abandon"; reason: string; error?: unknown }
  | { kind: "trash"; error: unknown }
  | { kind: "lost"; error: unknown };

/** The flow's state as the engine last knew it (PENDING before it loaded one). */
function stateOf(engine: Engine): FlowState {
  try {
    return engine.storage.flowDetail.state;
  } catch {
    return "PENDING";
  }
}

/**
 * The backend as one job's run sees it: a claim of the job's flow returns the epoch the conductor
 * took under the job's claim, and every batch goes out fenced with it (even a write the engine
 * makes without its lock, such as `save()`).
 */
class JobFencedBackend extends BackendWrapper {
  override readonly claim: ((flowUuid: string) => Promise<number>) | undefined;
  readonly #fence: { flowUuid: string; epoch: number } | undefined;
  /** What the claim's transaction read (`claimFlows`): the engine's first load of each, not read again. */
  readonly #loaded: Partial<ClaimedFlow>;
  constructor(inner: Backend, flowUuid: string, epoch: number | undefined, loaded: Partial<ClaimedFlow> = {}) {
    super(inner);
    this.#fence = epoch === undefined ? undefined : { flowUuid, epoch };
    this.claim = epoch === undefined ? undefined : async (uuid) => (uuid === flowUuid ? epoch : (inner.claim as (u: string) => Promise<number>)(uuid));
    this.#loaded = { ...loaded };
  }
  override commit(batch: WriteBatch): Promise<void> {
    return super.commit(batch.fence || !this.#fence ? batch : { ...batch, fence: this.#fence });
  }
  /** The record read with the claim, once; the backend's afterwards (a reload reads what is stored now). */
  #once<K extends "flow" | "book" | "atoms">(key: K, uuid: string, read: () => Promise<ClaimedFlow[K]>): Promise<ClaimedFlow[K]> {
    const held = this.#loaded[key];
    if (held === undefined || uuid !== (key === "atoms" ? this.#fence?.flowUuid : (held as FlowDetail | LogBook).uuid)) return read();
    delete this.#loaded[key];
    return Promise.resolve(held as ClaimedFlow[K]);
  }
  override getFlowDetail(uuid: string): Promise<FlowDetail> {
    return this.#once("flow", uuid, () => super.getFlowDetail(uuid));
  }
  override getLogBook(uuid: string): Promise<LogBook> {
    return this.#once("book", uuid, () => super.getLogBook(uuid));
  }
  override getAtomDetails(flowUuid: string): Promise<AtomDetail[]> {
    return this.#once("atoms", flowUuid, () => super.getAtomDetails(flowUuid));
  }
}

/**
 * Calls made while the previous one is under way go together in the next one (as the IndexedDB
 * backend's group commit does with batches): a conductor running many jobs makes one board call
 * for the renewals and settlements of a moment, and one backend call for its flows' claims.
 * `send` answers each item in order (a promise for one rejects that item alone); when it throws,
 * every item of its call fails with it.
 */
class Batcher<I, O> {
  #waiting: Array<{ item: I; resolve: (out: O | Promise<O>) => void; reject: (error: unknown) => void }> = [];
  #busy = false;
  constructor(private readonly send: (items: I[]) => Promise<Array<O | Promise<O>>>) {}
  add(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.#waiting.push({ item, resolve, reject });
      if (!this.#busy) void this.#drain();
    });
  }
  async #drain(): Promise<void> {
    this.#busy = true;
    try {
      await Promise.resolve(); // the calls of this moment's other jobs join the first
      while (this.#waiting.length > 0) {
        const group = this.#waiting.splice(0);
        try {
          const out = await this.send(group.map((w) => w.item));
          group.forEach((w, i) => w.resolve(out[i] as O | Promise<O>));
        } catch (error) {
          for (const w of group) w.reject(error);
        }
      }
    } finally {
      this.#busy = false;
    }
  }
}

/**
 * Claims jobs from a board and runs their flows (TaskFlow's conductor): it waits for jobs, claims
 * one (up to `maxJobs` at once), renews its lease while the flow runs, and then, as TaskFlow does,
 * **consumes** it when the flow ended SUCCESS or with an ordinary failure (REVERTED, FAILURE,
 * missing dependencies), **abandons** it (for another run) when the engine ended SUSPENDED or
 * failed to execute or to store, and **trashes** it when its dispatch failed (an unknown flow name,
 * arguments the factory refuses, a log book with several flow details, an incompatible definition).
 *
 * Fencing: right after the claim, the conductor takes the flow's next fencing token
 * (`backend.claim`), checks it still holds the job, and every write of that run carries the
 * token. A conductor that stops renewing (a killed tab, an evicted isolate) loses the claim when
 * its lease runs out; the next conductor's token then shuts it out: whatever it writes if it
 * wakes up is refused with `LockLost`, and its own claim is refused by the board.
 *
 * The flow detail: the job's `flowUuid`, else the only flow detail of its log book, else a new
 * one (made on the first dispatch). Its store: the flow detail's stored store overlaid with the
 * job's.
 * @example
 * const conductor = new Conductor({ name: "c1", board, backend, flows });
 * conductor.on("consumed", ({ job }) => console.log("done", job.name));
 * const running = conductor.run();
 * // later
 * await conductor.stop(); // suspends the running flows, abandons their jobs
 */
export class Conductor {
  readonly name: string;
  readonly #options: ConductorOptions;
  readonly #clock: Clock;
  readonly #leaseMs: number;
  readonly #maxJobs: number;
  readonly #listeners = new Map<keyof ConductorEvents, Set<(event: never) => void>>();
  readonly #engines = new Set<Engine>();
  /** Renewals and settlements of this conductor's jobs: those of one moment in one board call. */
  readonly #updates: Batcher<ClaimUpdate, JobClaim | undefined>;
  /** Claims of the jobs' flows: those of one moment in one backend transaction. */
  readonly #flowClaims: Batcher<string, Partial<ClaimedFlow>>;
  #stopper: AbortController | undefined;
  #running: Promise<void> | undefined;

  constructor(options: ConductorOptions) {
    if (typeof options.name !== "string" || options.name.trim() === "") throw new ConductorFailure(`a conductor needs a name (the owner of its claims), got ${JSON.stringify(options.name)}`);
    this.name = options.name;
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
    this.#leaseMs = leaseOf(options.leaseMs ?? 30_000);
    const maxJobs = options.maxJobs ?? 1;
    if (!Number.isInteger(maxJobs) || maxJobs < 1) throw new ConductorFailure(`maxJobs must be an integer ≥ 1, got ${String(maxJobs)}`);
    this.#maxJobs = maxJobs;
    this.#updates = new Batcher((updates) => options.board.updateMany(updates, { leaseMs: this.#leaseMs }));
    const { backend } = options;
    this.#flowClaims = new Batcher<string, Partial<ClaimedFlow>>(async (uuids) => {
      if (!backend.claimFlows) {
        return uuids.map(async (uuid) => {
          const epoch = await backend.claim?.(uuid);
          return epoch === undefined ? {} : { epoch };
        });
      }
      const one = (uuid: string) => (backend.claimFlows as (u: string[]) => Promise<ClaimedFlow[]>)([uuid]).then(([c]) => c as ClaimedFlow);
      // A group refused as a whole (one flow deleted meanwhile): each again alone, so that the refusal is its flow's own.
      return uuids.length === 1 ? [one(uuids[0] as string)] : backend.claimFlows(uuids).catch(() => uuids.map(one));
    });
  }

  /** Subscribes to one kind of event; returns the function that unsubscribes. */
  on<K extends keyof ConductorEvents>(type: K, listener: (event: ConductorEvents[K]) => void): () => void {
    const set = this.#listeners.get(type) ?? new Set();
    this.#listeners.set(type, set);
    set.add(listener as (event: never) => void);
    return () => set.delete(listener as (event: never) => void);
  }

  /** Whether {@link run} is under way. */
  get dispatching(): boolean {
    return this.#running !== undefined;
  }

  /**
   * Claims and runs jobs until {@link stop} (or `maxDispatches` dispatches have ended).
   * @throws ConductorFailure when this conductor is running already
   */
  run(options: ConductorRunOptions = {}): Promise<void> {
    if (this.#running) return Promise.reject(new ConductorFailure(`conductor "${this.name}" is running already; stop it first`));
    const stopper = (this.#stopper = new AbortController());
    this.#running = this.#loop(stopper.signal, options.maxDispatches ?? Infinity).finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  /**
   * Stops claiming, suspends the flows running (their running tasks finish, nothing new starts),
   * abandons their jobs for another conductor, and resolves when {@link run} has ended.
   */
  async stop(): Promise<void> {
    this.#stopper?.abort();
    for (const engine of this.#engines) engine.suspend();
    await this.#running;
  }

  async #loop(stop: AbortSignal, maxDispatches: number): Promise<void> {
    const active = new Set<Promise<void>>();
    const stopped = new Promise<void>((resolve) => stop.addEventListener("abort", () => resolve(), { once: true }));
    let dispatched = 0;
    while (!stop.aborted && dispatched < maxDispatches) {
      if (active.size >= this.#maxJobs) {
        await Promise.race([...active, stopped]);
        continue;
      }
      let jobs: Job[];
      try {
        jobs = await this.#options.board.wait({ signal: stop });
      } catch (error) {
        this.#emit("error", { error });
        break; // a board that cannot wait (closed, unreachable) ends the run
      }
      // The jobs there is room for, claimed in one call (one transaction on the board).
      const room = Math.min(this.#maxJobs - active.size, maxDispatches - dispatched);
      if (stop.aborted || room <= 0 || jobs.length === 0) continue;
      let claims: JobClaim[];
      try {
        claims = await this.#options.board.claimMany(jobs.slice(0, room).map((j) => j.uuid), this.name, { leaseMs: this.#leaseMs });
      } catch (error) {
        this.#emit("error", { error });
        continue;
      }
      for (const claim of claims) {
        const job = jobs.find((j) => j.uuid === claim.jobUuid) as Job;
        dispatched++;
        const running: Promise<void> = this.#dispatch({ ...job, state: "CLAIMED", owner: claim.owner, expiresAt: claim.expiresAt, claims: claim.token }, claim).finally(() => active.delete(running));
        active.add(running);
      }
    }
    await Promise.all(active);
  }

  /** Runs one claimed job, renewing its lease meanwhile, and settles it on the board. */
  async #dispatch(job: Job, first: JobClaim): Promise<void> {
    this.#emit("claimed", { job, claim: first });
    let claim = first;
    const lost = new AbortController();
    const done = new AbortController();
    const renewing = (async () => {
      while (!done.signal.aborted && !lost.signal.aborted) {
        await this.#clock.sleep(this.#leaseMs / 3, done.signal);
        if (done.signal.aborted) return;
        try {
          claim = await this.#renew(claim);
          this.#emit("renewed", { job, claim });
        } catch (error) {
          lost.abort(error instanceof LockLost ? error : new LockLost(`job "${job.uuid}": its claim could not be renewed: ${String((error as Error)?.message ?? error)}`, { cause: error }));
        }
      }
    })();
    let outcome: Outcome;
    try {
      outcome = await this.#execute(job, () => claim, (c) => (claim = c), lost.signal);
    } catch (error) {
      outcome = { kind: "abandon", reason: "the conductor failed", error };
    } finally {
      done.abort();
      await renewing;
    }
    if (lost.signal.aborted && outcome.kind !== "lost") outcome = { kind: "lost", error: lost.signal.reason };
    await this.#settle(job, claim, outcome);
  }

  async #settle(job: Job, claim: JobClaim, outcome: Outcome): Promise<void> {
    if (outcome.kind === "lost") return this.#emit("lost", { job, error: outcome.error });
    try {
      if (!(await this.#updates.add({ claim, action: outcome.kind }))) {
        // The claim went while the job was settling (ran out, taken over): the next holder settles it.
        return this.#emit("lost", { job, error: new LockLost(`cannot ${outcome.kind} job "${job.uuid}": the claim of "${claim.owner}" (token ${claim.token}) no longer holds it; nothing changed`) });
      }
      if (outcome.kind === "consume") this.#emit("consumed", { job, state: outcome.state, ...(outcome.error === undefined ? {} : { error: outcome.error }) });
      else if (outcome.kind === "abandon") this.#emit("abandoned", { job, reason: outcome.reason, ...(outcome.error === undefined ? {} : { error: outcome.error }) });
      else this.#emit("trashed", { job, error: outcome.error });
    } catch (error) {
      this.#emit("error", { error });
    }
  }

  /** Renews a claim with the renewals and settlements of the conductor's other jobs (one board call). @throws LockLost when it no longer holds its job */
  async #renew(claim: JobClaim): Promise<JobClaim> {
    const renewed = await this.#updates.add({ claim, action: "renew" });
    if (!renewed) throw new LockLost(`job "${claim.jobUuid}": the claim of "${claim.owner}" (token ${claim.token}) ran out or was followed by another; stop working on it`);
    return renewed;
  }

  /** Builds, fences and runs the job's flow; says what to do with the job. */
  async #execute(job: Job, claim: () => JobClaim, renewed: (claim: JobClaim) => void, lost: AbortSignal): Promise<Outcome> {
    const { backend, flows } = this.#options;
    const factory = { name: job.flow, args: job.args };
    let flow: FlowItem;
    try {
      flow = flows.get(job.flow)(...job.args);
    } catch (error) {
      return { kind: "trash", error };
    }
    let where: { flowUuid: string; stored: boolean; book: boolean };
    try {
      where = await this.#locate(job);
    } catch (error) {
      return error instanceof MultipleChoices ? { kind: "trash", error } : { kind: "abandon", reason: "its log book could not be read", error };
    }
    const common = { ...this.#options.engine, clock: this.#clock, store: job.store, factory };
    // The engine's lock is the job's claim: lost when a renewal is refused.
    const lease: Lease = { name: `taskflow:job:${job.uuid}`, signal: lost, release: async () => {} };
    const lock: LockService = {
      acquire: async () => {
        if (lost.aborted) throw lost.reason;
        return lease;
      },
    };
    if (!where.stored) {
      // The first dispatch makes the flow detail, so that the claim below raises a stored token.
      // It is written fenced with the claim's token: a holder whose claim ran out before it got
      // here (a later claim has a greater token) cannot overwrite what the next one made.
      const ids = where.book ? [where.flowUuid] : [job.bookUuid, where.flowUuid];
      const maker = new Engine(flow, {
        ...common, backend: new JobFencedBackend(backend, where.flowUuid, claim().token), lock,
        ids: () => ids.shift() ?? where.flowUuid, book: where.book ? { uuid: job.bookUuid } : { name: job.name },
      });
      try {
        await maker.save();
      } catch (error) {
        if (error instanceof LockLost) return { kind: "lost", error };
        return error instanceof StorageFailure ? { kind: "abandon", reason: "its flow detail could not be stored", error } : { kind: "trash", error };
      }
    }
    let loaded: Partial<ClaimedFlow>;
    try {
      // With the other jobs starting now: one transaction raises every token and reads what
      // each engine loads (when the backend can: `claimFlows`).
      loaded = await this.#flowClaims.add(where.flowUuid);
      // Still ours after the token was raised? A holder whose lease ran out before it raised the
      // token stops here, before it writes anything.
      renewed(await this.#renew(claim()));
    } catch (error) {
      if (error instanceof LockLost || error instanceof JobFailure || error instanceof NotFound) return { kind: "lost", error };
      return { kind: "abandon", reason: "its flow could not be claimed", error };
    }
    const engine = new Engine(flow, { ...common, backend: new JobFencedBackend(backend, where.flowUuid, loaded.epoch, loaded), flowDetailId: where.flowUuid, lock });
    this.#options.onEngine?.(engine, job);
    const stages: Array<[ConductorEvents["stage"]["stage"], () => unknown]> = [
      ["compilation", () => engine.compile()],
      ["preparation", () => engine.prepare()],
      ["validation", () => engine.validate()],
    ];
    for (const [stage, act] of stages) {
      this.#emit("stage", { job, stage, phase: "start" });
      try {
        await act();
      } catch (error) {
        if (error instanceof DependencyFailure) return { kind: "consume", state: stateOf(engine), error };
        if (error instanceof StorageFailure) return { kind: "abandon", reason: `its flow failed at ${stage}`, error };
        return { kind: "trash", error };
      }
      this.#emit("stage", { job, stage, phase: "end" });
    }
    if (this.#stopper?.signal.aborted) return { kind: "abandon", reason: "the conductor stopped" };
    this.#emit("stage", { job, stage: "running", phase: "start" });
    this.#engines.add(engine);
    let failure: unknown;
    try {
      const running = engine.run();
      if (this.#stopper?.signal.aborted) engine.suspend();
      await running;
    } catch (error) {
      failure = error ?? new ExecutionFailure("the run failed without an error");
    } finally {
      this.#engines.delete(engine);
    }
    this.#emit("stage", { job, stage: "running", phase: "end" });
    if (lost.aborted || failure instanceof LockLost) return { kind: "lost", error: lost.aborted ? lost.reason : failure };
    const state = stateOf(engine);
    if (failure === undefined) {
      if (state === "SUCCESS") return { kind: "consume", state };
      return { kind: "abandon", reason: this.#stopper?.signal.aborted ? "the conductor stopped" : `its flow ended ${state}` };
    }
    // TaskFlow's rule: an ordinary failure is the job's result (consumed); a failure to execute
    // or to store is the host's (abandoned, for another try). A failure to store comes first: the
    // engine's state is then what it reached in memory (REVERTED, say), and what is stored may be
    // behind it (the crash harness over a conductor's jobs found a job consumed with its flow
    // stored RUNNING, so never finished).
    if (failure instanceof StorageFailure) return { kind: "abandon", reason: `its flow ended ${state}`, error: failure };
    if (state === "REVERTED" || state === "FAILURE" || failure instanceof DependencyFailure) return { kind: "consume", state, error: failure };
    if (failure instanceof ExecutionFailure || failure instanceof StorageFailure) return { kind: "abandon", reason: `its flow ended ${state}`, error: failure };
    return { kind: "consume", state, error: failure };
  }

  /** The flow detail a job runs: its own, else its book's only one, else a new one (the job's id). */
  async #locate(job: Job): Promise<{ flowUuid: string; stored: boolean; book: boolean }> {
    const { backend } = this.#options;
    const details = await backend.getFlowDetails(job.bookUuid).catch((e: unknown) => {
      if (e instanceof NotFound) return undefined;
      throw e;
    });
    if (details === undefined) return { flowUuid: job.flowUuid ?? job.uuid, stored: false, book: false };
    if (job.flowUuid !== undefined) return { flowUuid: job.flowUuid, stored: details.some((d) => d.uuid === job.flowUuid), book: true };
    if (details.length > 1) {
      throw new MultipleChoices(`job "${job.uuid}": its log book "${job.bookUuid}" holds ${details.length} flow details (${details.map((d) => d.uuid).join(", ")}); post the job with the flowUuid to run`);
    }
    return { flowUuid: details[0]?.uuid ?? job.uuid, stored: details.length === 1, book: true };
  }

  #emit<K extends keyof ConductorEvents>(type: K, event: ConductorEvents[K]): void {
    for (const listener of this.#listeners.get(type) ?? []) {
      try {
        (listener as (event: ConductorEvents[K]) => void)(event);
      } catch {
        // A listener never stops the conductor.
      }
    }
  }
}

/**
 * TaskFlow's blocking conductor: one job at a time.
 * @example await new BlockingConductor({ name: "c1", board, backend, flows }).run({ maxDispatches: 1 })
 */
export class BlockingConductor extends Conductor {
  constructor(options: Omit<ConductorOptions, "maxJobs">) {
    super({ ...options, maxJobs: 1 });
  }
}

/**
 * TaskFlow's non-blocking conductor: up to `maxJobs` jobs at once (default 8).
 * @example const conductor = new NonBlockingConductor({ name: "c1", board, backend, flows, maxJobs: 4 })
 */
export class NonBlockingConductor extends Conductor {
  constructor(options: ConductorOptions) {
    super({ ...options, maxJobs: options.maxJobs ?? 8 });
  }
}
