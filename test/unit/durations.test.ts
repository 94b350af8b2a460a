/**
 * Durations (issue 11, items 5 and 6): a duration that cannot be stored or makes no sense (NaN,
 * Infinity, negative) is refused when the atom is built, with its name; a long delay (past
 * setTimeout's 2^31−1 ms) is chunked by the system clock instead of firing at once. Everything
 * else here reads time from a ManualClock; the system clock tests watch a short real window with
 * a spy on setTimeout and assert no timing, only what was scheduled and what did not happen.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  backoffDelay,
  CompilationFailure,
  InvalidDuration,
  InvalidFormat,
  parseDuration,
  linearFlow,
  load,
  MemoryBackend,
  sleep,
  sleepUntil,
  systemClock,
  task,
  Times,
  waitFor,
  type Backoff,
  type Duration,
} from "../../src/index.js";
import { MemoryJobBoard } from "../../src/jobs/index.js";
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
  ])("a retry's backoff with %s is refused, on a retry, before it is given to a task as its retry", (_what, backoff) => {
    expect(() => new Times(3, { name: "r", backoff })).toThrow(CompilationFailure);
    expect(() => task({ name: "t", retry: new Times(3, { backoff }), execute: () => 1 })).toThrow(/retry "retry": backoff/);
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

describe("long delays: the system clock chunks what setTimeout cannot hold (2^31−1 ms)", () => {
  const realSetTimeout = globalThis.setTimeout;
  /** Lets the real event loop run for `ms` (a window to watch, not a wait for something). */
  const window = (ms: number) => new Promise<void>((resolve) => realSetTimeout(resolve, ms));
  afterEach(() => vi.restoreAllMocks());

  it("systemClock.sleep(30 days) schedules one timer within setTimeout's range and does not fire", async () => {
    const spy = vi.spyOn(globalThis, "setTimeout");
    const stop = new AbortController();
    let fired = false;
    const sleeping = systemClock.sleep(30 * DAY, stop.signal).then(() => (fired = true));
    await window(200);
    const ours = spy.mock.calls.map(([, ms]) => ms);
    expect(fired).toBe(false);
    expect(ours.length).toBeGreaterThanOrEqual(1);
    expect(ours.length).toBeLessThanOrEqual(2);
    for (const ms of ours) expect(ms).toBeLessThanOrEqual(2 ** 31 - 1);
    stop.abort();
    await sleeping;
    expect(fired).toBe(true); // an abort ends it at once, as before
  });

  it("systemClock.sleep(Infinity) waits until aborted", async () => {
    const spy = vi.spyOn(globalThis, "setTimeout");
    const stop = new AbortController();
    let fired = false;
    const sleeping = systemClock.sleep(Infinity, stop.signal).then(() => (fired = true));
    await window(50);
    expect(fired).toBe(false);
    expect(spy.mock.calls.length).toBeLessThanOrEqual(2);
    stop.abort();
    await sleeping;
  });

  it("a task timeoutMs of 30 days does not fire within the window", async () => {
    const spy = vi.spyOn(globalThis, "setTimeout");
    let finish: (v: string) => void = () => undefined;
    const slow = task({ name: "slow", timeoutMs: 30 * DAY, execute: () => new Promise<string>((resolve) => (finish = resolve)) });
    const engine = load(linearFlow("f", slow));
    const running = engine.run().then(() => "ok", (e: unknown) => e);
    await window(200);
    expect(engine.storage.getAtomState("slow")).toBe("RUNNING");
    expect(spy.mock.calls.filter(([, ms]) => (ms ?? 0) > 1000).length).toBeLessThanOrEqual(2);
    finish("done");
    expect(await running).toBe("ok");
    expect(engine.storage.getResult("slow")).toBe("done");
  });

  it("an in-process 30-day sleep schedules a couple of timers, not hundreds, and does not fire", async () => {
    const engine = load(linearFlow("f", sleep("month", 30 * DAY), task({ name: "after", execute: () => 1 })));
    const spy = vi.spyOn(globalThis, "setTimeout");
    const running = engine.run();
    await window(200);
    const calls = spy.mock.calls.length;
    expect(calls).toBeLessThanOrEqual(3);
    expect(engine.storage.getAtomState("after")).toBe("PENDING");
    engine.suspend();
    await running;
    expect(engine.storage.flowState).toBe("SUSPENDED");
  });

  it("the same 30-day sleep under ManualClock fires after 30 days of simulated time, not before", async () => {
    const clock = new ManualClock(0);
    const engine = load(linearFlow("f", sleep("month", 30 * DAY), task({ name: "after", execute: () => 1 })), { clock });
    const running = engine.run();
    for (let i = 0; i < 100 && clock.waiting === 0; i++) await window(0);
    clock.advance(30 * DAY - 1);
    await window(0);
    expect(engine.storage.getAtomState("after")).toBe("PENDING");
    clock.advance(1);
    await running;
    expect(engine.storage.getAtomState("after")).toBe("SUCCESS");
  });
});

