// Type tests of what a flow requires (issue 15, item 1): `run(flow, { store })` is a type error
// naming each name the flow needs that neither the store nor an atom before it provides. Checked
// by `npm test` (tsc -p tsconfig.test.json), never run. Untyped pieces make the check permissive.
import { expectTypeOf } from "vitest";
import * as z from "zod/mini";
import { graphFlow, linearFlow, load, remoteTask, run, sleep, Task, task, Times, unorderedFlow, waitFor, type Needs } from "../../src/index.js";

type NeedsOf<F> = NonNullable<(F & { readonly "~types"?: { readonly needs: unknown } })["~types"]>["needs"];

const price = task({ name: "price", requires: ["nights"], provides: "amount", execute: ({ nights }: { nights: number }) => nights * 80 });
const charge = task({
  name: "charge",
  requires: ["amount", "card"],
  provides: "receipt",
  execute: ({ amount, card }: { amount: number; card: string }) => `paid ${amount} with ${card}`,
});
expectTypeOf<NeedsOf<typeof charge>>().toEqualTypeOf<Needs<"amount" | "card", false>>();

// A linear flow needs what no atom before the one requiring it provides.
const trip = linearFlow("trip", price, charge);
expectTypeOf<NeedsOf<typeof trip>>().toEqualTypeOf<Needs<"nights" | "card", false>>();
await run(trip, { store: { nights: 2, card: "4242" } });
await run(trip, { store: { nights: 2, card: "4242", extra: true } });
// @ts-expect-error "card" is missing from the store: { "missing from store": "card" }
await run(trip, { store: { nights: 2 } });
// @ts-expect-error no store at all: "nights" | "card"
await run(trip);
// A store of any names, and a resume (its flow detail has its store), are not checked.
declare const anyStore: Record<string, unknown>;
await run(trip, { store: anyStore });
await run(trip, { flowDetailId: "fd-1" });
// load is not checked: engine.inject may add names before the run.
load(trip);

// An atom requiring a name only a later atom provides needs it from the store.
const backwards = linearFlow("backwards", charge, price);
expectTypeOf<NeedsOf<typeof backwards>>().toEqualTypeOf<Needs<"amount" | "card" | "nights", false>>();
// @ts-expect-error "amount" comes only after charge
await run(backwards, { store: { nights: 2, card: "4242" } });
await run(backwards, { store: { nights: 2, card: "4242", amount: 10 } });

// Nested flows: an inner flow sees the outer atoms before it.
await run(linearFlow("outer", price, linearFlow("inner", charge)), { store: { nights: 1, card: "c" } });
// @ts-expect-error the inner flow runs before price
await run(linearFlow("outer", linearFlow("inner", charge), price), { store: { nights: 1, card: "c" } });

// Unordered and graph flows: what no item provides (the order is not the add order).
expectTypeOf<NeedsOf<ReturnType<typeof graphFlow<[typeof charge, typeof price]>>>>().toEqualTypeOf<Needs<"card" | "nights", false>>();
await run(graphFlow("g", charge, price), { store: { nights: 1, card: "c" } });
// @ts-expect-error "card" is provided by nothing
await run(graphFlow("g", charge, price), { store: { nights: 1 } });
await run(unorderedFlow("u", price), { store: { nights: 1 } });
// @ts-expect-error "nights"
await run(unorderedFlow("u", price, charge), { store: { card: "c", amount: 1 } });

// A single atom is a flow too.
await run(price, { store: { nights: 3 } });
// @ts-expect-error "nights"
await run(price, { store: {} });

// rebind: the storage name is what is needed; inject: an injected argument is not needed.
const rebound = task({ name: "rebound", requires: ["card"], rebind: { card: "customerCard" }, execute: ({ card }: { card: string }) => card });
expectTypeOf<NeedsOf<typeof rebound>>().toEqualTypeOf<Needs<"customerCard", false>>();
await run(rebound, { store: { customerCard: "c" } });
// @ts-expect-error the store names the argument, not the storage name
await run(rebound, { store: { card: "c" } });
const injected = task({ name: "injected", requires: ["amount", "card"], inject: { card: "test" }, execute: ({ amount }: { amount: number; card: string }) => amount });
expectTypeOf<NeedsOf<typeof injected>>().toEqualTypeOf<Needs<"amount", false>>();
await run(injected, { store: { amount: 1 } });
// Optional arguments are not needed.
const withDefault = task({ name: "d", requires: ["a"], optional: { b: 1 }, execute: ({ a, b }: { a: number; b?: number }) => a + (b ?? 0) });
expectTypeOf<NeedsOf<typeof withDefault>>().toEqualTypeOf<Needs<"a", false>>();

// Waits and sleeps provide their names.
const quote = linearFlow("quote", waitFor("nights", { schema: z.number() }), price, sleep("nap", "1s", { provides: "wokeAt" }), task({ name: "late", requires: ["wokeAt"], execute: ({ wokeAt }: { wokeAt: number }) => wokeAt }));
expectTypeOf<NeedsOf<typeof quote>>().toEqualTypeOf<Needs<never, false>>();
await run(quote);

// Untyped pieces never cause an error. After a Task subclass without its Needs (it may provide
// anything), nothing is needed; before it, what is needed still is.
class Lookup extends Task<{}, number> {
  constructor() {
    super({ provides: "amount" });
  }
  execute(): number {
    return 1;
  }
}
await run(linearFlow("open", new Lookup(), charge));
// @ts-expect-error "nights" is needed before the subclass runs
await run(linearFlow("open", price, new Lookup(), charge));
await run(graphFlow("open", charge, new Lookup()));
// A subclass that states its Needs is checked.
class Pay extends Task<{ amount: number }, string, { receipt: string }, "Pay", Needs<"amount", false>> {
  constructor() {
    super({ requires: ["amount"], provides: "receipt" });
  }
  execute({ amount }: { amount: number }): string {
    return `paid ${amount}`;
  }
}
// @ts-expect-error "amount"
await run(new Pay(), { store: {} });
// remoteTask, explicit type arguments, a rebind by position, a task's retry, a flow's retry,
// dynamic names: nothing known.
const remote = remoteTask({ name: "remote", requires: ["x"] });
await run(linearFlow("r", remote, charge));
await run(task<{ x: number }, number>({ name: "explicit", requires: ["x"], execute: ({ x }) => x }));
await run(task({ name: "pos", requires: ["card"], rebind: ["c"], execute: ({ card }: { card: string }) => card }), { store: { c: "x" } });
await run(task({ name: "retried", requires: ["card"], retry: new Times(2), execute: ({ card }: { card: string }) => card }));
await run(linearFlow("retried", { retry: new Times(2) }, charge));
declare const names: Array<"card">;
await run(task({ name: "dyn", requires: names, execute: ({ card }: { card: string }) => card }));
declare const dynamicName: string;
await run(linearFlow("dyn", task({ name: "p", provides: dynamicName, execute: () => 1 }), charge), { store: { amount: 1 } });
await run(linearFlow("dyn", waitFor(dynamicName), charge));
// An array's order is unknown to its type: only what none of its items provides is needed.
const steps = [charge, price];
await run(linearFlow("rows", steps), { store: { nights: 1, card: "c" } });
// @ts-expect-error "card"
await run(linearFlow("rows", steps), { store: { nights: 1 } });
