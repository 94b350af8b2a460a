import { MissingDependencies, NotFound } from "../errors.js";
import type { Failure } from "../failure.js";
import type { AtomNode, ExecutionGraph } from "../engine/compiler.js";
import type { Journal } from "../engine/journal.js";
import { setOwn } from "../persistence/clone.js";
import { checkStorable } from "./storable.js";
import { providedValue } from "../snapshot/rules.js";
import type { Writer } from "../engine/writer.js";
import type { AtomDetail, FlowDetail, LogBook } from "../persistence/models.js";
import type { AtomState, FlowState } from "../states.js";
import type { FetchAll, Fetched } from "../typing.js";

/** States in which an atom's result can be read. */
const RESULT_READABLE = new Set<AtomState>(["SUCCESS", "FAILURE", "REVERTING"]);

/** What a lookup returns when it finds nothing (any value found, `undefined` included, is returned as it is: no wrapper per lookup). */
const NONE = {};

/**
 * What an engine's flow detail holds, read-only: values by name, atom states, results and
 * failures, untyped (every value `unknown`). {@link FlowStorage} is the same, typed by its flow.
 * @example const reader: StoredValues = engine.storage; reader.fetch("anything"); // unknown
 */
export interface StoredValues {
  /** The log book holding this flow detail. */
  readonly book: Readonly<LogBook>;
  /** The flow detail as last changed (committed or about to be). */
  readonly flowDetail: Readonly<FlowDetail>;
  readonly flowState: FlowState;
  /** Every atom detail, in compile order (PENDING where nothing is stored yet): the engine's own records, frozen. */
  atomDetails(): Array<Readonly<AtomDetail>>;
  /**
   * The engine's own record of an atom, frozen (with its timestamps and meta): copy it to change it.
   * @throws NotFound for a name that is not an atom of this flow
   */
  detail(name: string): Readonly<AtomDetail>;
  getAtomState(name: string): AtomState;
  /** What the atom's execute returned, readable in SUCCESS and REVERTING; its Failure, in any state, if it threw (as in TaskFlow). @throws NotFound otherwise */
  getResult(name: string): unknown;
  /** The atom's execute failure, if it has one. */
  getFailure(name: string): Failure | undefined;
  /** The atom's revert failure, if it has one. */
  getRevertFailure(name: string): Failure | undefined;
  /** Execute failures by atom name. */
  executeFailures(): Record<string, Failure>;
  /** Revert failures by atom name. */
  revertFailures(): Record<string, Failure>;
  /** The value of a name, ignoring scope: injected values first, then the first atom that provided it (a failed atom provides its Failure, as in TaskFlow). @throws NotFound */
  fetch(name: string): unknown;
  /** Every injected and provided name with its value (a failed atom's: its Failure); a list where several atoms provided one name. */
  fetchAll(): Record<string, unknown>;
  /** Whether a name is injected at the flow level. */
  isInjected(name: string): boolean;
  /** Changes not yet committed. */
  readonly pendingWrites: number;
  /** Whether the flow detail is in the backend (it has been committed at least once). */
  readonly stored: boolean;
  /** A write of this flow failed: the log book is behind it (the engine reloads before going on). */
  readonly broken: boolean;
}

/**
 * What an engine's flow detail holds, read-only: values by name, atom states, results and
 * failures. It reads what the engine holds (committed, or about to be); an engine changes it
 * only through its own methods (`run`, `provide`, `inject`…).
 *
 * Typed by the engine's flow: `fetch` of a name the flow provides (or the `store` given to
 * `load`) has that name's type, `getResult` of an atom its result's, `fetchAll` both; any other
 * name is `unknown`. The types describe a flow that ended SUCCESS: an atom that failed provides
 * its {@link Failure} instead (as in TaskFlow), and a name not provided yet throws `NotFound`.
 *
 * @example
 * await engine.run();
 * engine.storage.fetch("receipt");        // the value an atom provided
 * engine.storage.fetchAll();              // every provided and injected name
 * engine.storage.getAtomState("charge");  // "SUCCESS"
 */
export interface FlowStorage<Provides extends object = {}, Results extends object = {}> extends StoredValues {
  /** What the atom's execute returned, readable in SUCCESS and REVERTING; its Failure, in any state, if it threw (as in TaskFlow). @throws NotFound otherwise */
  getResult<K extends keyof Results & string>(name: K): Results[K];
  getResult(name: string): unknown;
  /** The value of a name, ignoring scope: injected values first, then the first atom that provided it (a failed atom provides its Failure, as in TaskFlow). @throws NotFound */
  fetch<K extends keyof Provides & string>(name: K): Fetched<Provides[K]>;
  fetch(name: string): unknown;
  /** Every injected and provided name with its value (a failed atom's: its Failure); a list where several atoms provided one name. */
  fetchAll(): FetchAll<Provides>;
}

