import { NotFound } from "../errors.js";
import { Failure, type FailureData } from "../failure.js";
import type { HistoryEntry } from "../atoms/history.js";
import { providedValue } from "../snapshot/rules.js";
import type { Notifier } from "../notify/notifier.js";
import { extensible, setOwn } from "../persistence/clone.js";
import { EMPTY_LIST, EMPTY_OBJECT } from "../empty.js";
import { checkStorable } from "../storage/storable.js";
import type { AtomDetail, Fence, FlowDetail, LogBook, Transition, WorkerRun, WriteBatch } from "../persistence/models.js";
import type { Clock } from "../ports/clock.js";
import { checkAtomTransition, checkFlowTransition, type AtomState, type FlowState, type Intention } from "../states.js";
import type { AtomNode } from "./compiler.js";

/** The engine's own fields of an atom detail, which operations below change by name. */
type AtomFields = Pick<AtomDetail, "progress" | "progressDetails" | "injected" | "wakeAt" | "deadline" | "requeue" | "generation" | "attempts">;
/** The engine's own fields of a flow detail (everything but its identity, state and the user's meta). */
export type FlowFields = Pick<FlowDetail, "fingerprint" | "flows" | "factory" | "store" | "suspendedReason" | "wakeAt" | "inputs" | "waitingFor" | "cancelled">;

/** Keys set to `undefined` in a patch are removed: a record never carries them. */
function merged<T extends object>(base: T, patch: Partial<T> | undefined): T {
  // A record read back keeps keys it does not know, a "__proto__" one included: extensible() keeps it own.
  const out = extensible(base) as Record<string, unknown>;
  for (const k in patch) {
    const v = (patch as Record<string, unknown>)[k];
    if (v === undefined) delete out[k];
    else setOwn(out, k, v);
  }
  return out as T;
}

/**
 * Freezes an atom detail the journal holds, with its timestamps and meta (objects the engine
 * made or read, no caller's): records are replaced, never changed, so the memory backend keeps
 * one it is given instead of a copy at every commit (see keptClone), and a reader of the
 * journal's records cannot change them under the engine. Results and failures stay as they are.
 */
function sealed(d: AtomDetail): AtomDetail {
  Object.freeze(d.timestamps);
  // Most atoms never get meta: they share one empty object rather than keep one each (a record
  // already frozen, a backend's own, is kept as it is; one without meta gets the empty one).
  if (!Object.isFrozen(d) && isEmpty(d.meta)) d.meta = EMPTY_OBJECT;
  Object.freeze(d.meta);
  return Object.freeze(d);
}

function isEmpty(o: object): boolean {
  for (const _ in o) return false;
  return true;
}

/**
 * The one place where the records of a flow detail change. Each operation checks TaskFlow's
 * tables where a state moves, stamps the time, queues the new record for the next commit and
 * tells listeners. Records are replaced, never mutated, once queued, so a backend may read them
 * while the engine goes on. What is queued leaves through {@link take}, to the writer.
 */
export class Journal {
  /**
   * Each atom's record under its compiled node's index: the engine's hot path holds the node and
   * reads and writes here without a lookup by name (at 100,000 atoms each lookup in a table that
   * size is a cache miss). Names go through the graph's atoms, compile order.
   */
  readonly #details: AtomDetail[] = [];
  readonly #atoms: ReadonlyMap<string, AtomNode>;
  // What the next commit writes (TaskFlow's storage writes each change at once; this engine
  // batches them, write-ahead, see the writer): the log book and the flow detail if they changed,
  // each changed atom detail once, in its latest form, and every transition, in order (the audit
  // trail keeps them all, where a record keeps its latest). One engine writes one log book and
  // one flow detail: each is a slot.
  #queuedBook: LogBook | undefined;
  #queuedFlow: FlowDetail | undefined;
  readonly #queuedAtoms = new Map<string, AtomDetail>();
  // Kept and written over, its first `#entries` queued: a batch takes a copy as long as they are
  // (a list emptied and pushed to again allocates 17 slots).
  readonly #trail: Array<Transition | undefined> = [];
  #entries = 0;
  /** Live failures by their stored data, so an error is rethrown as the very object thrown. */
  readonly #failures = new WeakMap<object, Failure>();
  /** Atoms found RUNNING or REVERTING at load: their host went away mid-action. */
  readonly #interrupted: Set<string>;
  #flow: FlowDetail;
  /** The fencing token the writer writes under (set by `Writer.fence`), for the audit trail. */
  epoch: number | undefined;

