// The crash-point harness against the Durable Object backend, in workerd (each case runs its flow
// once per write and per way of dying: seconds, so each has a timeout of its own): the host dies at each
// write (the write fails, or never returns), the Durable Object is evicted, and the flow resumes
// from what a fresh instance of the object reads back from its storage.
import { describe, expect, it } from "vitest";
import { graphFlow, linearFlow, task, unorderedFlow, type Backend, type FlowItem, type LockService } from "../../src/index.js";
import { assertCrashSafe } from "../../src/testing/index.js";
import { HostedBackend } from "./hosted-backend.js";

const add = (name: string, requires: string[], provides: string) =>
  task({
    name,
    requires,
    provides,
    execute: (args: Record<string, number>) => requires.reduce((sum, r) => sum + (args[r] as number), 1),
    revert: () => `undid ${name}`,
  });

const flows: Record<string, () => FlowItem> = {
  linear: () => linearFlow("linear", add("a", ["x"], "a"), add("b", ["a"], "b"), add("c", ["b"], "c"), add("d", ["c", "x"], "d")),
  "fan-out and in": () =>
    graphFlow("fan", add("l", ["x"], "l"), add("m", ["x"], "m"), add("r", ["x"], "r"), add("sum", ["l", "m", "r"], "sum")),
  "failing, reverted": () =>
    linearFlow(
      "failing",
      add("a", ["x"], "a"),
      unorderedFlow("both", add("u1", ["a"], "u1"), add("u2", ["a"], "u2")),
      task({ name: "boom", requires: ["u1", "u2"], execute: () => { throw new Error("card declined"); }, revert: () => "nothing to undo" }),
    ),
};

describe("crash at every write on a Durable Object, evict it, resume", () => {
  for (const engine of ["serial", "parallel"] as const) {
    for (const [shape, makeFlow] of Object.entries(flows)) {
      it(`${shape} on the ${engine} engine ends as if uninterrupted`, { timeout: 60_000 }, async () => {
        const report = await assertCrashSafe({
          makeFlow,
          store: { x: 1 },
          engine: { engine },
          makeBackend: () => HostedBackend.fresh(),
          reopen: (backend: Backend) => (backend as HostedBackend).evict(),
        });
        expect(report.points).toBeGreaterThanOrEqual(3);
        expect(report.scenarios).toBe(report.points * 2);
      });
    }
  }
});

// The same with the flow's lock in place: each engine takes it in the object's own lock service
// (the harness's fault-injecting wrapper does not pass the backend's on, so it is given as the
// engine's), and the resumed engine reaches the object anew: the lease of the host that died
// went with the evicted instance, as it does in production.
describe("crash at every write on a Durable Object with the flow's lock held, evict it, resume", () => {
  for (const engine of ["serial", "parallel"] as const) {
    for (const [shape, makeFlow] of Object.entries(flows)) {
      it(`${shape} on the ${engine} engine ends as if uninterrupted`, { timeout: 60_000 }, async () => {
        let current: HostedBackend | undefined;
        let acquired = 0;
        const lock: LockService = {
          acquire: (name, options) => (acquired++, (current as HostedBackend).locks.acquire(name, options)),
        };
        const report = await assertCrashSafe({
          makeFlow,
          store: { x: 1 },
          engine: { engine, lock },
          makeBackend: () => (current = HostedBackend.fresh()),
          reopen: async (backend: Backend) => (current = await (backend as HostedBackend).evict()),
        });
        expect(report.scenarios).toBe(report.points * 2);
        expect(acquired).toBeGreaterThanOrEqual(report.scenarios);
      });
    }
  }
});
