// Type tests of typed flows (issue 15, item 1): checked by `npm test` (tsc -p tsconfig.test.json), never run.
import { expectTypeOf } from "vitest";
import * as z from "zod/mini";
import { graphFlow, linearFlow, load, printingListener, run, sleep, sleepUntil, Task, task, Times, unorderedFlow, waitFor, type Engine, type FetchAll, type GraphFlow, type Flow, type Provided, type Results } from "../../src/index.js";

interface Receipt { id: string; amount: number }

const book = task({
  name: "book",
  requires: ["guest"],
  provides: "booking",
  execute: ({ guest }: { guest: string }) => ({ id: "B-1", guest }),
});
const pay = task({
  name: "pay",
  requires: ["booking", "price"],
  provides: "receipt",
  execute: async ({ price }: { booking: { id: string }; price: number }): Promise<Receipt> => ({ id: "R-1", amount: price }),
});
const trip = linearFlow("trip", book, pay);
expectTypeOf<Provided<typeof trip>>().toEqualTypeOf<{ booking: { id: string; guest: string }; receipt: Receipt }>();
expectTypeOf<Results<typeof trip>>().toEqualTypeOf<{ book: { id: string; guest: string }; pay: Receipt }>();

const engine = load(trip, { store: { guest: "ada", price: 90 } });
expectTypeOf(engine.storage.fetch("receipt")).toEqualTypeOf<Receipt>();
expectTypeOf(engine.storage.fetch("guest")).toEqualTypeOf<string>();
expectTypeOf(engine.storage.fetch("other")).toEqualTypeOf<unknown>();
expectTypeOf(engine.storage.getResult("pay")).toEqualTypeOf<Receipt>();
expectTypeOf(engine.storage.fetchAll().receipt).toEqualTypeOf<Receipt>();
const e2: Engine = engine;
void e2;

const split = task({ name: "split", provides: ["low", "high"], execute: (): [number, string] => [1, "9"] });
const parts = task({ name: "parts", provides: { first: "a", second: "b" }, execute: () => ({ a: 1, b: true }) });
const nights = waitFor("nights", { schema: z.number() });
const all = unorderedFlow("u", [split, parts], nights);
expectTypeOf<Provided<typeof all>>().toEqualTypeOf<{ low: number; high: string; first: number; second: boolean; nights: number }>();
const results = await run(graphFlow("g", all), { store: { x: 1 } });
expectTypeOf(results.nights).toEqualTypeOf<number>();
expectTypeOf(results.x).toEqualTypeOf<number>();

// A name two atoms provide is Several: fetch gives one value, fetchAll one or a list.
const first = task({ name: "first", provides: "x", execute: () => 1 });
const second = task({ name: "second", provides: "x", execute: () => "two" });
const twice = load(linearFlow("twice", first, second));
expectTypeOf(twice.storage.fetch("x")).toEqualTypeOf<number | string>();
expectTypeOf(twice.storage.fetchAll().x).toEqualTypeOf<number | string | Array<number | string>>();
// The store's value wins over an atom's (fetch), and both are listed (fetchAll).
const stored = load(linearFlow("s", first), { store: { x: true } });
expectTypeOf(stored.storage.fetch("x")).toEqualTypeOf<boolean | number>();

// Sleeps provide their wake-up time; a wait can provide under another name.
const nap = sleep("nap", 1000, { provides: "wokeAt" });
const code = waitFor("code", { schema: z.string(), provides: "verificationCode" });
const signup = linearFlow("signup", nap, code, sleepUntil("eve", 0));
expectTypeOf<Provided<typeof signup>>().toEqualTypeOf<{ wokeAt: number; verificationCode: string }>();
expectTypeOf<Results<typeof signup>>().toEqualTypeOf<{ nap: number; "wait:code": string; eve: number }>();
expectTypeOf<Provided<ReturnType<typeof waitFor<unknown, "free">>>>().toEqualTypeOf<{ free: unknown }>();

// Nested flows, arrays and options: everything inside is carried.
const rows = [1, 2, 3].map((i) => task({ name: `row-${i}`, provides: "row", execute: () => i }));
const nested = linearFlow("outer", { retry: new Times(2) }, linearFlow("inner", rows), unorderedFlow("u2", [book]));
expectTypeOf<Provided<typeof nested>>().toEqualTypeOf<{ row: number; booking: { id: string; guest: string } }>();

// Untyped atoms (a class without its Provides, a task with explicit arguments only) add nothing,
// and a flow of them reads like before: every name unknown.
class Double extends Task<{ x: number }, number> {
  constructor() {
    super({ requires: ["x"], provides: "doubled" });
  }
  execute({ x }: { x: number }): number {
    return x * 2;
  }
}
const loose = load(linearFlow("loose", new Double(), task<{ x: number }, number>({ name: `dyn-${Date.now()}`, provides: `y`, execute: ({ x }) => x })));
expectTypeOf(loose.storage.fetch("doubled")).toEqualTypeOf<unknown>();
expectTypeOf(loose.storage.fetchAll()).toEqualTypeOf<FetchAll<{}>>();
class Typed extends Task<{ x: number }, number, { doubled: number }, "Typed"> {
  constructor() {
    super({ requires: ["x"], provides: "doubled" });
  }
  execute({ x }: { x: number }): number {
    return x * 2;
  }
}
expectTypeOf(load(linearFlow("typed", new Typed())).storage.fetch("doubled")).toEqualTypeOf<number>();

// A typed engine is an Engine: hosts and listeners taking any engine take it.
const anyEngine: Engine = load(trip);
void anyEngine;
printingListener(load(trip), () => {});
// An untyped Flow (a factory's return type) still loads; every value unknown.
declare const someFlow: Flow;
expectTypeOf(load(someFlow).storage.fetch("receipt")).toEqualTypeOf<unknown>();
// A store typed as any record adds no names.
declare const anyStore: Record<string, unknown>;
expectTypeOf(load(trip, { store: anyStore }).storage.fetch("receipt")).toEqualTypeOf<Receipt>();

// No `any` leaks into a typed flow's results.
type IsAny<T> = 0 extends 1 & T ? true : false;
expectTypeOf<IsAny<ReturnType<typeof engine.storage.fetch<"receipt">>>>().toEqualTypeOf<false>();
expectTypeOf<IsAny<(typeof results)["nights"]>>().toEqualTypeOf<false>();

// Spread arguments and arrays of several kinds: what every item provides, order unknown.
const many = [book, pay];
expectTypeOf<Provided<ReturnType<typeof linearFlow<typeof many>>>>().toEqualTypeOf<{ booking: { id: string; guest: string }; receipt: Receipt }>();
const spread = linearFlow("spread", { retry: new Times(2) }, ...many);
expectTypeOf<Provided<typeof spread>>().toEqualTypeOf<{ booking: { id: string; guest: string }; receipt: Receipt }>();
// A factory's own return type (its items erased to their constraint) is an untyped flow, not a
// type too deep to compute.
expectTypeOf<ReturnType<typeof graphFlow>>().toEqualTypeOf<GraphFlow>();
expectTypeOf<Provided<ReturnType<typeof linearFlow<any[]>>>>().toEqualTypeOf<{}>();
