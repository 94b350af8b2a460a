// What a flow provides and what its atoms return, as types (issue 15, item 1). Types only:
// nothing here is emitted, so no app bundles a byte of it. The runtime rules these mirror are in
// src/atoms/atom.ts (normalizeProvides: a name, names by index, or `{ name: key }`) and
// src/storage/storage.ts (fetch: injected values first; fetchAll: a list for a name several
// atoms provide).

/**
 * What a typed atom or flow carries: the names it provides with their types, and its atoms'
 * results by atom name. A phantom: the engine never reads it, and it is never set.
 * @example type T = NonNullable<(typeof flow)["~types"]>["provides"]; // or Provided<typeof flow>
 */
export interface Carried<Provides extends object = {}, Results extends object = {}, N extends Needs = Needs> {
  readonly provides: Provides;
  readonly results: Results;
  readonly needs: N;
}

/**
 * What a typed atom or flow needs from before it (`Names`: the storage names it requires that
 * nothing inside it provides first), and whether it may provide names its type does not show
 * (`Open`: a `Task` subclass, a `remoteTask`, a retry, a dynamic `provides`). The default is an
 * untyped piece: it needs nothing known and may provide anything (`Open` is `boolean`), so it
 * never causes an error.
 * `run(flow, { store })` checks that the store has every name a flow needs.
 * @example
 * class Charge extends Task<{ amount: number }, string, { receipt: string }, "Charge", Needs<"amount", false>> {
 *   constructor() { super({ requires: ["amount"], provides: "receipt" }); }
 *   execute({ amount }: { amount: number }) { return `paid ${amount}`; }
 * }
 */
export interface Needs<Names extends string = never, Open extends boolean = boolean> {
  // Names as a parameter (contravariant) and Open as `boolean` when open, so that the untyped
  // default is the widest: every typed atom or flow is still an `Atom` or a `Flow` (what a flow's
  // items and every host take).
  readonly names: (name: Names) => void;
  readonly open: Open;
}

/** The names a {@link Needs} lists (not exported from the package). */
export type NeedNames<N> = N extends { readonly names: (name: infer X extends string) => void } ? X : never;
/** Whether a {@link Needs} may provide names its type does not show (not exported from the package). */
export type NeedsOpen<N> = N extends { readonly open: false } ? false : true;

/**
 * A name that several atoms provide (or an atom and the store): `fetch` gives one of the values
 * (the store's first, then the first atom's), `fetchAll` a list when more than one has a value.
 * @example const v: FetchAll<{ x: Several<number> }>["x"] = [1, 2]; // number | number[]
 */
export interface Several<T> {
  readonly "~several": T;
}

/** Flattens an intersection of records, for readable hovers and messages. */
type Simplify<T> = { [K in keyof T]: T[K] } & {};

type One<T> = T extends Several<infer V> ? V : T;

/** `{ [name]: V }` for a literal name; nothing for `string` (a name only known at run time). */
type Named<N extends string, V> = string extends N ? {} : { [K in N]: V };

/**
 * What a `provides` spec gives from a result, by the runtime's rule: one name for the whole
 * result; names for its items (`["low", "high"]`); or `{ name: key }` for its properties.
 * @example type P = ProvidedBy<["low", "high"], [number, number]>; // { low: number; high: number }
 */
export type ProvidedBy<Spec, Result> = [Spec] extends [string]
  ? Named<Spec, Result>
  : [Spec] extends [readonly string[]]
    ? ItemsOf<Spec, Result>
    : [Spec] extends [Readonly<Record<string, string | number>>]
      ? { -readonly [K in keyof Spec]: Spec[K] extends keyof Result ? Result[Spec[K]] : unknown }
      : {};

type ItemsOf<Names extends readonly string[], R> = {
  [I in keyof Names as I extends `${number}` ? Names[I] & string : never]: R extends readonly unknown[] ? (I extends keyof R ? R[I] : R[number]) : unknown;
};

/**
 * Two records of provided names as one: a name in both is {@link Several}.
 * @example type M = Merge<{ a: string }, { a: number; b: boolean }>; // { a: Several<string | number>; b: boolean }
 */