/**
 * The engine's reader of one flow detail ({@link StoredValues}), with argument lookup by
 * TaskFlow's scoping and the values injected in memory only. It reads what the engine's journal
 * holds; changes go through the journal.
 */
export class Storage implements StoredValues {
  readonly #transient: Record<string, unknown> = {};
  readonly #atomTransient = new Map<string, Record<string, unknown>>();
  readonly #journal: Journal;
  readonly #writer: Writer;
  readonly #graph: ExecutionGraph;

  /** @internal built by the engine */
  constructor(journal: Journal, writer: Writer, graph: ExecutionGraph) {
    this.#journal = journal;
    this.#writer = writer;
    this.#graph = graph;
  }

  /** The log book holding this flow detail. */
  get book(): Readonly<LogBook> {
    return this.#journal.book;
  }

  /** The flow detail as last changed (committed or about to be). */
  get flowDetail(): Readonly<FlowDetail> {
    return this.#journal.flowDetail;
  }

  get flowState(): FlowState {
    return this.#journal.flowState;
  }

  /** Every atom detail, in compile order (frozen). */
  atomDetails(): Array<Readonly<AtomDetail>> {
    return this.#journal.atomDetails();
  }

  /** @throws NotFound for a name that is not an atom of this flow */
  detail(name: string): Readonly<AtomDetail> {
    return this.#journal.detail(name);
  }

  getAtomState(name: string): AtomState {
    return this.detail(name).state;
  }

  /**
   * What the atom's execute returned, readable in SUCCESS and REVERTING; if it threw, its
   * Failure, in any state (also once REVERTED), as TaskFlow's `get_execute_result` does.
   * @throws NotFound otherwise
   */
  getResult(name: string): unknown {
    const d = this.detail(name);
    if (d.failure) return this.getFailure(name);
    if (!RESULT_READABLE.has(d.state)) {
      throw new NotFound(`atom "${name}" has no result in state ${d.state}`);
    }
    return d.result;
  }

  /** The atom's execute failure, if it has one. */
  getFailure(name: string): Failure | undefined {
    return this.#journal.failureOf(name);
  }

