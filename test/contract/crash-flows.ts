// Flows the crash-point harness runs on every backend: a chain, a graph ordered by data, a
// fan-out inside a linear flow, and a failure that reverts a fan-out. Each call builds new tasks.
import { graphFlow, linearFlow, task, unorderedFlow, type FlowItem } from "../../src/index.js";

/** A task whose result is 1 + the sum of what it requires: a resumed run that read a wrong value shows. */
export const add = (name: string, requires: string[], provides: string) =>
  task({
    name,
    requires,
    provides,
    execute: (args: Record<string, number>) => requires.reduce((s, r) => s + (args[r] as number), 1),
    revert: () => `undid ${name}`,
  });

/** The flows, by name; they expect `x` in the store. */
export const crashFlows: Record<string, () => FlowItem> = {
  linear: () => linearFlow("linear", add("a", ["x"], "a"), add("b", ["a"], "b"), add("c", ["b"], "c"), add("d", ["c", "x"], "d")),
  graph: () =>
    graphFlow("graph", add("sum", ["l", "r"], "sum"), add("l", ["x"], "l"), add("r", ["x"], "r"), add("out", ["sum"], "out")),
  nested: () =>
    linearFlow("nested", add("a", ["x"], "a"), unorderedFlow("fan", add("u1", ["a"], "u1"), add("u2", ["a"], "u2")), add("z", ["u1", "u2"], "z")),
  failing: () =>
    linearFlow(
      "failing",
      add("a", ["x"], "a"),
      unorderedFlow("fan", add("u1", ["a"], "u1"), add("u2", ["a"], "u2")),
      task({ name: "boom", requires: ["u1"], execute: () => { throw new Error("Woot!"); }, revert: () => "boom undone" }),
    ),
};