export type Merge<A, B> = Simplify<{
  [K in keyof A | keyof B]: K extends keyof A ? (K extends keyof B ? Several<One<A[K]> | One<B[K]>> : A[K]) : K extends keyof B ? B[K] : never;
}>;

type Types<I> = I extends { readonly "~types"?: infer T } ? (T extends Carried<infer P, infer R, infer N> ? Carried<P, R, N> : Carried) : Carried;

/** What one item of a flow factory's arguments carries: an atom, a flow, an array of them, or the options' retry. */
type CarriedBy<I> = 0 extends 1 & I
  ? Carried // any (a generic function's type parameters erased): nothing known, and no recursion
  : I extends { readonly "~types"?: unknown }
  ? Types<I>
  : I extends readonly unknown[]
    ? Fold<I>
    : I extends { readonly retry?: infer R } ? Types<R> : Carried;

/** A union of records as one record (the items of an array of several kinds). */
type Spread<U> = (U extends unknown ? (x: U) => void : never) extends (x: infer I) => void ? Simplify<I> : never;

/**
 * The items' records merged in order: one by one for a tuple (what a call's arguments are), all
 * at once for an array (`rows.map(…)`, `...tasks`), whose order the type does not know.
 */
type Fold<Items extends readonly unknown[], P = {}, R = {}> = Items extends readonly [infer H, ...infer T]
  ? Fold<T, Merge<P, CarriedBy<H>["provides"]>, Merge<R, CarriedBy<H>["results"]>>
  : [Items[number]] extends [never]
    ? Carried<P & {}, R & {}>
    : Carried<Merge<P, Spread<CarriedBy<Items[number]>["provides"]>>, Merge<R, Spread<CarriedBy<Items[number]>["results"]>>>;

/** What a flow factory's arguments carry together (not exported from the package). */
export type CarriedByAll<Items extends readonly unknown[]> = Fold<Items>;

// What a flow needs from before it (issue 15, item 1: `requires` checked where it can be known).
// The runtime rule these mirror is each pattern's `requires` (src/patterns/): in a linear flow an
// atom sees the atoms before it; in an unordered or graph flow the order is not the add order, so
// only what no item provides is needed from outside. An open item (one that may provide names its
// type does not show) makes everything after it, or everything in its set, permissive.

type NamesOf<P> = Extract<keyof P, string>;
/** What one item needs: an atom's or a flow's own, an array's in order, a retry's (open). */
type NeedsOf<I> = 0 extends 1 & I
  ? Needs
  : I extends { readonly "~types"?: unknown }
    ? Types<I>["needs"]
    : I extends readonly unknown[]
      ? InOrder<I>
      : I extends { readonly retry: infer R } ? Types<R>["needs"] : I extends object ? Needs<never, false> : Needs;
type Opens<I> = true extends NeedsOpen<NeedsOf<I>> ? true : false;
type NeedsBy<I> = NeedNames<NeedsOf<I>>;

/** In order (a linear flow, and a tuple): a name is needed when no item before it provides it. */
type InOrder<Items extends readonly unknown[], Need extends string = never, Have = never, Open extends boolean = false> = Items extends readonly [infer H, ...infer T]
  ? InOrder<T, Need | (Open extends true ? never : Exclude<NeedsBy<H>, Have>), Have | NamesOf<CarriedBy<H>["provides"]>, Open extends true ? true : Opens<H>>
  : [Items[number]] extends [never]
    ? Needs<Need, Open extends true ? boolean : false>
    : Needs<Need | (Open extends true ? never : Opens<Items[number]> extends true ? never : Exclude<NeedsBy<Items[number]>, Have | Each<Items[number]>>), Open extends true ? boolean : Opens<Items[number]> extends true ? boolean : false>;

type Each<U> = U extends unknown ? NamesOf<CarriedBy<U>["provides"]> : never;

/** In any order (an unordered or graph flow): a name is needed when no item provides it. */
type AsSet<Items extends readonly unknown[]> = Opens<Items[number]> extends true ? Needs : Needs<Exclude<NeedsBy<Items[number]>, Each<Items[number]>>, false>;

