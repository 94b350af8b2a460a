import { CompilationFailure } from "../errors.js";
import { EMPTY_LIST, EMPTY_OBJECT } from "../empty.js";
import type { AtomAction } from "../engine/actions/action.js";
import type { Carried, Needs } from "../typing.js";

/**
 * What an atom provides: one name for the whole result; names for the items of an array
 * result (`["low", "high"]`); or `{ name: key }` pairs for properties of an object result
 * (TaskFlow's set form is `{ a: "a", b: "b" }`).
 * @example task({ name: "split", provides: ["low", "high"], execute: () => [1, 9] }) // low = 1, high = 9
 */
export type ProvidesSpec = string | readonly string[] | Readonly<Record<string, string | number>>;

/**
 * Options every atom takes. JavaScript cannot read parameter names, so arguments are declared.
 * @example task({ name: "charge", requires: ["amount"], rebind: { amount: "total" }, provides: "receipt", execute: ({ amount }: { amount: number }) => `paid ${amount}` })
 */
export interface AtomOptions<Args extends object = Record<string, unknown>> {
  /** Unique in its flow; defaults to the class name. */
  name?: string;
  /** Names of the arguments `execute` must receive (looked up in storage by name, see `rebind`). */
  requires?: ReadonlyArray<keyof Args & string>;
  /** Arguments that may be missing, with their defaults. */
  optional?: { readonly [K in keyof Args]?: Args[K] };
  /** Reads argument `arg` from storage name `rebind[arg]`; a list maps `requires` in order. */
  rebind?: Readonly<Partial<Record<keyof Args & string, string>>> | readonly string[];
  /** Fixed argument values for this atom (they win over everything in storage). */
  inject?: { readonly [K in keyof Args]?: Args[K] };
  provides?: ProvidesSpec;
  /** `"major.minor"`: a major change refuses to resume a flow stored by the older version. */
  version?: string;
  /** Among atoms ready at the same time, higher priority runs first. */
  priority?: number;
}

/**
 * The shared part of tasks and retries: naming, argument mapping and what it provides.
 * @example for (const atom of flow.atoms()) console.log(atom.name, atom.requires, atom.provides)
 */
export abstract class Atom<Args extends object = Record<string, unknown>, Provides extends object = {}, Results extends object = {}, N extends Needs = Needs> {
  /** @internal Types only (never set): the names this atom provides with their types, its result by its name, and what it needs. */
  declare readonly "~types"?: Carried<Provides, Results, N>;
  /** How its log book records it: a task (sleeps and waits included) or a retry controller. */
  abstract readonly kind: "task" | "retry";
  /** @internal How the engine runs this kind of atom (a task, a retry, a sleep, a wait). */
  abstract readonly action: AtomAction<any>;
  declare readonly name: string;
  declare readonly version: string;
  declare readonly priority: number;
  /** Argument name → storage name, for the required arguments. */
  declare readonly requiredArgs: ReadonlyMap<string, string>;
  /** Argument name → storage name, for the optional arguments. */
  declare readonly optionalArgs: ReadonlyMap<string, string>;
  declare readonly defaults: Readonly<Record<string, unknown>>;
  declare readonly inject: Readonly<Record<string, unknown>>;
  /** Storage name → where it is in the result: `null` for the whole result, else a key or index. */
  declare readonly saveAs: ReadonlyMap<string, string | number | null>;

  constructor(options: AtomOptions<Args> = {}) {
    this.name = options.name ?? this.constructor.name;
    if (!this.name) throw new CompilationFailure("an atom needs a name");
    this.version = options.version ?? "1.0";
    if (!/^\d+\.\d+$/.test(this.version)) {
      throw new CompilationFailure(`atom "${this.name}": version "${this.version}" must be "major.minor"`);
    }
    this.priority = options.priority ?? 0;
    // Most atoms have neither: they share one empty object rather than keep two each.
    this.defaults = (options.optional ? { ...options.optional } : EMPTY_OBJECT) as Record<string, unknown>;
    this.inject = (options.inject ? { ...options.inject } : EMPTY_OBJECT) as Record<string, unknown>;
    const required = (options.requires ?? []) as readonly string[];
    const optional = Object.keys(this.defaults);
    const rebind = options.rebind && rebindOf(this.name, options.rebind, [...required, ...optional]);
    this.requiredArgs = argMap(required, rebind, NO_ENTRIES);
    this.optionalArgs = argMap(optional, rebind, this.requiredArgs);
    this.saveAs = normalizeProvides(this.name, options.provides);
  }