  constructor(
    readonly book: LogBook,
    flow: FlowDetail,
    /** The compiled atoms, by name, in compile order. */
    atoms: ReadonlyMap<string, AtomNode>,
    /** Every atom's detail, in compile order (PENDING where nothing was stored). */
    details: readonly AtomDetail[],
    interrupted: Iterable<string>,
    private readonly clock: Clock,
    /** Its listeners (the writer tells them of each committed batch). */
    readonly notifier: Notifier,
    /** The engine's id, for the audit trail. */
    readonly runner: string,
  ) {
    this.#flow = flow;
    this.#atoms = atoms;
    let i = 0;
    for (const n of atoms.values()) this.#details[n.index] = sealed(details[i++] as AtomDetail);
    this.#interrupted = new Set(interrupted);
  }

  // --- reading ------------------------------------------------------------------------------

  get flowDetail(): Readonly<FlowDetail> {
    return this.#flow;
  }

  get flowState(): FlowState {
    return this.#flow.state;
  }

  /**
   * An atom's detail, by its name or its compiled node (the engine's, no lookup).
   * @throws NotFound for a name that is not an atom of this flow
   */
  detail(atom: string | AtomNode): AtomDetail {
    const n = typeof atom === "string" ? this.#atoms.get(atom) : atom;
    const d = n && this.#details[n.index];
    // A node of another graph (another engine's) would find a record of this one by its index.
    if (!d || d.name !== (n as AtomNode).name) throw new NotFound(`flow "${this.#flow.name}" has no atom named "${n?.name ?? atom}"`);
    return d;
  }

