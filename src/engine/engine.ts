import type { Atom } from "../atoms/atom.js";
import type { RevertContext, Task, TaskContext } from "../atoms/task.js";
import { ExecutionFailure, IncompatibleVersion, InvalidFormat, MissingDependencies, StorageFailure } from "../errors.js";
import { Failure } from "../failure.js";
import type { EngineEvents, Listener } from "../notify/notifier.js";
import { Notifier } from "../notify/notifier.js";
import type { FlowItem } from "../patterns/flow.js";
import { MemoryBackend } from "../persistence/memory.js";
import type { AtomDetail, FactoryRef, FlowDetail, LogBook } from "../persistence/models.js";
import type { Backend } from "../ports/backend.js";
import { type Clock, systemClock } from "../ports/clock.js";
import { defaultIds, type IdGenerator } from "../ports/ids.js";
import { checkAtomTransition, checkFlowTransition, type AtomState, type FlowState, type RunnerState } from "../states.js";
import { findUnstorable } from "../storage/storable.js";
import { Storage } from "../storage/storage.js";
import { compile, type ExecNode, type ExecutionGraph } from "./compiler.js";
import { ignoredRegion } from "./deciders.js";
import { fingerprint, incompatibilities } from "./fingerprint.js";
import { Gates, topologicalOrder } from "./gates.js";
import { ReadyQueue } from "./ready-queue.js";

/** How to run a flow and where to keep its log book. */
export interface EngineOptions {
  /** Where the log book lives; a fresh {@link MemoryBackend} by default. */
  backend?: Backend;
  /** `"serial"` (default) runs one atom at a time; `"parallel"` runs ready atoms concurrently. */
  engine?: "serial" | "parallel";
  /** Most atoms running at once on the parallel engine (default 64). */
  maxConcurrency?: number;
  /** Values injected persistently at the flow level (stored in the flow detail). */
  store?: Record<string, unknown>;
  /** The log book to add the flow detail to: its uuid, or a new one's name. */
  book?: { uuid: string } | { name: string };
  /** Resume this stored flow detail instead of starting a new one. */
  flowDetailId?: string;
  /** Do not revert on failure: the flow ends FAILURE with its atoms as they are. */
  neverResolve?: boolean;
  clock?: Clock;
  ids?: IdGenerator;
  /** Receives errors thrown by listeners (they never stop the engine). */
  onListenerError?: (error: unknown) => void;
  /** @internal set by the factory registry */
  factory?: FactoryRef;
}

/** Counters of the last run. */
export interface EngineStatistics {
  commits: number;
  executed: number;
  reverted: number;
  discardedFailures: number;
}

type Outcome = { node: ExecNode; mode: "execute" | "revert"; ok: true; value: unknown } | { node: ExecNode; mode: "execute" | "revert"; ok: false; failure: Failure };

const FORWARD_DONE = new Set<AtomState>(["SUCCESS", "IGNORE"]);
/** Going back, atoms that never ran pass the order through rather than ending it. */
const NEVER_RAN = new Set<AtomState>(["PENDING", "IGNORE"]);

/**
 * Runs one flow against one flow detail of a log book, through TaskFlow's runner state machine,
 * writing every transition ahead of acting on it. Build it with {@link load}.
 *
 * Tasks run **at least once**: a task that was RUNNING when its host went away runs again on
 * resume. Tasks that reached SUCCESS never run again; their stored results are reused.
 */
export class Engine {
  readonly flow: FlowItem;
  readonly backend: Backend;
  readonly statistics: EngineStatistics = { commits: 0, executed: 0, reverted: 0, discardedFailures: 0 };
  private readonly notifier: Notifier;
  private readonly clock: Clock;
  private readonly ids: IdGenerator;
  private readonly maxConcurrency: number;
  private graph: ExecutionGraph | undefined;
  private topo: number[] = [];
  private store: Storage | undefined;
  private running = false;
  private needsReload = false;
  /** Atoms found RUNNING or REVERTING in the log book at load: their host went away mid-action. */
  private stale = new Set<string>();
  /** Running actions, so that a run that ends early can abort them. */
  private runningActions = new Set<ActionSignal>();