  /** TaskFlow's `"name==version"`, quotes included: `${task}` in a message names it and its version. */
  toString(): string {
    return `"${this.name}==${this.version}"`;
  }

  /** Storage names this atom cannot run without (injected arguments excluded). */
  get requires(): readonly string[] {
    return (this.#requires ??= this.#notInjected(this.requiredArgs));
  }

  /** Storage names this atom reads when present. */
  get optional(): readonly string[] {
    return (this.#optional ??= this.#notInjected(this.optionalArgs));
  }

  /** The storage names of `args` not injected, in one list (no copies of the map's entries on the way). */
  #notInjected(args: ReadonlyMap<string, string>): readonly string[] {
    // As long as it is: a list pushed to from empty keeps 17 slots, and the atom keeps it.
    const names = new Array<string>(args.size);
    let i = 0;
    args.forEach((sym, arg) => Object.hasOwn(this.inject, arg) || (names[i++] = sym));
    names.length = i;
    return i ? names : EMPTY_LIST;
  }

  /** Storage names this atom's result is saved under. */
  get provides(): readonly string[] {
    return (this.#provides ??= this.saveAs.size ? [...this.saveAs.keys()] : EMPTY_LIST);
  }

  // Computed once: flows, the compiler and fingerprints ask for them per atom, many times.
  #requires: readonly string[] | undefined;
  #optional: readonly string[] | undefined;
  #provides: readonly string[] | undefined;
}

/**
 * The one empty map of every atom that has no arguments of a kind, or provides nothing: a flow
 * keeps its atoms, and an empty Map costs about 200 bytes (a third of what a no-op task keeps).
 * Never written to: the fields that hold it are read-only maps.
 */
export const NO_ENTRIES: ReadonlyMap<any, never> = new Map<any, never>();

/** Argument → storage name for `args` (those not in `except`), made without a list of pairs on the way; the shared empty map for none. */
function argMap(args: readonly string[], rebind: Rebound | undefined, except: ReadonlyMap<string, string>): ReadonlyMap<string, string> {
  let map: Map<string, string> | undefined;
  for (const arg of args) if (!except.has(arg)) (map ??= new Map()).set(arg, (rebind && Object.hasOwn(rebind, arg) ? rebind[arg] : undefined) ?? arg);
  return map ?? NO_ENTRIES;
}

type Rebound = Readonly<Record<string, string | undefined>>;

/**
 * `rebind` by argument name, checked against the declared arguments `args`: the object given as
 * it is (an atom is built per task, and a flow may have 100,000), a list turned into one.
 */
function rebindOf(name: string, rebind: NonNullable<AtomOptions["rebind"]>, args: string[]): Rebound {
  if (Array.isArray(rebind)) {
    if (rebind.length > args.length) {
      throw new CompilationFailure(
        `atom "${name}": rebind lists ${rebind.length} names but it declares only ${args.length} arguments (${args.join(", ")})`,
      );
    }
    return Object.fromEntries(rebind.map((sym, i) => [args[i], sym]));
  }
  for (const arg of Object.keys(rebind)) {
    if (!args.includes(arg)) {
      throw new CompilationFailure(
        `atom "${name}": rebind names argument "${arg}", which is not declared; declare it in requires or optional`,
      );
    }
  }
  return rebind as Rebound;
}

function normalizeProvides(name: string, provides: ProvidesSpec | undefined): ReadonlyMap<string, string | number | null> {
  if (provides === undefined) return NO_ENTRIES;
  const map = new Map<string, string | number | null>();
  if (typeof provides === "string") return map.set(provides, null);
  if (Array.isArray(provides)) {
    provides.forEach((p, i) => {
      if (typeof p !== "string") throw new CompilationFailure(`atom "${name}": provides must list names (strings)`);
      map.set(p, i);
    });
    return map;
  }
  if (typeof provides !== "object" || provides === null) {
    throw new CompilationFailure(`atom "${name}": provides must be a name, a list of names or { name: key }`);
  }
  for (const [sym, key] of Object.entries(provides)) map.set(sym, key as string | number);
  return map;
}