  /** Every atom detail, in compile order. */
  atomDetails(): AtomDetail[] {
    return Array.from(this.#atoms.values(), (n) => this.#details[n.index] as AtomDetail);
  }

  /** Whether the atom's last action was cut short by its host going away (and has not restarted). */
  isInterrupted(name: string): boolean {
    return this.#interrupted.has(name);
  }

  /** The failure stored as an atom's execute failure, as the live object where this engine caught it. */
  failureOf(name: string): Failure | undefined {
    return this.#live(this.detail(name).failure);
  }

  revertFailureOf(name: string): Failure | undefined {
    return this.#live(this.detail(name).revertFailure);
  }

  /** Changes not yet taken by the writer. */
  get pending(): number {
    return (this.#queuedBook ? 1 : 0) + (this.#queuedFlow ? 1 : 0) + this.#queuedAtoms.size + this.#entries;
  }

  /** Empties the queue into a batch for the writer, fenced with its lock's token. */
  take(fence?: Fence): WriteBatch {
    // One literal with every key: a key added later gives the batch a new hidden class.
    const book = this.#queuedBook, flow = this.#queuedFlow;
    const batch = { logBooks: book ? [book] : EMPTY_LIST, flows: flow ? [flow] : EMPTY_LIST, atoms: [...this.#queuedAtoms.values()], transitions: this.#trail.slice(0, this.#entries) as Transition[], fence };
    this.#trail.fill(undefined, 0, this.#entries);
    this.#entries = 0;
    this.#queuedBook = this.#queuedFlow = undefined;
    this.#queuedAtoms.clear();
    return batch;
  }

  // --- atoms --------------------------------------------------------------------------------

  /**
   * Moves an atom to `state` with the changes that go with it (a result, a failure, a new
   * intention): checked against TaskFlow's table (an interrupted atom may repeat its stored
   * state; `force`, a reset, goes back to PENDING from anywhere), stamped, queued with its entry
   * of the audit trail, and announced.
   */
  transition(node: AtomNode, state: AtomState, patch: { result?: unknown; failure?: Failure | null; revertResult?: unknown; revertFailure?: Failure | null; intention?: Intention; fields?: Partial<AtomFields> } = {}, force = false): AtomDetail {
    const old = this.detail(node);
    const kind = old.kind;
    // An atom its last host left mid-action may repeat that action, or (RUNNING when its flow was
    // set to revert: a cancel) be reverted without executing again, as TaskFlow's resume does.
    const resumed = this.#interrupted.delete(node.name) && (old.state === state || (old.state === "RUNNING" && state === "REVERTING"));
    if (!resumed && !force) checkAtomTransition(kind, node.name, old.state, state);
    const now = this.clock.now();
    // One new record per transition: this is the engine's hottest path. It spreads the old one,
    // so a field this version does not know (a newer writer's) is kept.
    const d = merged<AtomDetail>(old, patch.fields);
    d.state = state;
    d.updatedAt = now;
    // Its keys are states (a record read back is checked): no "__proto__".
    const timestamps = (d.timestamps = Object.assign({}, old.timestamps));
    timestamps[state] = now;
    if (state === "PENDING" && old.state !== "PENDING") d.generation = (d.generation ?? 0) + 1;
    // The engine's own progress reports (0 when an action starts, 1 when it ends) ride with the
    // transition instead of costing a record update of their own.
    if (state === "SUCCESS" || state === "REVERTED") d.progress = 1;
    else if ((state === "RUNNING" || state === "REVERTING") && d.progress !== undefined) d.progress = 0;
    if (patch.intention !== undefined) d.intention = patch.intention;
    if ("result" in patch) d.result = patch.result;
    if ("revertResult" in patch) d.revertResult = patch.revertResult;
    if (patch.failure !== undefined) d.failure = patch.failure === null ? undefined : this.#remember(patch.failure);
    if (patch.revertFailure !== undefined) d.revertFailure = patch.revertFailure === null ? undefined : this.#remember(patch.revertFailure);
    sealed(d);
    this.#details[node.index] = d;
    this.#queuedAtoms.set(d.uuid, d);
    this.#trail[this.#entries++] = this.entry(old.state, state, now, node.name, d.attempts);
    // Repeating an interrupted action is no change of state: TaskFlow announces nothing.
    if (this.notifier.has("atom") && old.state !== state) {
      const shown = state === "FAILURE" ? this.failureOf(node.name) : state === "REVERT_FAILURE" ? this.revertFailureOf(node.name) : undefined;
      this.notifier.emit("atom", {
        type: "atom", name: node.name, kind, flowUuid: this.#flow.uuid, state, oldState: old.state, intention: d.intention,
        // A retry stores its history; listeners see the value it provided, as TaskFlow shows it.
        ...(state === "SUCCESS" ? { result: providedValue(d) } : state === "REVERTED" ? { result: d.revertResult } : {}),
        failure: shown,
        annotate: (values) => this.annotate(node.name, values),
      });
    }
    return d;
  }

  /**
   * Puts an atom back to PENDING to run anew, without what its last run left behind: results,
   * failures, a stored wake-up time or wait deadline, a REVERT or RETRY intention. A reverted (or
   * ignored) atom goes through the table; `force` also resets atoms the table gives no way back
   * from (SUCCESS, FAILURE, RETRYING…), as TaskFlow's storage resets do, counting a new generation
   * so that its next run has a new idempotency key. One place, so that a retry, a resume after a
   * revert and `engine.reset()` all start an atom over the same way.
   */
  startOver(node: AtomNode, force = false): void {
    const d = this.detail(node);
    const fresh = { intention: "EXECUTE" as const, result: undefined, revertResult: undefined, failure: null, revertFailure: null, fields: { wakeAt: undefined, deadline: undefined } };
    if (d.state === "REVERTED" || d.state === "IGNORE" || (d.state !== "PENDING" && force)) this.transition(node, "PENDING", fresh, force);
    else if (d.state === "PENDING" && (d.intention !== "EXECUTE" || d.wakeAt !== undefined || d.deadline !== undefined)) {
      this.#put(node.name, { intention: "EXECUTE", wakeAt: undefined, deadline: undefined });
    }
  }

  /**
   * Sets what the engine means to do with an atom next (TaskFlow's intention). `requeue`: once
   * reverted, it runs again (a revision, or a failure while offline) instead of staying reverted.
   */
  intend(name: string, intention: Intention, options: { requeue?: boolean } = {}): void {
    const d = this.detail(name);
    if (options.requeue) this.#put(name, { intention, requeue: true });
    else if (d.intention !== intention) this.#put(name, { intention });
  }

  /** Stores when a held atom may start (`wakeAt`) or when its wait fails (`deadline`): before the engine waits. */
  setTimer(name: string, timer: { wakeAt: number | undefined } | { deadline: number }): void {
    this.#put(name, timer);
  }

  /** Adds details to an atom's user meta (a listener's annotation), with the next commit. `undefined` removes a key. */
  annotate(name: string, values: Record<string, unknown>): void {
    this.#put(name, { meta: merged(this.detail(name).meta, values) });
  }

  /** Adds atom-level arguments injected persistently, with the next commit. */
  inject(name: string, values: Record<string, unknown>): void {
    this.#put(name, { injected: { ...(this.detail(name).injected ?? {}), ...checkStorable(values, "injected", `arguments injected into "${name}"`) } });
  }

  /** Replaces a retry's history of tries (a failure added to the current try). */
  recordTries(name: string, history: HistoryEntry[]): void {
    this.#put(name, { result: history });
  }

  /** Records the worker that ran an attempt (an executor's), with the next commit. */
  ranOn(name: string, run: WorkerRun): void {
    this.#put(name, { workers: [...(this.detail(name).workers ?? []), run] });
  }

  /** A task's own report: stored in its meta (with the next commit) and sent to listeners. */
  progress(name: string, fraction: number, details?: unknown): void {
    const p = Math.min(1, Math.max(0, Number.isFinite(fraction) ? fraction : 0));
    this.#put(name, details === undefined ? { progress: p } : { progress: p, progressDetails: { atProgress: p, details: checkStorable(details, "details", `the progress details of "${name}"`) } });
    this.reportProgress(name, p, details);
  }

  /** Tells listeners of progress without storing it (the engine's 0 and 1 ride with transitions). */
  reportProgress(name: string, progress: number, details?: unknown): void {
    if (this.notifier.has("progress")) {
      this.notifier.emit("progress", { type: "progress", name, flowUuid: this.#flow.uuid, progress, details });
    }
  }

  // --- the flow -----------------------------------------------------------------------------

  /** Moves the flow; `false` when TaskFlow's table says to ignore the request (or, forced, when it is there already). */
  moveFlow(state: FlowState, force = false): boolean {
    const old = this.#flow.state;
    if (force ? old === state : !checkFlowTransition(old, state)) return false;
    this.#setFlow({ state });
    this.#trail[this.#entries++] = this.entry(old, state, this.#flow.updatedAt);
    this.notifier.emit("flow", { type: "flow", flowName: this.#flow.name, flowUuid: this.#flow.uuid, state, oldState: old });
    return true;
  }

  /** Changes the flow's own fields: the store, buffered inputs, the cancel mark, why it stopped. `undefined` removes a key. */
  updateFlow(patch: Partial<FlowFields>): void {
    this.#setFlow(patch);
  }

  /** A wait took its input: the buffer keeps only inputs not yet waited for. */
  consumeInput(input: string): void {
    const { [input]: _taken, ...rest } = this.#flow.inputs ?? {};
    this.updateFlow({ inputs: rest });
  }

  /**
   * Records why a run ended short of a final state (`undefined`: it did not), so that a host
   * loading the flow knows what it waits for; a wait for a time, an input or the network is
   * announced to listeners, for the host to run the flow again then.
   */
  stopped(why: { reason: string; wakeAt: number | undefined; waitingFor: Array<{ name: string; description?: string; deadline?: number }> } | undefined): void {
    const { suspendedReason, wakeAt, waitingFor } = this.#flow;
    if (!why) {
      if (suspendedReason !== undefined || wakeAt !== undefined || waitingFor !== undefined) {
        this.updateFlow({ suspendedReason: undefined, wakeAt: undefined, waitingFor: undefined });
      }
      return;
    }
    this.updateFlow({ suspendedReason: why.reason, wakeAt: why.wakeAt, waitingFor: why.waitingFor.length > 0 ? why.waitingFor : undefined });
    if (why.reason !== "suspended") {
      this.notifier.emit("wait", {
        type: "wait", flowUuid: this.#flow.uuid, reason: why.reason as "input" | "waiting" | "offline", wakeAt: why.wakeAt, inputs: why.waitingFor.map((w) => w.name),
      });
    }
  }

  /** Queues the flow detail as it is (a new flow's first write). */
  queueFlow(): void {
    this.#setFlow({});
  }

  /** Queues the log book (when the engine created it). */
  queueBook(): void {
    this.#queuedBook = this.book;
  }

  /** An entry of the audit trail: a change of the flow (or of `atom`) made by this runner. */
  entry(from: string, to: string, at: number, atom?: string, attempt?: number): Transition {
    // Frozen: nothing can change it once made, so a backend may keep it rather than a copy (see keptClone).
    return Object.freeze({ flowUuid: this.#flow.uuid, atom, from, to, at, attempt, runner: this.runner, epoch: this.epoch });
  }

  // --- internals ----------------------------------------------------------------------------

  // One copy per change: the record merged is new, so it is stamped before it is queued.
  #put(name: string, patch: Partial<AtomDetail>): AtomDetail {
    // One lookup of the name: detail() refuses a name that is not an atom's.
    const node = this.#atoms.get(name);
    const next = merged(this.detail(node ?? name), patch);
    next.updatedAt = this.clock.now();
    sealed(next);
    this.#details[(node as AtomNode).index] = next;
    this.#queuedAtoms.set(next.uuid, next);
    return next;
  }

  #setFlow(patch: Partial<FlowDetail>): void {
    const next = (this.#flow = merged(this.#flow, patch));
    next.updatedAt = this.clock.now();
    this.#queuedFlow = next;
  }

  #remember(failure: Failure): FailureData {
    const data = failure.toJSON();
    this.#failures.set(data, failure);
    return data;
  }

  #live(data: FailureData | undefined): Failure | undefined {
    if (!data) return undefined;
    let f = this.#failures.get(data);
    if (!f) {
      f = Failure.fromJSON(data);
      this.#failures.set(data, f);
    }
    return f;
  }
}
