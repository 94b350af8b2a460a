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
export interface Carried<Provides extends object = {}, Results extends object = {}> {
  readonly provides: Provides;
  readonly results: Results;
}

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

type Types<I> = I extends { readonly "~types"?: infer T } ? (T extends Carried<infer P, infer R> ? Carried<P, R> : Carried) : Carried;

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
