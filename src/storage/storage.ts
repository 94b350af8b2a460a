import { MissingDependencies, NotFound, StorageFailure } from "../errors.js";
import { Failure, type FailureData } from "../failure.js";
import type { ExecNode, ExecutionGraph } from "../engine/compiler.js";
import type { HistoryEntry } from "../atoms/retry.js";
import type { AtomDetail, AtomMeta, FlowDetail, LogBook } from "../persistence/models.js";
import { PendingBatch } from "../persistence/batch.js";
import type { Backend } from "../ports/backend.js";
import type { Clock } from "../ports/clock.js";
import type { AtomState, FlowState } from "../states.js";

/** Argument lookup goes through these layers in order (TaskFlow's scoping rules). */
const RESULT_READABLE = new Set<AtomState>(["SUCCESS", "FAILURE", "REVERTING"]);

/**
 * The engine's view of one flow detail: atom states and results, injected values, and the
 * batch of changes not yet committed. Records are replaced, never mutated, once handed to the
 * batch, so a backend may read them while the engine goes on.
 *
 * @example
 * await engine.run();
 * engine.storage.fetch("receipt");  // the value an atom provided
 * engine.storage.fetchAll();        // every provided and injected name
 */
export class Storage {
  readonly #details = new Map<string, AtomDetail>();
  readonly #batch = new PendingBatch();
  readonly #transient: Record<string, unknown> = {};
  readonly #atomTransient = new Map<string, Record<string, unknown>>();
  /** Live failures by their stored data, so an error is rethrown as the very object thrown. */
  readonly #failureCache = new WeakMap<object, Failure>();
  #flow: FlowDetail;
  /** The flow detail as the backend has it; undefined until it is first stored. */
  #committedFlow: FlowDetail | undefined;
  /** The backend's writes, chained so that each starts when the one before has settled. */
  #writes: Promise<void> = Promise.resolve();
  /** A write failed: the backend is behind this storage. */
  #broken = false;

  /** @internal built by the engine */
  readonly #backend: Backend;
  readonly #graph: ExecutionGraph;
  readonly #clock: Clock;

  constructor(backend: Backend, graph: ExecutionGraph, readonly book: LogBook, flow: FlowDetail, details: Iterable<AtomDetail>, clock: Clock, stored: boolean) {
    this.#backend = backend;
    this.#graph = graph;
    this.#clock = clock;
    this.#flow = flow;
    this.#committedFlow = stored ? flow : undefined;
    for (const d of details) this.#details.set(d.name, d);
  }

  /** The flow detail as last changed (committed or about to be). */
  get flowDetail(): Readonly<FlowDetail> {
    return this.#flow;
  }

  get flowState(): FlowState {
    return this.#flow.state;
  }

