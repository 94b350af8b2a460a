// Type tests: checked by `npm test` (tsc -p tsconfig.test.json), never run.
import { expectTypeOf } from "vitest";
import { Task, task, type TaskContext } from "../../src/index.js";

// A task's arguments are typed by its execute; requires may only name those arguments.
const charge = task({
  name: "charge",
  requires: ["amount"],
  optional: { currency: "EUR" },
  execute: ({ amount, currency }: { amount: number; currency?: string }, ctx) => {
    expectTypeOf(ctx).toEqualTypeOf<TaskContext>();
    expectTypeOf(ctx.signal).toEqualTypeOf<AbortSignal>();
    return `${amount} ${currency}`;
  },
});
expectTypeOf<Parameters<typeof charge.execute>[0]>().toEqualTypeOf<{ amount: number; currency?: string }>();
expectTypeOf<ReturnType<typeof charge.execute>>().toEqualTypeOf<string | Promise<string>>();

task({
  name: "bad",
  // @ts-expect-error "amout" is not an argument of execute
  requires: ["amout"],
  execute: ({ amount }: { amount: number }) => amount,
});

task({
  name: "bad-default",
  // @ts-expect-error a default must have the argument's type
  optional: { amount: "ten" },
  execute: ({ amount }: { amount: number }) => amount,
});

class Double extends Task<{ x: number }, number> {
  constructor() {
    super({ requires: ["x"], provides: "doubled" });
  }
  execute({ x }: { x: number }): number {
    return x * 2;
  }
}
expectTypeOf(new Double().execute({ x: 2 })).toEqualTypeOf<number>();
// @ts-expect-error a class task's arguments are checked too
new Double().execute({ y: 2 });