describe("ManualClock checks its arguments at run time", () => {
  it("new ManualClock({ autoAdvance: true }) (options first, from plain JavaScript) throws, saying how to call it", () => {
    const Clock = ManualClock as unknown as new (...args: unknown[]) => ManualClock;
    expect(() => new Clock({ autoAdvance: true })).toThrow(InvalidFormat);
    expect(() => new Clock({ autoAdvance: true })).toThrow(/new ManualClock\(0, \{ autoAdvance: true \}\)/);
    expect(() => new Clock(NaN)).toThrow(InvalidFormat);
    expect(() => new Clock(0, "yes")).toThrow(InvalidFormat);
    expect(() => new Clock(0, { autoAdvance: "yes" })).toThrow(/autoAdvance must be true or false/);
  });

  it("advance() and set() refuse a time that is not a finite number", () => {
    const clock = new ManualClock(0);
    expect(() => clock.advance(NaN)).toThrow(InvalidFormat);
    expect(() => clock.advance(-1)).toThrow(InvalidFormat);
    expect(() => clock.set(Infinity)).toThrow(InvalidFormat);
    expect(clock.now()).toBe(0);
  });

  it("the usual forms still work", () => {
    expect(new ManualClock().now()).toBe(0);
    expect(new ManualClock(5, { autoAdvance: true }).now()).toBe(5);
    expect(new ManualClock(5, {}).now()).toBe(5);
  });
});

