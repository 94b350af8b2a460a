import { describe, expect, it } from "vitest";
import { graphFlow, linearFlow, task, unorderedFlow, type FlowItem } from "../../src/index.js";
import { assertCrashSafe, checkCrashPoints } from "../../src/testing/index.js";

const add = (name: string, requires: string[], provides: string) =>
  task({
    name,
    requires,
    provides,
    execute: (args: Record<string, number>) => requires.reduce((s, r) => s + (args[r] as number), 1),
    revert: () => `undid ${name}`,
  });

const shapes: Record<string, () => FlowItem> = {
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

describe("crash at every write, then resume", () => {
  for (const engine of ["serial", "parallel"] as const) {
    for (const [shape, makeFlow] of Object.entries(shapes)) {
      it(`${shape} flow on the ${engine} engine ends as if uninterrupted`, async () => {
        const report = await assertCrashSafe({ makeFlow, store: { x: 1 }, engine: { engine } });
        expect(report.points).toBeGreaterThan(2);
        expect(report.scenarios).toBe(report.points * 2);
      });
    }
  }

  it("reports a task that is not safe to run twice", async () => {
    // A task whose result depends on how often it ran: a crash after its RUNNING write makes it
    // run again with a different result, which the harness must notice.
    let calls = 0;
    const report = await checkCrashPoints({
      makeFlow: () => linearFlow("counter", task({ name: "count", provides: "n", execute: () => ++calls }), task({ name: "after", execute: () => 1 })),
      modes: ["fail"],
    });
    expect(report.problems.length).toBeGreaterThan(0);
    expect(report.problems[0]?.problem).toMatch(/atom "count" result/);
  });
});
