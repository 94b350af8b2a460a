import { describe, expect, it } from "vitest";
import { linearFlow, task } from "../../src/index.js";
import { assertCrashSafe, checkCrashPoints } from "../../src/testing/index.js";
import { crashFlows } from "../contract/crash-flows.js";

describe("crash at every write, then resume", () => {
  for (const engine of ["serial", "parallel"] as const) {
    for (const [shape, makeFlow] of Object.entries(crashFlows)) {
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