  /** The atom's revert failure, if it has one. */
  getRevertFailure(name: string): Failure | undefined {
    return this.#journal.revertFailureOf(name);
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
   * (`engine.inject`) Injects values at the flow level. Persistent ones (the default) are stored in the flow
   * detail and survive a resume; transient ones live only in this engine. Injected values win
   * over what atoms provide, as in TaskFlow.
   */
  inject(values: Record<string, unknown>, options: { transient?: boolean } = {}): void {
    if (options.transient) assignOwn(this.#transient, values);
    else this.#journal.updateFlow({ store: { ...(this.flowDetail.store ?? {}), ...checkStorable(values, "store", "injected values") } });
  }

  /** (`engine.injectAtomArgs`) Injects argument values for one atom (by argument name). */
  injectAtomArgs(name: string, values: Record<string, unknown>, options: { transient?: boolean } = {}): void {
    if (options.transient) {
      this.#atomTransient.set(name, { ...(this.#atomTransient.get(name) ?? {}), ...values });
    } else {
      this.#journal.inject(name, values);
    }
  }

  /**
   * The value of a name, ignoring scope: injected values first, then the first atom that
   * provided it; an atom that failed provides its Failure (for a name that is its whole result).
   * @throws NotFound
   */
  fetch(name: string): unknown {
    const found = this.#lookup(name, this.#graph.providers.get(name) ?? [], true);
    if (found === NONE) throw new NotFound(`no value named "${name}": nothing injected it and no atom provided it yet`);
    return found;
  }

  /** Every injected and provided name with its value; a list where several atoms provided one name. */
  fetchAll(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    const names = new Set([...Object.keys(this.flowDetail.store ?? {}), ...Object.keys(this.#transient), ...this.#graph.providers.keys()]);
    for (const name of names) {
      const values: unknown[] = [];
      const injected = this.#injected(name);
      if (injected !== NONE) values.push(injected);
      for (const p of this.#graph.providers.get(name) ?? []) {
        const v = this.#provided(p, name, true);
        if (v !== NONE) values.push(v);
      }
      if (values.length > 0) setOwn(out, name, values.length === 1 ? values[0] : values);
    }
    return out;
  }

  /**
   * The arguments of an atom, by TaskFlow's lookup order: atom transient inject, atom persistent
   * inject, the atom's own `inject`, flow transient, flow persistent (store), then providers
   * visible from the atom, nearest first. Optional arguments fall back to their defaults.
   * @throws MissingDependencies naming the atom and what it could not find
   */
  fetchArgs(node: AtomNode): Record<string, unknown> {
    const atom = node.atom;
    const args: Record<string, unknown> = {};
    const atomTransient = this.#atomTransient.get(node.name);
    const atomPersistent = this.#journal.detail(node).injected;
    let missing: string[] | undefined;
    for (const spec of node.args) {
      const { arg } = spec;
      if (atomTransient && Object.hasOwn(atomTransient, arg)) setOwn(args, arg, atomTransient[arg]);
      else if (atomPersistent && Object.hasOwn(atomPersistent, arg)) setOwn(args, arg, atomPersistent[arg]);
      else if (Object.hasOwn(atom.inject, arg)) setOwn(args, arg, atom.inject[arg]);
      else {
        const found = this.#lookup(spec.symbol, spec.providers);
        if (found !== NONE) setOwn(args, arg, found);
        else if (spec.optional) setOwn(args, arg, atom.defaults[arg]);
        else (missing ??= []).push(spec.symbol === arg ? `"${arg}"` : `"${spec.symbol}" (argument "${arg}")`);
      }
    }
    if (missing) {
      throw new MissingDependencies(
        `atom "${node.name}" cannot find ${missing.join(", ")}: no earlier atom provided it and nothing injected it`,
        missing.map((symbol) => ({ atom: node.name, symbol })),
      );
    }
    return args;
  }

  /** Whether an atom's argument is injected for it, transient or persistent (for validation). */
  hasAtomArg(atom: string, arg: string): boolean {
    const has = (values: Record<string, unknown> | undefined) => values !== undefined && Object.hasOwn(values, arg) && values[arg] !== undefined;
    return has(this.#atomTransient.get(atom)) || has(this.detail(atom).injected);
  }

  /** Whether a name is injected at the flow level (for validation). */
  isInjected(name: string): boolean {
    return this.#injected(name) !== NONE;
  }

  /** Changes not yet committed. */
  get pendingWrites(): number {
    return this.#journal.pending;
  }

  /** Whether the flow detail is in the backend (it has been committed at least once). */
  get stored(): boolean {
    return this.#writer.stored;
  }

  /** A write of this flow failed: the log book is behind it (the engine reloads before going on). */
  get broken(): boolean {
    return this.#writer.broken;
  }

  /** @internal Takes the transient values of the storage this one replaces (a reload). */
  keepTransient(from: Storage): void {
    assignOwn(this.#transient, from.#transient);
    for (const [name, values] of from.#atomTransient) this.#atomTransient.set(name, values);
  }

  // --- lookups ------------------------------------------------------------------------------

  #injected(name: string): unknown {
    if (Object.hasOwn(this.#transient, name)) return this.#transient[name];
    const store = this.flowDetail.store;
    return store && Object.hasOwn(store, name) ? store[name] : NONE;
  }

  #lookup(name: string, providers: readonly AtomNode[], failures = false): unknown {
    let found = this.#injected(name);
    for (let i = 0; found === NONE && i < providers.length; i++) found = this.#provided(providers[i] as AtomNode, name, failures);
    return found;
  }

  /**
   * What atom `node` provides under `name`. With `failures` (fetch, fetchAll; never an
   * argument), a failed atom provides its Failure whole, in any state, as TaskFlow's storage does.
   */
  #provided(node: AtomNode, name: string, failures = false): unknown {
    const d = this.#journal.detail(node);
    const where = node.atom.saveAs.get(name);
    if (failures && d.failure && where === null) return this.getFailure(node.name);
    if (d.state !== "SUCCESS" || where === undefined) return NONE;
    const value = providedValue(d) as Record<string | number, unknown> | null;
    return where === null ? value : value !== null && typeof value === "object" && Object.hasOwn(value, where) ? value[where] : NONE;
  }

  #collect(get: (name: string) => Failure | undefined): Record<string, Failure> {
    const out: Record<string, Failure> = {};
    for (const name of this.#graph.atoms.keys()) {
      const f = get(name);
      if (f) setOwn(out, name, f);
    }
    return out;
  }
}

/** Object.assign, keeping a `"__proto__"` key an own property. */
function assignOwn(to: Record<string, unknown>, from: Record<string, unknown>): void {
  for (const key of Object.keys(from)) setOwn(to, key, from[key]);
}
