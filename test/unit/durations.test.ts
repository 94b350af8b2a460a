/**
 * Durations (issue 11, items 5 and 6): a duration that cannot be stored or makes no sense (NaN,
 * Infinity, negative) is refused when the atom is built, with its name; a long delay (past
 * setTimeout's 2^31−1 ms) is chunked by the system clock instead of firing at once. Everything
 * else here reads time from a ManualClock; the system clock tests watch a short real window with
 * a spy on setTimeout and assert no timing, only what was scheduled and what did not happen.
 */
import { describe, expect, it } from "vitest";
import {
  backoffDelay,
  CompilationFailure,
  linearFlow,
  load,
  MemoryBackend,
  sleep,
  sleepUntil,
  task,
  Times,
  waitFor,
  type Backoff,
} from "../../src/index.js";
import { ManualClock } from "../../src/testing/index.js";

const DAY = 86_400_000;
const bad = [NaN, Infinity, -Infinity, -1];

describe("a duration that cannot be stored or makes no sense is refused when the atom is built", () => {
  it.each(bad)("sleep(name, %s) throws CompilationFailure naming the sleep", (ms) => {
    const error = (() => {
      try {
        sleep("nap", ms);
      } catch (e) {
        return e as Error;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(CompilationFailure);
    expect(error?.name).toBe("CompilationFailure");
    expect(error?.message).toMatch(/sleep "nap": ms must be a finite number ≥ 0, got -?(NaN|Infinity|1)/);
  });

  it.each([NaN, Infinity, -Infinity])("sleepUntil(name, %s) and an invalid Date are refused", (at) => {
    expect(() => sleepUntil("then", at)).toThrow(/sleep "then": at must be a finite time/);
    expect(() => sleepUntil("then", new Date(at))).toThrow(CompilationFailure);
  });

  it.each(bad)("waitFor(name, { timeoutMs: %s }) throws CompilationFailure naming the wait", (timeoutMs) => {
    expect(() => waitFor("code", { timeoutMs })).toThrow(CompilationFailure);
    expect(() => waitFor("code", { timeoutMs })).toThrow(/wait "wait:code": timeoutMs must be a finite number ≥ 0/);
  });

  it.each(bad)("task({ timeoutMs: %s }) throws CompilationFailure naming the task", (timeoutMs) => {
    expect(() => task({ name: "call", timeoutMs, execute: () => 1 })).toThrow(/task "call": timeoutMs must be a finite number ≥ 0/);
  });

  it.each<[string, Backoff]>([
    ["maxMs Infinity", { initialMs: 1, maxMs: Infinity }],
    ["maxMs NaN", { initialMs: 1, maxMs: NaN }],
    ["rate Infinity", { initialMs: 1, rate: Infinity }],
    ["rate NaN", { initialMs: 1, rate: NaN }],
    ["initialMs Infinity", { initialMs: Infinity }],
    ["initialMs -1", { initialMs: -1 }],
  ])("a retry's backoff with %s is refused, on a retry and on a task's retry shorthand", (_what, backoff) => {
    expect(() => new Times(3, { name: "r", backoff })).toThrow(CompilationFailure);
    expect(() => task({ name: "t", retry: { attempts: 3, backoff }, execute: () => 1 })).toThrow(/retry "t_retry": backoff/);
  });

  it("zero and finite durations are accepted", () => {
    expect(() => [sleep("a", 0), sleep("b", 30 * DAY), sleepUntil("c", 0), waitFor("d", { timeoutMs: 0 }), task({ name: "e", timeoutMs: 0, execute: () => 1 })]).not.toThrow();
  });

  it("an exponential backoff of many retries stays a finite, storable delay", () => {
    const delay = backoffDelay({ initialMs: 1000 }, 5000, () => 0.5);
    expect(Number.isFinite(delay)).toBe(true);
    expect(Number.isFinite(backoffDelay({ initialMs: 1000, jitter: "full" }, 5000, () => 0.5))).toBe(true);
  });

  it("a retry whose backoff grows past every number stores a wake-up time the log book reads back", async () => {
    const clock = new ManualClock(0);
    const backend = new MemoryBackend();
    let calls = 0;
    const flaky = task({ name: "flaky", execute: () => (++calls < 4 ? Promise.reject(new Error("no")) : "ok") });
    // 1 ms, then 1e300 ms, then 1e600 ms: Infinity unless the delay is capped.
    const flow = () => linearFlow("f", { retry: new Times(5, { backoff: { initialMs: 1, rate: 1e300 } }) }, flaky);
    const engine = load(flow(), { backend, clock, maxWaitMs: 0 });
    await engine.run();
    for (let i = 0; i < 5 && engine.storage.flowState === "SUSPENDED"; i++) {
      const at = engine.nextWakeup();
      expect(Number.isFinite(at)).toBe(true);
      // What the engine wrote, a new engine reads back.
      await load(flow(), { backend, clock, flowDetailId: engine.flowDetailId }).prepare();
      clock.set(at as number);
      await engine.run();
    }
    expect(calls).toBe(4);
    expect(engine.storage.flowState).toBe("SUCCESS");
  });

  it("nothing reaches the log book: the flow cannot be built", async () => {
    const backend = new MemoryBackend();
    expect(() => load(linearFlow("f", task({ name: "a", execute: () => 1 }), sleep("s", Infinity)), { backend })).toThrow(CompilationFailure);
    expect(await backend.listLogBooks()).toEqual([]);
  });
});