  constructor(flow: FlowItem, private readonly options: EngineOptions = {}) {
    this.flow = flow;
    this.backend = options.backend ?? new MemoryBackend();
    this.clock = options.clock ?? systemClock;
    this.ids = options.ids ?? defaultIds;
    this.maxConcurrency = options.engine === "parallel" ? Math.max(1, options.maxConcurrency ?? 64) : 1;
    this.notifier = new Notifier(options.onListenerError);
  }

  /** Subscribes to flow transitions, atom transitions or progress; returns the unsubscribe function. */
  on<K extends keyof EngineEvents>(type: K, listener: Listener<EngineEvents[K]>): () => void {
    return this.notifier.on(type, listener);
  }

  /** The compiled execution graph (compiled on first use). */
  compile(): ExecutionGraph {
    if (!this.graph) {
      this.graph = compile(this.flow);
      this.topo = topologicalOrder(this.graph.nodes);
    }
    return this.graph;
  }

  /** The storage facade; available once {@link prepare} (or a run) has loaded the flow detail. */
  get storage(): Storage {
    if (!this.store) throw new ExecutionFailure("the engine is not prepared yet: await engine.prepare() or engine.run() first");
    return this.store;
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
    if (this.store && !this.needsReload) return;
    const graph = this.compile();
    const now = this.clock.now();
    const current = fingerprint(graph);
    const id = this.options.flowDetailId;
    let book: LogBook;
    let flow: FlowDetail;
    const stored = new Map<string, AtomDetail>();
    let newBook = false;
    if (id !== undefined) {
      flow = await this.backend.getFlowDetail(id);
      book = await this.backend.getLogBook(flow.bookUuid);
      for (const d of await this.backend.getAtomDetails(id)) stored.set(d.name, d);
      const differences = incompatibilities(flow.meta.fingerprint ?? [], current);
      if (differences.length > 0) {
        throw new IncompatibleVersion(
          `flow detail "${id}" was run by an incompatible definition of "${flow.name}"; resume it with the definition it ran, or start a new flow detail:\n  - ${differences.join("\n  - ")}`,
          differences,
        );
      }
    } else {
      const ref = this.options.book;
      if (ref && "uuid" in ref) book = await this.backend.getLogBook(ref.uuid);
      else {
        book = { schemaVersion: 1, uuid: this.ids(), name: ref?.name ?? this.flow.name, createdAt: now, updatedAt: now, meta: {} };
        newBook = true;
      }
      flow = {
        schemaVersion: 1,
        uuid: this.ids(),
        bookUuid: book.uuid,
        name: this.flow.name,
        state: "PENDING",
        createdAt: now,
        updatedAt: now,
        meta: { fingerprint: current, store: { ...(this.options.store ?? {}) }, factory: this.options.factory },
      };
    }
    const created: AtomDetail[] = [];
    const details = [...graph.atoms.values()].map((n) => {
      const old = stored.get(n.name);
      if (old) return old;
      const atom = n.atom as Atom<any>;
      const d: AtomDetail = {
        schemaVersion: 1, uuid: this.ids(), flowUuid: flow.uuid, name: n.name, kind: atom.kind, state: "PENDING",
        intention: "EXECUTE", version: atom.version, meta: {}, updatedAt: now,
      };
      created.push(d);
      return d;
    });
    const store = new Storage(this.backend, graph, book, flow, details, this.clock);
    if (newBook) store.queueBook();
    if (id === undefined) store.setFlow({});
    store.queueAtoms(created);
    if (id !== undefined && flow.meta.fingerprint && created.length > 0) store.setFlow({ meta: { ...flow.meta, fingerprint: current } });
    this.stale = new Set(details.filter((d) => d.state === "RUNNING" || d.state === "REVERTING").map((d) => d.name));
    this.store = store;
    this.needsReload = false;
  }