describe("durations as readable strings (issue 15, item 8)", () => {
  it.each([
    ["250ms", 250], ["0ms", 0], ["30s", 30_000], ["5m", 300_000], ["2h", 7_200_000], ["1.5h", 5_400_000], [".5s", 500],
    ["1 day", DAY], ["3 days", 3 * DAY], ["3days", 3 * DAY], ["1 week", 7 * DAY], ["2 weeks", 14 * DAY], ["1 millisecond", 1],
    ["10 seconds", 10_000], ["1 minute", 60_000], ["4 hours", 4 * 3_600_000], [1234, 1234], [0, 0],
  ] as const)("parseDuration(%j) is %d ms", (input, ms) => {
    expect(parseDuration(input as Duration)).toBe(ms);
  });

  it.each(["", "day", "1 dya", "1hs", "1mss", "-1s", "1  day", " 1s", "1s ", "1 Day", "1e3ms", "Infinity", "one day", "1,5h", "1 days ago"])(
    "refuses %j with InvalidDuration, naming it and the accepted forms",
    (input) => {
      const error = (() => {
        try {
          return parseDuration(input as Duration, 'sleep "nap"');
        } catch (e) {
          return e;
        }
      })();
      expect(error).toBeInstanceOf(InvalidDuration);
      expect(error).toBeInstanceOf(InvalidFormat);
      expect((error as Error).name).toBe("InvalidDuration");
      expect((error as Error).message).toContain(`sleep "nap": ${JSON.stringify(input)} is not a duration`);
      expect((error as Error).message).toMatch(/"250ms", "30s", "5m", "2h", "1 day"/);
    },
  );

  it.each([NaN, -1, Infinity])("refuses the number %s as well", (ms) => {
    expect(() => parseDuration(ms)).toThrow(InvalidDuration);
  });

  it("sleeps a readable duration on the engine's clock, stored as milliseconds", async () => {
    const clock = new ManualClock(0);
    const engine = load(linearFlow("remind", sleep("a-day", "1 day", { provides: "wokeAt" })), { backend: new MemoryBackend(), clock, maxWaitMs: 0 });
    await engine.run();
    expect(engine.state).toBe("SUSPENDED");
    expect(engine.nextWakeup()).toBe(DAY);
    expect(() => sleep("typo", "1 dya" as Duration)).toThrow(/sleep "typo": "1 dya" is not a duration/);
  });

  it("takes a readable duration for a task's timeout, refusing one that is not, naming the task", () => {
    expect(task({ name: "call", timeoutMs: "30s", execute: () => 1 }).timeoutMs).toBe(30_000);
    expect(task({ name: "call", timeoutMs: "2 minutes", execute: () => 1 }).timeoutMs).toBe(120_000);
    expect(task({ name: "call", timeoutMs: 1500, execute: () => 1 }).timeoutMs).toBe(1500);
    expect(task({ name: "call", execute: () => 1 }).timeoutMs).toBeUndefined();
    for (const bad of ["soon", "-1s", "30 secs", ""]) {
      expect(() => task({ name: "call", timeoutMs: bad as Duration, execute: () => 1 })).toThrow(InvalidDuration);
      expect(() => task({ name: "call", timeoutMs: bad as Duration, execute: () => 1 })).toThrow(`task "call": timeoutMs: ${JSON.stringify(bad)} is not a duration`);
    }
  });

  it("times a task out after its readable timeout, on the engine's clock", async () => {
    const clock = new ManualClock(0);
    let signal: AbortSignal | undefined;
    const slow = task({ name: "slow", timeoutMs: "1 minute", execute: (_args, ctx) => { signal = ctx.signal; return new Promise<never>(() => undefined); } });
    const engine = load(linearFlow("f", slow), { backend: new MemoryBackend(), clock });
    const running = engine.run().then(() => undefined, (e: unknown) => e);
    for (let i = 0; i < 100 && clock.waiting === 0; i++) await Promise.resolve();
    expect(clock.waiting).toBeGreaterThan(0);
    clock.advance(59_999);
    await Promise.resolve();
    expect(engine.storage.getAtomState("slow")).toBe("RUNNING");
    clock.advance(1);
    const error = await running;
    expect((error as Error).name).toBe("RequestTimeout");
    expect((error as Error).message).toContain("within 60000 ms");
    expect(signal?.aborted).toBe(true);
  });

  it("takes readable durations for a wait's deadline, a retry's backoff and a claim's lease", async () => {
    expect(waitFor("code", { timeoutMs: "10 minutes" }).timeoutMs).toBe(600_000);
    expect(() => waitFor("code", { timeoutMs: "soon" as Duration })).toThrow(/wait "wait:code": timeoutMs: "soon" is not a duration/);
    const backoff: Backoff = { initialMs: "500ms", maxMs: "1s" };
    expect([1, 2, 3].map((n) => backoffDelay(backoff, n, () => 0))).toEqual([500, 1000, 1000]);
    expect(() => new Times(3, { name: "r", backoff: { initialMs: "fast" as Duration } })).toThrow(/retry "r": backoff initialMs: "fast" is not a duration/);
    const board = new MemoryJobBoard({ clock: new ManualClock(1000), leaseMs: "30s" });
    const job = await board.post({ flow: "f" });
    expect((await board.claim(job.uuid, "c1")).expiresAt).toBe(31_000);
    const other = await board.post({ flow: "g" });
    expect((await board.claim(other.uuid, "c1", { leaseMs: "2 minutes" })).expiresAt).toBe(121_000);
    await expect(board.claim((await board.post({ flow: "h" })).uuid, "c1", { leaseMs: "0s" })).rejects.toThrow(InvalidFormat);
    expect(() => new MemoryJobBoard({ leaseMs: "a while" as Duration })).toThrow(InvalidDuration);
  });
});