/** What a linear flow's arguments need from before it (not exported from the package). */
export type NeedsInOrder<Items extends readonly unknown[]> = InOrder<Items>;

/** What an unordered or graph flow's arguments need from before it (not exported from the package). */
export type NeedsAsSet<Items extends readonly unknown[]> = AsSet<Items>;

/** What a `provides` spec may provide beyond its type: a name only known at run time (not exported from the package). */
export type OpenBy<Spec> = undefined extends Spec
  ? false // none written (an inferred task's default), or none at all
  : [Spec] extends [string]
    ? string extends Spec ? boolean : false
    : [Spec] extends [readonly string[]]
      ? string extends Spec[number] ? boolean : false
      : [Spec] extends [Readonly<Record<string, string | number>>]
        ? string extends keyof Spec ? boolean : false
        : boolean;

/**
 * The names a typed flow (or atom) provides, with their types: what `fetch` returns after a run
 * that ended SUCCESS.
 * @example
 * const flow = linearFlow("f", task({ name: "a", provides: "x", execute: () => 1 }));
 * type P = Provided<typeof flow>; // { x: number }
 */
export type Provided<F> = Types<F>["provides"];

/**
 * The results of a typed flow's atoms, by atom name: what `getResult` returns.
 * @example
 * const flow = linearFlow("f", task({ name: "a", execute: () => "done" }));
 * type R = Results<typeof flow>; // { a: string }
 */
export type Results<F> = Types<F>["results"];

/**
 * What `fetchAll` (and `run(flow)`) returns for a flow providing `P`: every name it provides with
 * its value (a list for a name several atoms provided), and any other injected name, unknown.
 * @example const all: FetchAll<{ receipt: string }> = { receipt: "paid", coupon: "SPRING" };
 */
export type FetchAll<P> = { [K in keyof P]: P[K] extends Several<infer V> ? V | V[] : P[K] } & { [name: string]: unknown };

/** The value `fetch` returns for a provided name (not exported from the package). */
export type Fetched<T> = One<T>;

/** What an atom named `N` returning `V` adds to a flow's results (not exported from the package). */
export type ResultNamed<N extends string, V> = Named<N, V>;

/** The store's names, unless it is a record of any names (then it adds none; not exported from the package). */
export type StoreNames<S> = string extends keyof S ? {} : { -readonly [K in keyof S]: S[K] };

type Literal<S> = S extends string ? (string extends S ? never : S) : never;
type ArgNames<Q> = Q extends readonly unknown[] ? (number extends Q["length"] ? never : Literal<Q[number]>) : never;
/** The storage name of each argument: its `rebind` (an object written as a literal), else itself. */
type Bound<E, B> = undefined extends B ? E : B extends readonly unknown[] ? never : E extends keyof B ? Literal<B[E]> : E;

/**
 * What a task built by `task` needs (not exported from the package): the storage names of its
 * `requires` (a literal list), less its injected arguments, through its `rebind`. Nothing known
 * when its type arguments were written (the name is then `string`), or with a `retry` (whose
 * values it may read); a `rebind` by position makes it permissive too. `Q`, `B`, `I`, `Rt` are the
 * spec's requires, rebind, inject and retry as written (`undefined` among them: not written).
 */
export type TaskNeeds<N extends string, P, Q, B, I, Rt> = string extends N
  ? Needs
  : undefined extends Rt
    ? Needs<Bound<Exclude<ArgNames<Q>, undefined extends I ? never : keyof I>, B>, OpenBy<P>>
    : Needs;

/**
 * What `run(flow, { store })` requires of its flow (not exported from the package): nothing, or
 * a property naming each name the flow needs that the store lacks, which no flow has, so the call
 * is a type error that names them. Nothing is checked on a resume (`D`, a `flowDetailId`: the
 * stored flow detail has its own store) or with a store of any names.
 */
export type StoreCheck<F, S, D> = [D] extends [undefined] ? Lacking<string extends keyof S ? never : Exclude<NeedNames<Types<F>["needs"]>, keyof S>> : {};
type Lacking<M> = [M] extends [never] ? {} : { readonly "missing from store": M };
