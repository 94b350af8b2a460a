import { describe, expect, it } from "vitest";
import { linearFlow, MemoryBackend, sleep, task, type Backend, type LockService, type MemoryDump } from "../../src/index.js";
import { memoryBackendFromDump } from "../../src/backend.js";
import { assertCrashSafe, checkCrashPoints, ManualClock } from "../../src/testing/index.js";
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

// Issue 12: the same with the flow's lock in place, each engine taking it in the lock service of
// the backend it runs on; the host that died at a write took its process's locks with it, and
// the resumed engine, on the backend read back, takes the flow's lock anew.
describe("crash at every write with the flow's lock held, then resume", () => {
  for (const engine of ["serial", "parallel"] as const) {
    for (const [shape, makeFlow] of Object.entries(crashFlows)) {
      it(`${shape} flow on the ${engine} engine ends as if uninterrupted`, async () => {
        let current: MemoryBackend | undefined;
        const acquired: string[] = [];
        const lock: LockService = {
          acquire: (name, options) => (acquired.push(name), (current as MemoryBackend).locks.acquire(name, options)),
        };
        const report = await assertCrashSafe({
          makeFlow,
          store: { x: 1 },
          engine: { engine, lock },
          makeBackend: () => (current = new MemoryBackend()),
          reopen: (backend: Backend) => (current = memoryBackendFromDump(JSON.parse(JSON.stringify((backend as MemoryBackend).dump())) as MemoryDump)),
        });
        expect(report.scenarios).toBe(report.points * 2);
        expect(acquired.length).toBeGreaterThanOrEqual(report.scenarios); // every run, first or resumed, held the lock
        expect(new Set(acquired).size).toBe(1); // one flow: one lock name, the flow detail's
      });
    }
  }
});

describe("crash scenarios compare equal what only differs between runs", () => {
  it("gives every scenario the same ids: a result holding ctx.idempotencyKey (as the README recommends) is no problem", async () => {
    const report = await checkCrashPoints({
      makeFlow: () =>
        linearFlow("keyed", task({ name: "a", provides: "key", execute: (_args, ctx) => ctx.idempotencyKey }), task({ name: "b", requires: ["key"], execute: ({ key }: { key: string }) => `sent with ${key}` })),
    });
    expect(report.problems).toEqual([]);
    expect(report.scenarios).toBeGreaterThan(4);
  });

  it("gives every scenario its own copy of a ManualClock: a sleep's wake-up time is no problem", async () => {
    const clock = new ManualClock(1_000, { autoAdvance: true });
    const report = await checkCrashPoints({
      makeFlow: () => linearFlow("nap", task({ name: "a", execute: () => 1 }), sleep("nap", 60_000, { provides: "woke" }), task({ name: "b", requires: ["woke"], execute: ({ woke }: { woke: number }) => woke })),
      engine: { clock },
    });
    expect(report.problems).toEqual([]);
    expect(clock.now()).toBe(1_000); // the given clock itself is left alone
  });

  it("still reports a result that differs for another reason", async () => {
    let calls = 0;
    const report = await checkCrashPoints({
      makeFlow: () => linearFlow("keyed", task({ name: "a", provides: "key", execute: (_args, ctx) => `${ctx.idempotencyKey}#${++calls}` }), task({ name: "b", execute: () => 1 })),
      modes: ["fail"],
    });
    expect(report.problems.map((p) => p.problem)).toContainEqual(expect.stringMatching(/^atom "a" result/));
  });
});

describe("normalize", () => {
  it("compares results as normalize returns them, for what differs between runs for a reason of the flow's own", async () => {
    let stamp = 0;
    const makeFlow = () => linearFlow("stamped", task({ name: "a", provides: "x", execute: () => ({ value: 1, at: ++stamp }) }), task({ name: "b", execute: () => 1 }));
    expect((await checkCrashPoints({ makeFlow, modes: ["fail"] })).problems).not.toEqual([]);
    const normalize = (result: unknown, atom: string) => (atom === "a" ? { ...(result as object), at: 0 } : result);
    expect((await checkCrashPoints({ makeFlow, modes: ["fail"], normalize })).problems).toEqual([]);
  });
});