  /**
   * Checks that every atom can find its required arguments (from the store or an earlier atom).
   * @throws MissingDependencies listing each atom and name
   */
  validate(): void {
    const storage = this.storage;
    const missing: Array<{ atom: string; symbol: string }> = [];
    for (const n of this.compile().atoms.values()) {
      const atom = n.atom as Atom<any>;
      for (const [arg, spec] of n.args) {
        if (spec.optional || arg in atom.inject || storage.detail(n.name).meta.injected?.[arg] !== undefined) continue;
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
    if (this.store && this.running) this.setFlowState("SUSPENDING");
  }

  /** Puts every atom back to PENDING so that the next run starts over (TaskFlow's `reset`). */
  async reset(): Promise<void> {
    await this.prepare();
    const storage = this.storage;
    for (const d of storage.atomDetails()) {
      if (d.state !== "PENDING" || d.intention !== "EXECUTE") {
        const generation = d.state === "PENDING" ? d.meta.generation : (d.meta.generation ?? 0) + 1;
        storage.setAtom(d.name, { state: "PENDING", intention: "EXECUTE", result: undefined, failure: undefined, revertResult: undefined, revertFailure: undefined, meta: { ...d.meta, generation } });
      }
    }
    this.stale.clear();
    this.setFlowState("PENDING", true);
    await this.commit();
  }

  /**
   * Runs the flow until nothing can progress. Resolves when it ends SUCCESS or SUSPENDED;
   * rejects with the stored failure (one: the original error class; several:
   * `WrappedFailure`) when it ends REVERTED or FAILURE.
   */
  async run(): Promise<void> {
    await this.drive(undefined);
  }

  /**
   * Runs the flow, yielding each state of the runner state machine as it enters it; the runner
   * waits for the consumer before going on. Leaving the loop early suspends the engine (as
   * TaskFlow does when its `run_iter` generator is closed) and waits for running atoms to end.
   */
  async *runIter(): AsyncGenerator<RunnerState, void, undefined> {
    const states: RunnerState[] = [];
    let wakeConsumer: (() => void) | undefined;
    let wakeRunner: (() => void) | undefined;
    let detached = false;
    let end: { error?: unknown } | undefined;
    const driving = this.drive(async (state) => {
      if (detached) return;
      states.push(state);
      wakeConsumer?.();
      await new Promise<void>((resolve) => (wakeRunner = resolve));
    }).then(
      () => void (end = {}),
      (error: unknown) => void (end = { error }),
    ).finally(() => wakeConsumer?.());
    try {
      for (;;) {
        if (states.length === 0 && !end) await new Promise<void>((resolve) => (wakeConsumer = resolve));
        wakeConsumer = undefined;
        const state = states.shift();
        if (state !== undefined) {
          yield state;
          const resume = wakeRunner;
          wakeRunner = undefined;
          resume?.();
        } else if (end) {
          if ("error" in end) throw end.error;
          return;
        }
      }
    } finally {
      if (!end) {
        detached = true;
        this.suspend();
        wakeRunner?.();
        await driving;
      }
    }
  }

  /** Runs the loop, handing each runner state to `hook` when there is one (runIter). */
  private async drive(hook: ((state: RunnerState) => Promise<void>) | undefined): Promise<void> {
    if (this.running) throw new ExecutionFailure(`flow "${this.flow.name}" is already running on this engine`);
    this.running = true;
    try {
      await this.runLoop(hook);
    } catch (e) {
      // Whatever is still running belongs to a run that is over: tell it through its signal.
      for (const a of this.runningActions) a.abort(e);
      throw e;
    } finally {
      this.running = false;
    }
  }

  // --- the runner ---------------------------------------------------------------------------

  /** Actions of the current run; a new run gets a new one, so a late answer to a run that
   * ended (its host's storage failed) cannot leak into the next. */
  private actions: { inflight: number; completed: Outcome[]; wake: (() => void) | undefined } = { inflight: 0, completed: [], wake: undefined };
  private failures: Failure[] = [];
  private forward!: Gates;
  private backward: Gates | undefined;
  private ready = new ReadyQueue();

  private async runLoop(hook: ((state: RunnerState) => Promise<void>) | undefined): Promise<void> {
    await this.prepare();
    this.validate();
    const storage = this.storage;
    const graph = this.compile();
    if (storage.flowState === "REVERTED") this.resetReverted();
    if (storage.flowState === "RUNNING" || storage.flowState === "SUSPENDING") {
      // The host went away mid-run: report it as TaskFlow does before running again.
      this.setFlowState("RESUMING");
      this.setFlowState("SUSPENDED");
    }
    this.setFlowState("RUNNING");
    this.failures = [];
    this.actions = { inflight: 0, completed: [], wake: undefined };
    const actions = this.actions;
    if (hook) await hook("RESUMING");
    this.forward = new Gates(graph.nodes, "forward", this.topo);
    this.backward = undefined;
    this.ready = new ReadyQueue();
    this.forward.init((n) => FORWARD_DONE.has(storage.getAtomState(n.name)), (n) => this.openForward(n));
    for (const d of storage.atomDetails()) {
      if (d.state === "FAILURE" && d.intention === "EXECUTE") this.resolve(d.name, storage.getFailure(d.name) as Failure);
    }
    if (!this.backward && storage.atomDetails().some((d) => d.intention === "REVERT")) this.startReverting();

    let next: "SCHEDULING" | "WAITING" = "SCHEDULING";
    for (;;) {
      if (next === "SCHEDULING") {
        if (hook) await hook("SCHEDULING");
        await this.schedule();
      }
      if (hook) await hook("WAITING");
      if (actions.completed.length === 0 && actions.inflight > 0) {
        await this.commit(); // group commit: results that arrived while nothing new could start
        if (actions.completed.length === 0) await new Promise<void>((resolve) => (actions.wake = resolve));
      }
      if (hook) await hook("ANALYZING");
      this.analyze();
      const canSchedule = storage.flowState === "RUNNING" && this.failures.length === 0 && this.ready.size > 0;
      if (canSchedule) next = "SCHEDULING";
      else if (actions.inflight > 0) next = "WAITING";
      else break;
    }
    const end = this.gameOver();
    this.setFlowState(end);
    await this.commit();
    if (hook) await hook(end);
    if (end === "FAILURE") Failure.reraiseIfAny(this.failures);
    if (end === "REVERTED") Failure.reraiseIfAny([...Object.values(storage.executeFailures()), ...Object.values(storage.revertFailures())]);
  }

  private gameOver(): "SUCCESS" | "FAILURE" | "REVERTED" | "SUSPENDED" {
    if (this.failures.length > 0) return "FAILURE";
    if (this.ready.size > 0) return "SUSPENDED";
    const details = this.storage.atomDetails();
    if (details.every((d) => FORWARD_DONE.has(d.state))) return "SUCCESS";
    if (!this.backward) return "SUSPENDED";
    return "REVERTED";
  }

  /** Starts ready atoms up to the concurrency limit, after committing that they are running. */
  private async schedule(): Promise<void> {
    const storage = this.storage;
    const started: Array<{ node: ExecNode; mode: "execute" | "revert" }> = [];
    while (this.actions.inflight + started.length < this.maxConcurrency && this.ready.size > 0 && storage.flowState === "RUNNING" && this.failures.length === 0) {
      const node = this.ready.pop() as ExecNode;
      const d = storage.detail(node.name);
      if (this.backward && !this.isStaleRun(node)) {
        if (!this.isRevertReady(node)) continue;
        this.setAtomState(node, "REVERTING");
        started.push({ node, mode: "revert" });
      } else {
        if (!this.isExecuteReady(node)) continue;
        this.setAtomState(node, "RUNNING", { meta: { ...d.meta, attempts: (d.meta.attempts ?? 0) + 1 } });
        started.push({ node, mode: "execute" });
      }
    }
    await this.commit(); // write-ahead: RUNNING/REVERTING is stored before the action starts
    for (const s of started) this.launch(s.node, s.mode);
  }

  /** An execute cut short by a crash runs again, even when the flow has since turned to reverting. */
  private isStaleRun(n: ExecNode): boolean {
    return this.stale.has(n.name) && this.storage.detail(n.name).state === "RUNNING";
  }

  private isExecuteReady(n: ExecNode): boolean {
    const d = this.storage.detail(n.name);
    return (d.intention === "EXECUTE" && d.state === "PENDING") || this.isStaleRun(n);
  }

  private isRevertReady(n: ExecNode): boolean {
    const d = this.storage.detail(n.name);
    if (d.intention !== "REVERT" && d.intention !== "RETRY") return false;
    return d.state === "SUCCESS" || d.state === "FAILURE" || (d.state === "REVERTING" && this.stale.has(n.name));
  }

  private launch(node: ExecNode, mode: "execute" | "revert"): void {
    const actions = this.actions;
    actions.inflight++;
    this.stale.delete(node.name);
    const signal = new ActionSignal();
    this.runningActions.add(signal);
    const finish = (outcome: Outcome) => {
      this.runningActions.delete(signal);
      actions.inflight--;
      actions.completed.push(outcome);
      const wake = actions.wake;
      actions.wake = undefined;
      wake?.();
    };
    // The action runs in its own promise so that a throw, sync or async, becomes a Failure.
    Promise.resolve()
      .then(() => (mode === "execute" ? this.execute(node, signal) : this.revert(node, signal)))
      .then(
        (value) => finish({ node, mode, ok: true, value }),
        (error: unknown) => finish({ node, mode, ok: false, failure: Failure.fromError(error) }),
      );
  }

  private context(node: ExecNode, signal: ActionSignal): TaskContext {
    const d = this.storage.detail(node.name);
    const attempt = d.meta.attempts ?? 1;
    return {
      name: node.name,
      get signal() {
        return signal.get();
      },
      attempt,
      idempotencyKey: `${this.storage.flowDetail.uuid}:${node.name}:${d.meta.generation ?? 0}`,
      updateProgress: (fraction, details) => this.progress(node.name, fraction, details),
    };
  }

  private async execute(node: ExecNode, signal: ActionSignal): Promise<unknown> {
    const task = node.atom as Task<any>;
    const args = this.storage.fetchArgs(node);
    this.reportProgress(node.name, 0);
    const result = await task.execute(args, this.context(node, signal));
    const bad = findUnstorable(result);
    if (bad !== undefined) {
      throw new InvalidFormat(`task "${node.name}" returned a value the log book cannot store: ${bad}; return plain, structured-cloneable data`);
    }
    return result;
  }

  private async revert(node: ExecNode, signal: ActionSignal): Promise<unknown> {
    const task = node.atom as Task<any>;
    const storage = this.storage;
    if (!task.revert) return undefined;
    const args = storage.fetchArgs(node);
    const d = storage.detail(node.name);
    const context: RevertContext = {
      ...this.context(node, signal),
      result: d.failure ? storage.getFailure(node.name) : d.result,
      flowFailures: storage.executeFailures(),
    };
    this.reportProgress(node.name, 0);
    const result = await task.revert(args, context);
    const bad = findUnstorable(result, "revert result");
    if (bad !== undefined) throw new InvalidFormat(`task "${node.name}" revert returned a value the log book cannot store: ${bad}`);
    return result;
  }

  /** Records finished actions and works out what they unblock. */
  private analyze(): void {
    const storage = this.storage;
    for (const o of this.actions.completed.splice(0)) {
      const { node } = o;
      if (o.mode === "execute") {
        this.statistics.executed++;
        if (o.ok) {
          this.setAtomState(node, "SUCCESS", { result: o.value, failure: undefined });
          this.reportProgress(node.name, 1);
          if (storage.detail(node.name).intention === "EXECUTE") this.forward.markDone(node, (n) => this.openForward(n));
          else if (this.backward) this.openBackward(node);
        } else {
          this.setAtomState(node, "FAILURE", { failure: storage.rememberFailure(o.failure), result: undefined });
          this.resolve(node.name, o.failure);
        }
      } else {
        this.statistics.reverted++;
        if (o.ok) {
          this.setAtomState(node, "REVERTED", { revertResult: o.value, revertFailure: undefined });
          this.reportProgress(node.name, 1);
          this.backward?.markDone(node, (n) => this.openBackward(n));
        } else {
          this.setAtomState(node, "REVERT_FAILURE", { revertFailure: storage.rememberFailure(o.failure) });
          this.failures.push(o.failure);
        }
      }
    }
  }

  /**
   * Decides what to do about a failed atom. With no retry controller (they come with retries)
   * every atom is reverted (TaskFlow's REVERT_ALL), unless the engine never resolves failures.
   */
  private resolve(name: string, failure: Failure): void {
    if (this.options.neverResolve) {
      this.failures.push(failure);
      return;
    }
    const storage = this.storage;
    for (const d of storage.atomDetails()) if (d.intention !== "REVERT") storage.setAtom(d.name, { intention: "REVERT" });
    void name;
    this.startReverting();
  }

  private startReverting(): void {
    const storage = this.storage;
    this.ready = new ReadyQueue(true);
    this.backward = new Gates(this.compile().nodes, "backward", this.topo, (n) => !n.atom || NEVER_RAN.has(storage.getAtomState(n.name)));
    this.backward.init((n) => storage.getAtomState(n.name) === "REVERTED", (n) => this.openBackward(n));
    for (const name of this.stale) {
      const n = this.compile().atoms.get(name) as ExecNode;
      if (this.isStaleRun(n)) this.ready.push(n);
    }
  }

  private openForward(n: ExecNode): void {
    if (!n.atom) {
      this.applyDeciders(n);
      return;
    }
    if (!this.isExecuteReady(n)) return;
    if (this.applyDeciders(n)) return;
    this.ready.push(n);
  }

  private openBackward(n: ExecNode): void {
    if (n.atom && this.backward?.isOpen(n) && this.isRevertReady(n)) this.ready.push(n);
  }

  /** Evaluates the deciders on links into `n`; on a "no", skips its region. Returns whether `n` was skipped. */
  private applyDeciders(n: ExecNode): boolean {
    if (n.deciders.length === 0) return false;
    const graph = this.compile();
    const storage = this.storage;
    let widest: ExecNode[] | undefined;
    for (const { from, decider, depth } of n.deciders) {
      const source = graph.nodes[from] as ExecNode;
      const sources = source.atom ? [source] : [...graph.atoms.values()].filter((a) => a.path.includes(source.scope.flow));
      const history: Record<string, unknown> = {};
      for (const s of sources) {
        const d = storage.detail(s.name);
        if (d.state === "SUCCESS") history[s.name] = d.result;
      }
      if (Object.keys(history).length === 0 && sources.length > 0) continue;
      if (!decider(history)) {
        const region = ignoredRegion(graph, n, depth);
        if (!widest || region.length > widest.length) widest = region;
      }
    }
    if (!widest) return false;
    for (const a of widest) {
      if (storage.getAtomState(a.name) !== "PENDING") continue;
      this.setAtomState(a, "IGNORE", { intention: "IGNORE" });
      this.forward.markDone(a, (m) => this.openForward(m));
    }
    return widest.includes(n) || !n.atom;
  }

  private resetReverted(): void {
    const storage = this.storage;
    for (const d of storage.atomDetails()) {
      if (d.state === "REVERTED" || d.state === "IGNORE") {
        this.setAtomState(this.compile().atoms.get(d.name) as ExecNode, "PENDING", { intention: "EXECUTE", result: undefined, failure: undefined });
      } else if (d.intention !== "EXECUTE") storage.setAtom(d.name, { intention: "EXECUTE" });
    }
    this.setFlowState("PENDING");
  }

  // --- state changes ------------------------------------------------------------------------

  private setAtomState(node: ExecNode, state: AtomState, patch: Partial<AtomDetail> = {}): void {
    const storage = this.storage;
    const old = storage.detail(node.name);
    const kind = (node.atom as Atom<any>).kind;
    if (old.state !== state || !this.stale.has(node.name)) checkAtomTransition(kind, node.name, old.state, state);
    const now = this.clock.now();
    const timestamps = { ...old.meta.timestamps };
    timestamps[state] = now;
    const meta = { ...(patch.meta ?? old.meta), timestamps };
    if (state === "PENDING" && old.state !== "PENDING") meta.generation = (meta.generation ?? 0) + 1;
    // The engine's own progress reports (0 when an action starts, 1 when it ends) ride with the
    // transition instead of costing a record update of their own.
    if (state === "SUCCESS" || state === "REVERTED") meta.progress = 1;
    else if ((state === "RUNNING" || state === "REVERTING") && meta.progress !== undefined) meta.progress = 0;
    const d = storage.setAtom(node.name, { ...patch, state, meta });
    if (this.notifier.has("atom")) {
      const failure = state === "FAILURE" ? storage.getFailure(node.name) : state === "REVERT_FAILURE" ? storage.getRevertFailure(node.name) : undefined;
      this.notifier.emit("atom", {
        type: "atom", name: node.name, kind, flowUuid: storage.flowDetail.uuid, state, oldState: old.state, intention: d.intention,
        ...(state === "SUCCESS" ? { result: d.result } : state === "REVERTED" ? { result: d.revertResult } : {}),
        failure,
      });
    }
  }

  private setFlowState(state: FlowState, force = false): void {
    const storage = this.storage;
    const old = storage.flowState;
    if (!force && !checkFlowTransition(old, state)) return;
    if (force && old === state) return;
    storage.setFlow({ state });
    this.notifier.emit("flow", { type: "flow", flowName: storage.flowDetail.name, flowUuid: storage.flowDetail.uuid, state, oldState: old });
  }

  /** A task's own report: stored in its meta (with the next commit) and sent to listeners. */
  private progress(name: string, fraction: number, details?: unknown): void {
    const p = Math.min(1, Math.max(0, Number.isFinite(fraction) ? fraction : 0));
    this.storage.setAtomMeta(name, details === undefined ? { progress: p } : { progress: p, progressDetails: { atProgress: p, details } });
    this.reportProgress(name, p, details);
  }

  private reportProgress(name: string, progress: number, details?: unknown): void {
    if (this.notifier.has("progress")) {
      this.notifier.emit("progress", { type: "progress", name, flowUuid: this.storage.flowDetail.uuid, progress, details });
    }
  }

  private async commit(): Promise<void> {
    const storage = this.storage;
    if (storage.pendingWrites === 0) return;
    try {
      await storage.commit();
    } catch (e) {
      this.needsReload = true;
      throw e instanceof StorageFailure ? e : new StorageFailure(`could not write the log book of flow "${this.flow.name}": ${(e as Error)?.message ?? String(e)}`, { cause: e });
    }
    this.statistics.commits++;
  }
}

/**
 * The abort signal of one action, created only when the task reads `ctx.signal`: most tasks
 * never do, and an AbortController per atom is a measurable share of a no-op atom's cost.
 */
class ActionSignal {
  private controller: AbortController | undefined;
  private reason: { value: unknown } | undefined;

  get(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.reason) this.controller.abort(this.reason.value);
    }
    return this.controller.signal;
  }

  abort(reason: unknown): void {
    this.reason ??= { value: reason };
    this.controller?.abort(reason);
  }
}
