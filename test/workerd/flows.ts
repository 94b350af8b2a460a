import { linearFlow, task, unorderedFlow, type FlowItem, type Task } from "../../src/index.js";

/**
 * Makes one step of a test flow: a task that provides `name` from `requires`. The host wraps
 * `compute` to count executions in storage and to die where a test asks.
 */
export type StepMaker = (name: string, requires: string[], compute: (args: Record<string, unknown>) => unknown) => Task<any>;

/** The flows a FlowHost can run, by name (a host rebuilds a flow by name to resume it). */
export const FLOWS = {
  /** Four steps in a row; the third ("charge") is the one whose host dies. */
  checkout: (step: StepMaker): FlowItem =>
    linearFlow(
      "checkout",
      step("validate", ["cart"], ({ cart }) => ({ cart, items: 3 })),
      step("reserve", ["validate"], ({ validate }) => `held ${(validate as { items: number }).items} items`),
      step("charge", ["validate", "price"], ({ price }) => ({ receipt: "R-1", amount: price })),
      step("email", ["reserve", "charge"], ({ charge }) => `sent receipt ${(charge as { receipt: string }).receipt}`),
    ),
  /** A split, three workers that the parallel engine runs at once, and a join. */
  fanOut: (step: StepMaker): FlowItem =>
    linearFlow(
      "fan-out",
      step("split", ["cart"], ({ cart }) => [`${cart}/1`, `${cart}/2`, `${cart}/3`]),
      unorderedFlow(
        "workers",
        ...[0, 1, 2].map((i) => step(`worker${i}`, ["split"], ({ split }) => `packed ${(split as string[])[i]}`)),
      ),
      step("join", ["worker0", "worker1", "worker2"], (args) => [args.worker0, args.worker1, args.worker2].join(", ")),
    ),
} satisfies Record<string, (step: StepMaker) => FlowItem>;

export type FlowName = keyof typeof FLOWS;

/** The store every test flow starts with. */
export const STORE = { cart: "cart-7", price: 90 };

export const stepTask = (name: string, requires: string[], execute: (args: Record<string, unknown>) => unknown): Task<any> =>
  task({ name, requires, provides: name, execute: (args: Record<string, unknown>) => execute(args) });
