/**
 * One runner per flow (issue 12), in one process: the flow's lock keeps two engines on one flow
 * detail apart, and the backend's fencing tokens refuse the writes of a runner that lost its
 * lock without knowing it (a frozen tab, a paused isolate).
 */
import { describe, expect, it } from "vitest";
import {
  linearFlow,
  load,
  LockHeld,
  LockLost,
  MemoryBackend,
  MemoryLockService,
  task,
  type Engine,
  type FlowDetail,
} from "../../src/index.js";
import { ENGINES, rejection } from "./helpers.js";

/** Lets pending promise callbacks and timers run until `done()` holds. */
async function until(done: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (done()) return;
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** a, b (which waits for `release` on its first execution), c: every execution counted. */
function counted() {
  const executed: string[] = [];
  let release: (() => void) | undefined;
  const step = (name: string) => task({ name, provides: name, execute: () => (executed.push(name), name) });
  const b = task({
    name: "b",
    provides: "b",
    execute: async () => {
      executed.push("b");
      if (executed.filter((n) => n === "b").length === 1) await new Promise<void>((resolve) => (release = resolve));
      return "b";
    },
  });
  return { flow: () => linearFlow("order", step("a"), b, step("c")), executed, release: () => release?.() };
}

const states = (engine: Engine) => Object.fromEntries(engine.storage.atomDetails().map((d) => [d.name, d.state]));

describe.each(ENGINES)("%s engine", (kind) => {
  it("two engines on one flow detail: the second waits for the first, every task executes once, both see the same end", async () => {
    const backend = new MemoryBackend();
    const { flow, executed, release } = counted();
    const first = load(flow(), { backend, engine: kind });
    await first.save();
    const second = load(flow(), { backend, engine: kind, flowDetailId: first.flowDetailId });
    const one = first.run();
    await until(() => executed.includes("b"), "b to start");
    const two = second.run(); // waits for the lock
    release();
    await Promise.all([one, two]);
    expect(executed).toEqual(["a", "b", "c"]);
    expect(first.storage.flowState).toBe("SUCCESS");
    expect(second.storage.flowState).toBe("SUCCESS");
    expect(states(second)).toEqual(states(first));
    expect(second.storage.fetchAll()).toEqual({ a: "a", b: "b", c: "c" });
  });

  it("with waitForLock: false the second fails at once with LockHeld and writes nothing", async () => {
    const backend = new MemoryBackend();
    const { flow, executed, release } = counted();
    const first = load(flow(), { backend, engine: kind });
    await first.save();
    const one = first.run();
    await until(() => executed.includes("b"), "b to start");
    const before = JSON.stringify(backend.dump());
    const second = load(flow(), { backend, engine: kind, flowDetailId: first.flowDetailId, waitForLock: false });
    const error = await rejection(second.run());
    expect(error).toBeInstanceOf(LockHeld);
    expect(error.message).toMatch(/held by another runner/);
    expect(JSON.stringify(backend.dump())).toBe(before);
    release();
    await one;
    expect(executed).toEqual(["a", "b", "c"]);
  });

  it("a runner that lost its lock without knowing it (frozen) cannot write: its commit is refused with LockLost and it executes nothing more", async () => {
    const backend = new MemoryBackend();
    const locks = new MemoryLockService();
    const { flow, executed, release } = counted();
    const frozen = load(flow(), { backend, engine: kind, lock: locks });
    await frozen.save();
    const one = frozen.run();
    void one.catch(() => undefined);
    await until(() => executed.includes("b"), "b to start");
    // The holder freezes; its lock is released behind its back and another runner takes over.
    locks.breakLock(`taskflow:flow:${frozen.flowDetailId}`, { notify: false });
    const next = load(flow(), { backend, engine: kind, lock: locks, flowDetailId: frozen.flowDetailId });
    await next.run(); // b was RUNNING: it runs again here (at least once), then c
    expect(executed).toEqual(["a", "b", "b", "c"]);
    const finished = JSON.stringify(backend.dump());

    release(); // the frozen runner wakes: its b ends, and it tries to write
    const error = await rejection(one);
    expect(error).toBeInstanceOf(LockLost);
    expect(error.message).toMatch(/taken over by a newer runner \(token 2\); this runner's write \(token 1\) was refused/);
    expect(executed).toEqual(["a", "b", "b", "c"]);
    expect(JSON.stringify(backend.dump())).toBe(finished);
    expect(((await backend.getFlowDetail(next.flowDetailId)) as FlowDetail).state).toBe("SUCCESS");
  });

  it("a runner told that its lock is lost stops: its running task's signal aborts, the run rejects with LockLost, nothing more is written", async () => {
    const backend = new MemoryBackend();
    const locks = new MemoryLockService();
    const signals: AbortSignal[] = [];
    const executed: string[] = [];
    const flow = linearFlow(
      "order",
      task({ name: "a", execute: () => void executed.push("a") }),
      task({
        name: "b",
        execute: (_args, ctx) => {
          executed.push("b");
          signals.push(ctx.signal);
          return new Promise((_resolve, reject) => ctx.signal.addEventListener("abort", () => reject(ctx.signal.reason as Error), { once: true }));
        },
      }),
      task({ name: "c", execute: () => void executed.push("c") }),
    );
    const engine = load(flow, { backend, engine: kind, lock: locks });
    const running = engine.run();
    await until(() => signals.length === 1, "b to start");
    const before = JSON.stringify(backend.dump());
    locks.breakLock(`taskflow:flow:${engine.flowDetailId}`);
    const error = await rejection(running);
    expect(error).toBeInstanceOf(LockLost);
    expect(error.message).toMatch(/lost its lock/);
    expect(signals[0]?.aborted).toBe(true);
    expect(executed).toEqual(["a", "b"]);
    expect(JSON.stringify(backend.dump())).toBe(before);
  });
});

// The backend's side of fencing (claim, refusal, never lowering a token) is in the contract
// suite: test/contract/fencing-contract.ts, run on every backend.