  /** Every atom detail, in compile order. */
  atomDetails(): AtomDetail[] {
    return [...this.#graph.atoms.keys()].map((n) => this.detail(n));
  }

  /** @throws NotFound for a name that is not an atom of this flow */
  detail(name: string): AtomDetail {
    const d = this.#details.get(name);
    if (!d) throw new NotFound(`flow "${this.#flow.name}" has no atom named "${name}"`);
    return d;
  }

  getAtomState(name: string): AtomState {
    return this.detail(name).state;
  }

  /**
   * What the atom's execute returned. Readable in SUCCESS, FAILURE and REVERTING only.
   * @throws NotFound otherwise
   */
  getResult(name: string): unknown {
    const d = this.detail(name);
    if (!RESULT_READABLE.has(d.state)) {
      throw new NotFound(`atom "${name}" has no result in state ${d.state}`);
    }
    return d.failure ? this.getFailure(name) : d.result;
  }

  /** The atom's execute failure, if it has one. */
  getFailure(name: string): Failure | undefined {
    return this.#cachedFailure(this.detail(name).failure);
  }

  /** The atom's revert failure, if it has one. */
  getRevertFailure(name: string): Failure | undefined {
    return this.#cachedFailure(this.detail(name).revertFailure);
  }

  /** Execute failures by atom name. */
  executeFailures(): Record<string, Failure> {
    return this.#collect((n) => this.getFailure(n));
  }

  /** Revert failures by atom name. */
  revertFailures(): Record<string, Failure> {
    return this.#collect((n) => this.getRevertFailure(n));
  }

  /**
   * Injects values at the flow level. Persistent ones (the default) are stored in the flow
   * detail and survive a resume; transient ones live only in this engine. Injected values win
   * over what atoms provide, as in TaskFlow.
   */
  inject(values: Record<string, unknown>, options: { transient?: boolean } = {}): void {
    if (options.transient) Object.assign(this.#transient, values);
    else this.setFlow({ meta: { ...this.#flow.meta, store: { ...(this.#flow.meta.store ?? {}), ...values } } });
  }

  /** Injects argument values for one atom (by argument name). */
  injectAtomArgs(name: string, values: Record<string, unknown>, options: { transient?: boolean } = {}): void {
    if (options.transient) {
      this.#atomTransient.set(name, { ...(this.#atomTransient.get(name) ?? {}), ...values });
    } else {
      const d = this.detail(name);
      this.setAtom(name, { meta: { ...d.meta, injected: { ...(d.meta.injected ?? {}), ...values } } });
    }
  }

  /**
   * The value of a name, ignoring scope: injected values first, then the first atom that
   * provided it. @throws NotFound
   */
  fetch(name: string): unknown {
    const found = this.#lookup(name, this.#providersOf(name));
    if (!found.ok) throw new NotFound(`no value named "${name}": nothing injected it and no atom provided it yet`);
    return found.value;
  }

  /** Every injected and provided name with its value; a list where several atoms provided one name. */
  fetchAll(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    const names = new Set([...Object.keys(this.#flow.meta.store ?? {}), ...Object.keys(this.#transient)]);
    this.#providersOf("");
    for (const p of this.#providerIndex?.keys() ?? []) names.add(p);
    for (const name of names) {
      const values: unknown[] = [];
      const injected = this.#injected(name);
      if (injected.ok) values.push(injected.value);
      for (const p of this.#providersOf(name)) {
        const v = this.#provided(p, name);
        if (v.ok) values.push(v.value);
      }
      if (values.length === 1) out[name] = values[0];
      else if (values.length > 1) out[name] = values;
    }
    return out;
  }

  /**
   * The arguments of an atom, by TaskFlow's lookup order: atom transient inject, atom persistent
   * inject, the atom's own `inject`, flow transient, flow persistent (store), then providers
   * visible from the atom, nearest first. Optional arguments fall back to their defaults.
   * @throws MissingDependencies naming the atom and what it could not find
   */
  fetchArgs(node: ExecNode): Record<string, unknown> {
    const atom = node.atom;
    const args: Record<string, unknown> = {};
    if (!atom) return args;
    const atomTransient = this.#atomTransient.get(node.name);
    const atomPersistent = this.#details.get(node.name)?.meta.injected;
    const missing: string[] = [];
    for (const [arg, spec] of node.args) {
      if (atomTransient && arg in atomTransient) args[arg] = atomTransient[arg];
      else if (atomPersistent && arg in atomPersistent) args[arg] = atomPersistent[arg];
      else if (arg in atom.inject) args[arg] = atom.inject[arg];
      else {
        const found = this.#lookup(spec.symbol, spec.providers);
        if (found.ok) args[arg] = found.value;
        else if (spec.optional) args[arg] = atom.defaults[arg];
        else missing.push(spec.symbol === arg ? `"${arg}"` : `"${spec.symbol}" (argument "${arg}")`);
      }
    }
    if (missing.length > 0) {
      throw new MissingDependencies(
        `atom "${node.name}" cannot find ${missing.join(", ")}: no earlier atom provided it and nothing injected it`,
        missing.map((symbol) => ({ atom: node.name, symbol })),
      );
    }
    return args;
  }

  /** Whether a name is injected at the flow level (for validation). */
  isInjected(name: string): boolean {
    return this.#injected(name).ok;
  }

  // --- changes (engine only) ---------------------------------------------------------------

  /** @internal Replaces an atom detail with a changed copy and queues it for the next commit. */
  setAtom(name: string, patch: Partial<AtomDetail>): AtomDetail {
    const next: AtomDetail = { ...this.detail(name), ...patch, updatedAt: this.#clock.now() };
    this.#details.set(name, next);
    this.#batch.atom(next);
    return next;
  }

  /** @internal The failure's data for a record, remembering the live failure behind it. */
  rememberFailure(failure: Failure): FailureData {
    const data = failure.toJSON();
    this.#failureCache.set(data, failure);
    return data;
  }

  /** @internal */
  setAtomMeta(name: string, meta: Partial<AtomMeta>): void {
    this.setAtom(name, { meta: { ...this.detail(name).meta, ...meta } });
  }

  /** @internal */
  setFlow(patch: Partial<FlowDetail>): void {
    this.#flow = { ...this.#flow, ...patch, updatedAt: this.#clock.now() };
    this.#batch.flow(this.#flow);
  }

  /** @internal Takes the transient values of the storage this one replaces (a reload). */
  keepTransient(from: Storage): void {
    Object.assign(this.#transient, from.#transient);
    for (const [name, values] of from.#atomTransient) this.#atomTransient.set(name, values);
  }

  /** @internal Queues the log book (when the engine created it). */
  queueBook(): void {
    this.#batch.book(this.book);
  }

  /** Changes not yet committed. */
  get pendingWrites(): number {
    return this.#batch.size;
  }

  /** Whether the flow detail is in the backend (it has been committed at least once). */
  get stored(): boolean {
    return this.#committedFlow !== undefined;
  }

  /** A write of this storage failed: the log book is behind it (the engine reloads before going on). */
  get broken(): boolean {
    return this.#broken;
  }

  /**
   * Commits the pending changes as one batch; resolves `true` once written, `false` when there
   * was nothing to write. Writes go to the backend one after another; once one fails, this
   * storage is behind what the engine holds, and every later commit is refused without writing:
   * the engine reloads the log book first. With nothing pending, it still waits for the writes
   * under way, which may carry the caller's changes, and fails if one did.
   */
  async commit(): Promise<boolean> {
    if (this.#batch.size === 0) {
      await this.#writes;
      if (this.#broken) throw this.#refusal();
      return false;
    }
    const batch = this.#batch.take();
    const write = this.#writes.then(async () => {
      if (this.#broken) throw this.#refusal();
      try {
        await this.#backend.commit(batch);
      } catch (e) {
        this.#broken = true;
        await this.#storeSuspended().catch(() => {});
        throw e;
      }
      this.#committedFlow = batch.flows[0] ?? this.#committedFlow;
    });
    this.#writes = write.catch(() => {});
    await write;
    return true;
  }

  #refusal(): StorageFailure {
    return new StorageFailure(`an earlier write of flow "${this.#flow.name}" failed, so this change was not stored; run the flow again: it reloads the log book`);
  }

  /**
   * After a failed commit: stores the flow detail as last committed, but SUSPENDED, so the log
   * book says the run stopped rather than that it is still running. Only a running flow, and from
   * its committed form: the failed batch may have changed it together with atoms that are not
   * stored (an input consumed by a step that did not finish). If this small write fails too (a
   * full disk), the flow stays RUNNING as last committed, which a resume treats as a crash.
   */
  async #storeSuspended(): Promise<void> {
    const last = this.#committedFlow;
    if (last?.state !== "RUNNING" && last?.state !== "SUSPENDING") return;
    const flow: FlowDetail = { ...last, state: "SUSPENDED", updatedAt: this.#clock.now(), meta: { ...last.meta, suspendedReason: "storage" } };
    await this.#backend.commit({ logBooks: [], flows: [flow], atoms: [] });
    this.#committedFlow = flow;
  }

  // --- lookups ------------------------------------------------------------------------------

  #providerIndex: Map<string, string[]> | undefined;

  #providersOf(name: string): string[] {
    if (!this.#providerIndex) {
      this.#providerIndex = new Map();
      for (const n of this.#graph.atoms.values()) {
        for (const p of n.atom?.provides ?? []) this.#providerIndex.set(p, [...(this.#providerIndex.get(p) ?? []), n.name]);
      }
    }
    return this.#providerIndex.get(name) ?? [];
  }

  #injected(name: string): { ok: boolean; value?: unknown } {
    if (name in this.#transient) return { ok: true, value: this.#transient[name] };
    const store = this.#flow.meta.store;
    if (store && name in store) return { ok: true, value: store[name] };
    return { ok: false };
  }

  #lookup(name: string, providers: readonly string[]): { ok: boolean; value?: unknown } {
    const injected = this.#injected(name);
    if (injected.ok) return injected;
    for (const p of providers) {
      const v = this.#provided(p, name);
      if (v.ok) return v;
    }
    return { ok: false };
  }

  #provided(atomName: string, name: string): { ok: boolean; value?: unknown } {
    const d = this.#details.get(atomName);
    if (!d || d.state !== "SUCCESS") return { ok: false };
    const where = this.#graph.atoms.get(atomName)?.atom?.saveAs.get(name);
    if (where === undefined) return { ok: false };
    // A retry's stored result is its history; it provides the value of the latest try.
    const value = d.kind === "retry" ? (d.result as HistoryEntry[] | undefined)?.at(-1)?.value : d.result;
    if (where === null) return { ok: true, value };
    const result = value as Record<string | number, unknown> | null;
    if (result === null || typeof result !== "object" || !(where in result)) return { ok: false };
    return { ok: true, value: result[where] };
  }

  #cachedFailure(data: AtomDetail["failure"]): Failure | undefined {
    if (!data) return undefined;
    let f = this.#failureCache.get(data);
    if (!f) {
      f = Failure.fromJSON(data);
      this.#failureCache.set(data, f);
    }
    return f;
  }

  #collect(get: (name: string) => Failure | undefined): Record<string, Failure> {
    const out: Record<string, Failure> = {};
    for (const name of this.#graph.atoms.keys()) {
      const f = get(name);
      if (f) out[name] = f;
    }
    return out;
  }
}
