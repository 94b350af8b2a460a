/**
 * Flow control over time (issue 3, beyond TaskFlow): retry backoff, durable timers (`sleep`,
 * `sleepUntil`) that survive a host restart, `nextWakeup()` and the `wait` event, cancellation,
 * task timeouts, offline-aware tasks, and the crash-point harness over flows that wait. Every
 * test reads time from a ManualClock: nothing sleeps for real.
 */
import { describe, expect, it } from "vitest";
import { backoffDelay, Cancelled, captureListener, linearFlow, load, MemoryBackend, RequestTimeout, sleep, sleepUntil, task, Times, unorderedFlow, type AtomEvent, type Backoff, type Clock, type Engine, type EngineOptions, type FlowItem, type HistoryEntry, type MemoryDump, type WaitEvent } from "../../src/index.js";
import { memoryBackendFromDump } from "../../src/backend.js";
import { checkCrashPoints, ManualClock } from "../../src/testing/index.js";
import { ENGINES, failing, progressing, rejection, RuntimeError } from "./helpers.js";

/** Lets pending promise callbacks and timers run until `done()` holds (the engine reached a wait). */
async function until(done: () => boolean, what = "the condition"): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (done()) return;
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** A JSON round trip of a memory backend: what a new host reads after the old one went away. */
function reopen(backend: MemoryBackend): MemoryBackend {
  return memoryBackendFromDump(JSON.parse(JSON.stringify(backend.dump())) as MemoryDump);
}

/** Records the clock time of each transition of the named atoms, as `"name STATE@time"`. */
function timeline(engine: Engine, clock: Clock, states: readonly string[] = ["RUNNING"]): string[] {
  const out: string[] = [];
  engine.on("atom", (e: AtomEvent) => {
    if (states.includes(e.state)) out.push(`${e.name} ${e.state}@${clock.now()}`);
  });
  return out;
}

/** A task that fails unless the retry's value `x` has reached `least`; returns x. */
const succeedsFrom = (name: string, least: number) =>
  task<{ x: number }>({
    name,
    requires: ["x"],
    execute: ({ x }) => {
      if (x < least) throw new RuntimeError("Woot!");
      return x;
    },
  });

describe("backoffDelay", () => {
  it("fixed, exponential, capped and fully jittered delays (Step Functions' retrier fields)", () => {
    const never = () => 0.5;
    expect([1, 2, 3].map((n) => backoffDelay({ initialMs: 1000, rate: 1 }, n, never))).toEqual([1000, 1000, 1000]);
    // The default rate is 2.
    expect([1, 2, 3, 4].map((n) => backoffDelay({ initialMs: 100 }, n, never))).toEqual([100, 200, 400, 800]);
    expect([1, 2, 3, 4, 5].map((n) => backoffDelay({ initialMs: 100, rate: 3, maxMs: 500 }, n, never))).toEqual([100, 300, 500, 500, 500]);
    const randoms = [0, 0.25, 0.999];
    expect([1, 2, 3].map((n) => backoffDelay({ initialMs: 1000, jitter: "full" }, n, () => randoms[n - 1] as number))).toEqual([0, 500, 3996]);
    expect(backoffDelay({ initialMs: 1000, maxMs: 1500, jitter: "full" }, 4, () => 0.5)).toBe(750);
  });

  it.each<[string, Backoff]>([
    ["a negative initialMs", { initialMs: -1 }],
    ["an infinite initialMs", { initialMs: Infinity }],
    ["a rate below 1", { initialMs: 1, rate: 0.5 }],
    ["a negative maxMs", { initialMs: 1, maxMs: -5 }],
    ["an unknown jitter", { initialMs: 1, jitter: "equal" as "full" }],
  ])("refuses %s when the retry is built, naming it", (_what, backoff) => {
    expect(() => new Times(3, { name: "r", backoff })).toThrow(/retry "r": backoff/);
    expect(() => failing("t", { retry: new Times(2, { backoff }) })).toThrow(/retry "retry": backoff/);
  });
});

describe.each(ENGINES)("%s engine", (engine) => {
  const make = (flow: FlowItem, options: EngineOptions = {}) => load(flow, { engine, ...options });

  describe("retry backoff", () => {
    /** Runs a Times(n) flow whose task succeeds from try `least`, with the clock starting at 10 000. */
    async function backoffRun(attempts: number, least: number, backoff: Backoff, random?: () => number) {
      const clock = new ManualClock(10_000, { autoAdvance: true });
      const e = make(linearFlow("f", { retry: new Times(attempts, { name: "r", provides: "x", backoff }) }, succeedsFrom("t", least)), {
        clock,
        ...(random ? { random } : {}),
      });
      const times = timeline(e, clock);
      const wakeAts: Array<number | undefined> = [];
      e.on("atom", (ev) => {
        if (ev.name === "r" && ev.state === "RETRYING") wakeAts.push(e.storage.detail("r").wakeAt);
      });
      let error: Error | undefined;
      await e.run().catch((err: Error) => (error = err));
      return { e, clock, times, wakeAts, error };
    }

    it("a fixed delay (rate 1): each retry waits initialMs, stored as the retry's meta.wakeAt", async () => {
      const { e, times, wakeAts } = await backoffRun(4, 4, { initialMs: 1000, rate: 1 });
      expect(wakeAts).toEqual([11_000, 12_000, 13_000]);
      expect(times).toEqual([
        "r RUNNING@10000", "t RUNNING@10000",
        "r RUNNING@11000", "t RUNNING@11000",
        "r RUNNING@12000", "t RUNNING@12000",
        "r RUNNING@13000", "t RUNNING@13000",
      ]);
      expect(e.storage.fetch("x")).toBe(4);
      expect(e.storage.flowState).toBe("SUCCESS");
    });

    it("an exponential delay with a cap: 100, 300, 500, 500 ms", async () => {
      const { times, wakeAts } = await backoffRun(5, 5, { initialMs: 100, rate: 3, maxMs: 500 });
      expect(wakeAts).toEqual([10_100, 10_400, 10_900, 11_400]);
      expect(times.filter((t) => t.startsWith("r "))).toEqual(["r RUNNING@10000", "r RUNNING@10100", "r RUNNING@10400", "r RUNNING@10900", "r RUNNING@11400"]);
    });

    it("full jitter draws from the engine's random source: a random share of each delay", async () => {
      const draws = [0.25, 0.5, 0.999];
      let i = 0;
      const { times, wakeAts } = await backoffRun(4, 4, { initialMs: 1000, jitter: "full" }, () => draws[i++] as number);
      // 0.25 × 1000, 0.5 × 2000, 0.999 × 4000 (floored).
      expect(wakeAts).toEqual([10_250, 11_250, 15_246]);
      expect(times.filter((t) => t.startsWith("r "))).toEqual(["r RUNNING@10000", "r RUNNING@10250", "r RUNNING@11250", "r RUNNING@15246"]);
      expect(i).toBe(3);
    });

    it("no wait after the last try: the spent retry reverts at once", async () => {
      const { e, clock, error, wakeAts } = await backoffRun(2, 9, { initialMs: 1000 });
      expect(error).toBeInstanceOf(RuntimeError);
      expect(wakeAts).toEqual([11_000]);
      expect(clock.now()).toBe(11_000);
      expect(e.storage.getAtomState("r")).toBe("REVERTED");
    });

    it("with a manual clock, the retry waits until the clock reaches its wakeAt, not a moment earlier", async () => {
      const clock = new ManualClock(0);
      const e = make(linearFlow("f", { retry: new Times(3, { name: "r", provides: "x", backoff: { initialMs: 5_000 } }) }, succeedsFrom("t", 2)), { clock });
      const times = timeline(e, clock);
      const running = e.run();
      await until(() => clock.waiting === 1, "the backoff wait");
      expect(e.storage.getAtomState("r")).toBe("RETRYING");
      expect(e.storage.detail("r").wakeAt).toBe(5_000);
      expect(e.nextWakeup()).toBe(5_000);
      clock.advance(4_999);
      expect(clock.waiting).toBe(1); // still asleep: it asked to wake later, not a tick later
      expect(times).toEqual(["r RUNNING@0", "t RUNNING@0"]);
      clock.advance(1);
      await running;
      expect(times).toEqual(["r RUNNING@0", "t RUNNING@0", "r RUNNING@5000", "t RUNNING@5000"]);
      expect(e.storage.fetch("x")).toBe(2);
    });

    it("the per-task shorthand takes a backoff too", async () => {
      const clock = new ManualClock(0, { autoAdvance: true });
      let calls = 0;
      const flaky = task({
        name: "flaky",
        retry: new Times(3, { backoff: { initialMs: 200, rate: 2 } }),
        execute: () => {
          if (++calls < 3) throw new RuntimeError("Woot!");
          return calls;
        },
      });
      const e = make(linearFlow("f", flaky), { clock });
      const times = timeline(e, clock);
      await e.run();
      expect(times.filter((t) => t.startsWith("flaky "))).toEqual(["flaky RUNNING@0", "flaky RUNNING@200", "flaky RUNNING@600"]);
    });

    it("a backoff longer than maxWaitMs ends the run SUSPENDED 'waiting'; a later engine waits only the rest", async () => {
      const backend = new MemoryBackend();
      const flow = () => linearFlow("f", { retry: new Times(3, { name: "r", provides: "x", backoff: { initialMs: 60_000 } }) }, succeedsFrom("t", 2));
      const clock1 = new ManualClock(1_000);
      const first = make(flow(), { backend, clock: clock1, maxWaitMs: 0 });
      const waits: WaitEvent[] = [];
      first.on("wait", (ev) => waits.push(ev));
      await first.run();
      const stored = await backend.getFlowDetail(first.flowDetailId);
      expect(stored.state).toBe("SUSPENDED");
      expect(stored).toMatchObject({ suspendedReason: "waiting", wakeAt: 61_000 });
      expect((await backend.getAtomDetails(first.flowDetailId)).find((d) => d.name === "r")).toMatchObject({ state: "RETRYING", wakeAt: 61_000 });
      expect(first.nextWakeup()).toBe(61_000);
      expect(waits).toEqual([{ type: "wait", flowUuid: first.flowDetailId, reason: "waiting", wakeAt: 61_000, inputs: [] }]);

      const clock2 = new ManualClock(31_000);
      const second = make(flow(), { backend: reopen(backend), flowDetailId: first.flowDetailId, clock: clock2 });
      const times = timeline(second, clock2);
      const running = second.run();
      await until(() => clock2.waiting === 1, "the rest of the backoff");
      clock2.advance(29_999);
      expect(clock2.waiting).toBe(1); // still asleep: it asked to wake later, not a tick later
      expect(times).toEqual([]);
      clock2.advance(1);
      await running;
      expect(times).toEqual(["r RUNNING@61000", "t RUNNING@61000"]);
      expect(second.storage.flowState).toBe("SUCCESS");
      expect(second.storage.fetch("x")).toBe(2);
    });
  });

  describe("durable timers", () => {
    const remind = () => linearFlow("remind", progressing("send"), sleep("nap", 60_000, { provides: "woke" }), progressing("remindAgain"));

    it("sleep stores its wake-up time before waiting and fires after exactly that long", async () => {
      const clock = new ManualClock(1_000);
      const backend = new MemoryBackend();
      const e = make(remind(), { clock, backend });
      const times = timeline(e, clock, ["RUNNING", "SUCCESS"]);
      const running = e.run();
      await until(() => clock.waiting === 1, "the sleep");
      // Committed before the engine started waiting.
      const nap = (await backend.getAtomDetails(e.flowDetailId)).find((d) => d.name === "nap");
      expect(nap).toMatchObject({ state: "PENDING", wakeAt: 61_000 });
      expect(e.nextWakeup()).toBe(61_000);
      clock.advance(59_999);
      expect(clock.waiting).toBe(1); // still asleep: it asked to wake later, not a tick later
      expect(e.storage.getAtomState("nap")).toBe("PENDING");
      clock.advance(1);
      await running;
      expect(times).toEqual([
        "send RUNNING@1000", "send SUCCESS@1000",
        "nap RUNNING@61000", "nap SUCCESS@61000",
        "remindAgain RUNNING@61000", "remindAgain SUCCESS@61000",
      ]);
      // A sleep provides its wake-up time.
      expect(e.storage.fetch("woke")).toBe(61_000);
      expect(e.nextWakeup()).toBeUndefined();
    });

    it("a host restart mid-wait: the new host waits only the remaining time and fires at the original time", async () => {
      const backend = new MemoryBackend();
      const clock1 = new ManualClock(1_000);
      const first = make(remind(), { clock: clock1, backend });
      void first.run().catch(() => undefined);
      await until(() => clock1.waiting === 1, "the first host's sleep");
      // The host goes away now: only what was committed survives.
      const survived = reopen(backend);
      first.suspend();

      const clock2 = new ManualClock(21_000); // 20 s later
      const second = make(remind(), { backend: survived, flowDetailId: first.flowDetailId, clock: clock2 });
      const capture = captureListener(second, { flow: false });
      const times = timeline(second, clock2);
      const running = second.run();
      await until(() => clock2.waiting === 1, "the second host's sleep");
      expect(second.nextWakeup()).toBe(61_000);
      clock2.advance(39_999);
      expect(clock2.waiting).toBe(1); // still asleep: it asked to wake later, not a tick later
      expect(times).toEqual([]);
      clock2.advance(1);
      await running;
      expect(times).toEqual(["nap RUNNING@61000", "remindAgain RUNNING@61000"]);
      expect(capture.values).toEqual(["nap.t RUNNING", "nap.t SUCCESS(61000)", "remindAgain.t RUNNING", "remindAgain.t SUCCESS(5)"]);
      expect(second.storage.flowState).toBe("SUCCESS");
    });

    it("maxWaitMs 0: the run ends SUSPENDED 'waiting' with the wake-up time; a resume after it runs at once", async () => {
      const backend = new MemoryBackend();
      const clock1 = new ManualClock(1_000);
      const first = make(remind(), { clock: clock1, backend, maxWaitMs: 0 });
      const waits: WaitEvent[] = [];
      first.on("wait", (ev) => waits.push(ev));
      const flows = captureListener(first, { atoms: false });
      await first.run();
      expect(flows.values).toEqual(["remind.f RUNNING", "remind.f SUSPENDING", "remind.f SUSPENDED"]);
      expect(first.storage.flowDetail).toMatchObject({ suspendedReason: "waiting", wakeAt: 61_000 });
      expect(first.storage.detail("nap").wakeAt).toBe(61_000);
      expect(first.nextWakeup()).toBe(61_000);
      expect(waits).toEqual([{ type: "wait", flowUuid: first.flowDetailId, reason: "waiting", wakeAt: 61_000, inputs: [] }]);
      expect(await backend.getFlowDetail(first.flowDetailId)).toMatchObject({ suspendedReason: "waiting", wakeAt: 61_000 });

      // Woken early by the same host: it suspends again without running anything.
      clock1.advance(30_000);
      await first.run();
      expect(first.storage.flowState).toBe("SUSPENDED");
      expect(first.storage.getAtomState("nap")).toBe("PENDING");
      // Past its time and not run yet: still reported, as due (a host arms an alarm for it at once).
      clock1.advance(40_000);
      expect(first.nextWakeup()).toBe(61_000);

      // A new host long after the wake-up time: nothing left to wait.
      const clock2 = new ManualClock(500_000);
      const second = make(remind(), { backend: reopen(backend), flowDetailId: first.flowDetailId, clock: clock2 });
      const times = timeline(second, clock2);
      await second.run();
      expect(clock2.waiting).toBe(0);
      expect(times).toEqual(["nap RUNNING@500000", "remindAgain RUNNING@500000"]);
      expect(second.storage.fetch("woke")).toBe(61_000);
      expect(second.storage.flowState).toBe("SUCCESS");
      expect(second.storage.flowDetail.suspendedReason).toBeUndefined();
      expect(second.storage.flowDetail.wakeAt).toBeUndefined();
      expect(second.nextWakeup()).toBeUndefined();
    });

    it("a wait no longer than maxWaitMs is done in-process", async () => {
      const clock = new ManualClock(0, { autoAdvance: true });
      const e = make(remind(), { clock, maxWaitMs: 60_000 });
      await e.run();
      expect(e.storage.flowState).toBe("SUCCESS");
      expect(clock.now()).toBe(60_000);
      const short = make(remind(), { clock: new ManualClock(0, { autoAdvance: true }), maxWaitMs: 59_999 });
      await short.run();
      expect(short.storage.flowState).toBe("SUSPENDED");
    });

    it("sleepUntil waits for an absolute time (a Date or ms), and not at all once it has passed", async () => {
      const clock = new ManualClock(Date.parse("2026-11-27T09:00:00Z"), { autoAdvance: true });
      const monday = new Date("2026-11-30T09:00:00Z");
      const e = make(linearFlow("w", sleepUntil("until-monday", monday, { provides: "at" }), progressing("go")), { clock });
      const times = timeline(e, clock);
      await e.run();
      expect(times).toEqual([`until-monday RUNNING@${monday.getTime()}`, `go RUNNING@${monday.getTime()}`]);
      expect(e.storage.fetch("at")).toBe(monday.getTime());
      expect(e.storage.detail("until-monday").wakeAt).toBe(monday.getTime());

      const late = new ManualClock(monday.getTime() + 1, { autoAdvance: true });
      const e2 = make(linearFlow("w", sleepUntil("until-monday", monday.getTime()), progressing("go")), { clock: late });
      await e2.run();
      expect(late.now()).toBe(monday.getTime() + 1);
      expect(e2.storage.flowState).toBe("SUCCESS");
    });

    it("nextWakeup() is the earliest pending timer of a parallel branch", async () => {
      const clock = new ManualClock(0);
      const e = make(unorderedFlow("u", sleep("long", 90_000), sleep("short", 30_000), sleepUntil("abs", 50_000)), { clock, maxWaitMs: 0 });
      await e.run();
      expect(e.nextWakeup()).toBe(30_000);
      expect(e.storage.flowDetail.wakeAt).toBe(30_000);
      clock.advance(30_000);
      await e.run();
      expect(e.storage.getAtomState("short")).toBe("SUCCESS");
      expect(e.nextWakeup()).toBe(50_000);
      clock.advance(60_000);
      await e.run();
      expect(e.storage.flowState).toBe("SUCCESS");
      expect(e.nextWakeup()).toBeUndefined();
    });

    it("nextWakeup() is undefined once the flow has ended, though a sleep never ran", async () => {
      const clock = new ManualClock(0);
      const e = make(unorderedFlow("u", sleep("nap", 30_000), failing("boom")), { clock, maxWaitMs: 0, neverResolve: true });
      await expect(e.run()).rejects.toThrow("Woot!");
      expect(e.storage.flowState).toBe("FAILURE");
      expect(e.storage.getAtomState("nap")).toBe("PENDING");
      clock.advance(60_000);
      expect(e.nextWakeup()).toBeUndefined(); // a host following it would run an ended flow forever
    });

    // Regression test for a fixed bug (src/engine/runner.ts, retry(): only REVERTED/IGNORE atoms of the subgraph get
    // `wakeAt: undefined`). Expected: a sleep that was waiting when a sibling failed waits its full
    // time again on the next try (like a sleep that ran, see the test below): the retry runs again
    // at 5 000, so the sleep wakes at 15 000. Actual: it keeps the first try's wake-up time, 10 000.
    it("a sleep still waiting when its retried flow failed gets a new wake-up time on the next try", async () => {
      const clock = new ManualClock(0);
      const e = make(
        unorderedFlow("u", { retry: new Times(2, { name: "r", provides: "x", backoff: { initialMs: 5_000 } }) }, sleep("nap", 10_000), succeedsFrom("t", 2)),
        { clock },
      );
      const running = e.run();
      await until(() => e.storage.getAtomState("r") === "RETRYING" && clock.waiting === 1, "the backoff");
      clock.advance(5_000);
      await until(() => e.storage.getAtomState("t") === "SUCCESS" && clock.waiting === 1, "the second try's sleep");
      const wakeAt = e.storage.detail("nap").wakeAt;
      clock.advance(10_000);
      await running;
      expect(wakeAt).toBe(15_000);
    });

    it("a retried sleep gets a new wake-up time on each try", async () => {
      const clock = new ManualClock(0, { autoAdvance: true });
      const e = make(linearFlow("f", { retry: new Times(3, { name: "r", provides: "x" }) }, sleep("nap", 1_000), succeedsFrom("t", 2)), { clock });
      const times = timeline(e, clock);
      await e.run();
      expect(times).toEqual(["r RUNNING@0", "nap RUNNING@1000", "t RUNNING@1000", "r RUNNING@1000", "nap RUNNING@2000", "t RUNNING@2000"]);
    });
  });

  describe("cancellation", () => {
    /** a, b, then c which runs until its signal aborts; each revert is recorded. */
    function abortable() {
      const reverted: string[] = [];
      const signals: AbortSignal[] = [];
      const step = (name: string) => task({ name, execute: () => name, revert: () => void reverted.push(name) });
      const c = task({
        name: "c",
        execute: (_args, ctx) => {
          signals.push(ctx.signal);
          return new Promise((_resolve, reject) => {
            ctx.signal.addEventListener("abort", () => reject(ctx.signal.reason as Error), { once: true });
          });
        },
        revert: () => void reverted.push("c"),
      });
      return { flow: linearFlow("job", step("a"), step("b"), c, step("d")), reverted, signals };
    }

    it("cancel() while a run is starting (still loading its flow) is not refused: the run reverts before any step", async () => {
      const backend = new MemoryBackend();
      const first = make(abortable().flow, { backend });
      await first.save();
      for (const engine of [first, make(abortable().flow, { backend, flowDetailId: first.flowDetailId })]) {
        const executed: string[] = [];
        engine.on("atom", (ev) => ev.state === "RUNNING" && executed.push(ev.name));
        const running = engine.run();
        await engine.cancel("stop at once");
        await expect(running).rejects.toBeInstanceOf(Cancelled);
        expect(engine.storage.flowState).toBe("REVERTED");
        expect(executed).toEqual([]);
      }
    });

    it("cancel() during a run aborts the running task's signal and reverts in reverse order; the flow ends REVERTED", async () => {
      const { flow, reverted, signals } = abortable();
      const e = make(flow);
      const capture = captureListener(e);
      const running = e.run();
      await until(() => signals.length === 1, "c to start");
      await e.cancel("user pressed stop");
      const error = await rejection(running);
      expect(error).toBeInstanceOf(Cancelled);
      expect(error.message).toMatch(/user pressed stop/);
      expect(signals[0]?.aborted).toBe(true);
      expect(signals[0]?.reason).toBeInstanceOf(Cancelled);
      expect(reverted).toEqual(["c", "b", "a"]);
      expect(capture.values).toEqual([
        "job.f RUNNING",
        "a.t RUNNING", "a.t SUCCESS(a)",
        "b.t RUNNING", "b.t SUCCESS(b)",
        "c.t RUNNING", expect.stringMatching(/^c\.t FAILURE\(Failure: Cancelled: /),
        "c.t REVERTING", "c.t REVERTED(None)",
        "b.t REVERTING", "b.t REVERTED(None)",
        "a.t REVERTING", "a.t REVERTED(None)",
        "job.f REVERTED",
      ]);
      expect(e.storage.getAtomState("d")).toBe("PENDING");
      expect(e.storage.flowDetail.cancelled).toMatchObject({ reason: "user pressed stop" });
      expect(e.storage.flowState).toBe("REVERTED");
    });

    it("a task that ignores its signal and finishes is reverted too", async () => {
      let release!: () => void;
      const started: string[] = [];
      const reverted: string[] = [];
      const stubborn = task({
        name: "stubborn",
        execute: async () => {
          started.push("stubborn");
          await new Promise<void>((resolve) => (release = resolve));
          return "done anyway";
        },
        revert: () => void reverted.push("stubborn"),
      });
      const e = make(linearFlow("job", task({ name: "a", execute: () => 1, revert: () => void reverted.push("a") }), stubborn, progressing("never")));
      const running = e.run();
      await until(() => started.length === 1, "the task to start");
      const cancelling = e.cancel();
      release();
      await cancelling;
      await expect(running).rejects.toBeInstanceOf(Cancelled);
      expect(reverted).toEqual(["stubborn", "a"]);
      expect(e.storage.getAtomState("never")).toBe("PENDING");
      expect(e.storage.flowState).toBe("REVERTED");
    });

    it("cancel() on a suspended flow reverts what ran, latest first", async () => {
      const reverted: string[] = [];
      const step = (name: string) => task({ name, execute: () => name, revert: () => void reverted.push(name) });
      const backend = new MemoryBackend();
      const e = make(linearFlow("job", step("a"), step("b"), step("c")), { backend });
      e.on("atom", (ev) => {
        if (ev.name === "b" && ev.state === "SUCCESS") e.suspend();
      });
      await e.run();
      expect(e.storage.flowState).toBe("SUSPENDED");
      // A new host cancels the stored flow.
      const again = make(linearFlow("job", step("a"), step("b"), step("c")), { backend: reopen(backend), flowDetailId: e.flowDetailId });
      const capture = captureListener(again, { flow: false });
      await again.cancel("no longer needed");
      expect(reverted).toEqual(["b", "a"]);
      expect(capture.values).toEqual(["b.t REVERTING", "b.t REVERTED(None)", "a.t REVERTING", "a.t REVERTED(None)"]);
      expect(again.storage.flowState).toBe("REVERTED");
      expect(again.storage.getAtomState("c")).toBe("PENDING");
    });

    it("cancel() while the flow waits on a timer ends the wait at once and reverts", async () => {
      const clock = new ManualClock(0);
      const reverted: string[] = [];
      const e = make(linearFlow("job", task({ name: "a", execute: () => 1, revert: () => void reverted.push("a") }), sleep("nap", 3_600_000), progressing("b")), {
        clock,
      });
      const running = e.run();
      await until(() => clock.waiting === 1, "the sleep");
      await e.cancel();
      await expect(running).rejects.toBeInstanceOf(Cancelled);
      expect(clock.now()).toBe(0);
      expect(clock.waiting).toBe(0);
      expect(reverted).toEqual(["a"]);
      expect(e.storage.flowState).toBe("REVERTED");
      expect(e.nextWakeup()).toBeUndefined();
    });

    it("cancel() on a flow suspended 'waiting' reverts it; nextWakeup() is then undefined", async () => {
      const clock = new ManualClock(0);
      const reverted: string[] = [];
      const e = make(linearFlow("job", task({ name: "a", execute: () => 1, revert: () => void reverted.push("a") }), sleep("nap", 60_000), progressing("b")), {
        clock,
        maxWaitMs: 0,
      });
      await e.run();
      expect(e.storage.flowDetail.suspendedReason).toBe("waiting");
      await e.cancel();
      expect(reverted).toEqual(["a"]);
      expect(e.storage.flowState).toBe("REVERTED");
      expect(e.storage.flowDetail.suspendedReason).toBeUndefined();
      expect(e.nextWakeup()).toBeUndefined();
    });

    // Regression test for a fixed bug (src/engine/runner.ts, resetReverted(): only REVERTED/IGNORE atoms get `wakeAt:
    // undefined`; an atom left PENDING keeps it). Expected: running a cancelled (REVERTED) flow
    // again starts over, so a sleep reached at 10 000 waits until 70 000. Actual: the sleep keeps
    // the wake-up time of the cancelled run (60 000) and waits only 50 s.
    it("a cancelled flow reset and run again starts over: its sleep waits its full time from the new start", async () => {
      const clock = new ManualClock(0, { autoAdvance: true });
      const e = make(linearFlow("job", progressing("a"), sleep("nap", 60_000), progressing("b")), { clock, maxWaitMs: 0 });
      await e.run();
      await e.cancel();
      clock.advance(10_000);
      const times = timeline(e, clock);
      await expect(e.run()).rejects.toBeInstanceOf(Cancelled); // a cancel stays until reset()
      await e.reset();
      await e.run(); // maxWaitMs 0: suspends at the sleep again
      expect(e.storage.flowState).toBe("SUSPENDED");
      expect(e.storage.detail("nap").wakeAt).toBe(70_000);
      expect(e.nextWakeup()).toBe(70_000);
      expect(times).toEqual(["a RUNNING@10000"]);
    });

    // TaskFlow's retry table has no way out of RETRYING but RUNNING, so a retry cancelled between
    // two tries stays RETRYING (there is nothing of that try to undo: its flow was reverted).
    // What matters is that running the flow again starts over: first try, no old backoff.
    it("cancel() during a retry's backoff ends REVERTED, and a run after reset() starts from the first try", async () => {
      const clock = new ManualClock(0);
      const e = make(linearFlow("job", { retry: new Times(3, { name: "r", provides: "x", backoff: { initialMs: 60_000 } }) }, succeedsFrom("t", 2)), { clock });
      const running = e.run();
      await until(() => clock.waiting === 1, "the backoff");
      expect(e.storage.getAtomState("r")).toBe("RETRYING");
      await e.cancel();
      await expect(running).rejects.toBeInstanceOf(Cancelled);
      expect(e.storage.flowState).toBe("REVERTED");
      expect(e.storage.getAtomState("t")).toBe("PENDING"); // reset for the next try, then cancelled
      expect(e.storage.getAtomState("r")).toBe("RETRYING");

      const provided: unknown[] = [];
      e.on("atom", (ev) => ev.name === "r" && ev.state === "SUCCESS" && provided.push(ev.result));
      await e.reset();
      const again = e.run();
      await until(() => provided.length > 0, "the retry's first try");
      expect(provided[0]).toBe(1); // the first try again, at once: the cancelled run's backoff is gone
      expect(clock.now()).toBe(0);
      clock.advance(60_000);
      await again.catch(() => undefined);
    });
  });

  describe("timeouts", () => {
    it("a task exceeding timeoutMs fails with RequestTimeout and its signal is aborted", async () => {
      const clock = new ManualClock(0);
      let signal: AbortSignal | undefined;
      const slow = task({
        name: "slow",
        timeoutMs: 100,
        execute: (_args, ctx) => {
          signal = ctx.signal;
          return new Promise(() => undefined); // never settles by itself
        },
      });
      const e = make(linearFlow("f", progressing("before"), slow), { clock });
      const capture = captureListener(e, { flow: false });
      const running = e.run();
      await until(() => signal !== undefined && clock.waiting === 1, "the timeout timer");
      clock.advance(99);
      expect(clock.waiting).toBe(1); // still asleep: it asked to wake later, not a tick later
      expect(signal?.aborted).toBe(false);
      clock.advance(1);
      const error = await rejection(running);
      expect(error).toBeInstanceOf(RequestTimeout);
      expect(error.message).toMatch(/"slow" did not finish within 100 ms/);
      expect(signal?.aborted).toBe(true);
      expect(signal?.reason).toBeInstanceOf(RequestTimeout);
      expect(capture.values).toEqual([
        "before.t RUNNING", "before.t SUCCESS(5)",
        "slow.t RUNNING", expect.stringMatching(/^slow\.t FAILURE\(Failure: RequestTimeout: /),
        "slow.t REVERTING", "slow.t REVERTED(None)",
        "before.t REVERTING", "before.t REVERTED(None)",
      ]);
      expect(e.storage.flowState).toBe("REVERTED");
    });

    it("a task that finishes in time succeeds and its timer is dropped", async () => {
      const clock = new ManualClock(0);
      const quick = task({ name: "quick", timeoutMs: 100, execute: async () => "ok" });
      const e = make(linearFlow("f", quick), { clock });
      await e.run();
      expect(e.storage.fetchAll()).toEqual({});
      expect(e.storage.getResult("quick")).toBe("ok");
      expect(clock.waiting).toBe(0);
    });

    // Regression test for a fixed bug (src/testing/manual-clock.ts, sleep() with autoAdvance, as used by src/engine/runner.ts
    // launch()): an auto-advancing sleep moves the clock and resolves at once, so the timeout timer
    // started beside a task always wins, even against a task that returns synchronously.
    // Expected: SUCCESS (the task finished long before 5 s of simulated time). Actual: the task
    // fails with RequestTimeout and the clock reads 5 000. Advancing only once nothing else is
    // pending (e.g. from a macrotask, unless the sleep was aborted) would fix it.
    it("under ManualClock autoAdvance, a task that returns at once does not time out", async () => {
      const clock = new ManualClock(0, { autoAdvance: true });
      const e = make(linearFlow("f", task({ name: "quick", timeoutMs: 5_000, execute: () => "ok" })), { clock });
      await e.run();
      expect(e.storage.flowState).toBe("SUCCESS");
      expect(clock.now()).toBe(0);
    });

    it("a timeout counts as a failure for the task's retry", async () => {
      const clock = new ManualClock(0);
      let calls = 0;
      const slowOnce = task({
        name: "slowOnce",
        timeoutMs: 1_000,
        retry: new Times(2),
        execute: () => (++calls === 1 ? new Promise(() => undefined) : "second try"),
      });
      const e = make(linearFlow("f", slowOnce), { clock });
      const running = e.run();
      await until(() => clock.waiting === 1, "the timeout timer");
      clock.advance(1_000);
      await running;
      expect(calls).toBe(2);
      expect(e.storage.getResult("slowOnce")).toBe("second try");
      const history = e.storage.detail("slowOnce_retry").result as HistoryEntry[];
      expect(history[0]?.failures.slowOnce?.excTypeNames[0]).toBe("RequestTimeout");
    });
  });

  describe("offline-aware tasks (needsNetwork)", () => {
    it("while offline a needsNetwork task does not start: SUSPENDED 'offline'; back online, it runs", async () => {
      let calls = 0;
      const upload = task({ name: "upload", needsNetwork: true, execute: () => ++calls });
      const e = make(linearFlow("sync", progressing("prepare"), upload, progressing("done")), { online: false });
      const waits: WaitEvent[] = [];
      e.on("wait", (ev) => waits.push(ev));
      await e.run();
      expect(calls).toBe(0);
      expect(e.storage.getAtomState("prepare")).toBe("SUCCESS");
      expect(e.storage.getAtomState("upload")).toBe("PENDING");
      expect(e.storage.flowState).toBe("SUSPENDED");
      expect(e.storage.flowDetail.suspendedReason).toBe("offline");
      expect(waits).toEqual([expect.objectContaining({ type: "wait", reason: "offline" })]);
      // Still offline: nothing changes.
      await e.run();
      expect(calls).toBe(0);
      e.setOnline(true);
      await e.run();
      expect(calls).toBe(1);
      expect(e.storage.flowState).toBe("SUCCESS");
    });

    it("a task that does not need the network runs while offline", async () => {
      const e = make(linearFlow("local", progressing("a")), { online: false });
      await e.run();
      expect(e.storage.flowState).toBe("SUCCESS");
    });

    it("coming back online while a sibling still runs releases the held task in the same run", async () => {
      let release!: () => void;
      let calls = 0;
      const slow = task({ name: "slow", execute: () => new Promise<void>((resolve) => (release = resolve)) });
      const upload = task({ name: "upload", needsNetwork: true, execute: () => ++calls });
      const e = make(unorderedFlow("u", slow, upload), { online: false });
      const running = e.run();
      await until(() => release !== undefined, "the slow task");
      e.setOnline(true);
      await until(() => calls === 1 || engine === "serial", "the upload");
      release();
      await running;
      expect(calls).toBe(1);
      expect(e.storage.flowState).toBe("SUCCESS");
    });

    it("a needsNetwork task failing while offline under Times(2) does not spend attempts: it is reverted and waits", async () => {
      // Fails twice while offline (it takes the network down itself), then once online, then works.
      let calls = 0;
      let engineRef!: Engine;
      const outcomes = ["offline", "offline", "online", "ok"] as const;
      const upload = task({
        name: "upload",
        needsNetwork: true,
        provides: "receipt",
        execute: () => {
          const outcome = outcomes[calls++];
          if (outcome === "offline") {
            engineRef.setOnline(false);
            throw new RuntimeError("network unreachable");
          }
          if (outcome === "online") throw new RuntimeError("server error");
          return "r-1";
        },
      });
      const e = make(linearFlow("sync", { retry: new Times(2, { name: "r", provides: "try" }) }, upload));
      engineRef = e;
      const capture = captureListener(e, { flow: false });
      for (let i = 0; i < 2; i++) {
        await e.run();
        expect(e.storage.flowState).toBe("SUSPENDED");
        expect(e.storage.flowDetail.suspendedReason).toBe("offline");
        expect(e.storage.getAtomState("upload")).toBe("PENDING");
        // The retry was not asked: no attempt spent, nothing in its history.
        expect(e.storage.getAtomState("r")).toBe("SUCCESS");
        expect((e.storage.detail("r").result as HistoryEntry[]).map((h) => Object.keys(h.failures))).toEqual([[]]);
        if (i === 0) expect(e.statistics.discardedFailures).toBe(1);
        e.setOnline(true);
      }
      await e.run();
      expect(calls).toBe(4);
      expect(e.storage.flowState).toBe("SUCCESS");
      expect(e.storage.fetchAll()).toEqual({ receipt: "r-1", try: 2 });
      const history = e.storage.detail("r").result as HistoryEntry[];
      expect(history.map((h) => [h.value, Object.keys(h.failures)])).toEqual([
        [1, ["upload"]],
        [2, []],
      ]);
      expect(history[0]?.failures.upload?.exceptionStr).toBe("server error");
      expect(capture.values.filter((v) => v === "r.r RETRYING")).toHaveLength(1);
      expect(capture.values.filter((v) => v === "upload.t REVERTED(None)")).toHaveLength(3);
    });
  });
});

describe("the crash-point harness over flows that wait", () => {
  /**
   * One clock per uninterrupted run: the harness shares the engine options, so the clock is
   * swapped for a fresh one whenever a run starts from nothing, while a resumed run goes on from
   * the time the crashed host reached.
   */
  function freshClockPerRun(makeClock: () => Clock) {
    let current = makeClock();
    const clock: Clock = { now: () => current.now(), sleep: (ms, signal) => current.sleep(ms, signal) };
    const drive = async (engine: Engine) => {
      await engine.prepare();
      const fresh = engine.storage.atomDetails().every((d) => d.state === "PENDING" && d.wakeAt === undefined);
      if (fresh) current = makeClock();
      await engine.run();
    };
    return { clock, drive };
  }

  const autoAdvance = () => new ManualClock(0, { autoAdvance: true });

  /**
   * Like ManualClock's autoAdvance, but the clock moves only once everything already queued has
   * run (a macrotask later), and not at all for a sleep aborted meanwhile: an action that
   * finishes at once finishes before the timer it races.
   */
  const deferredAdvance = (): Clock => {
    const inner = new ManualClock(0);
    return {
      now: () => inner.now(),
      sleep: (ms, signal) => {
        const at = inner.now() + Math.max(0, ms);
        const done = inner.sleep(ms, signal);
        setTimeout(() => {
          if (!signal?.aborted && inner.now() < at) inner.set(at);
        }, 0);
        return done;
      },
    };
  };

  const flows: Array<[string, () => FlowItem]> = [
    ["a sleep between two tasks", () => linearFlow("timed", progressing("a"), sleep("nap", 5_000), sleepUntil("until", 100_000), progressing("b"))],
    [
      "a retry with backoff around a sleep",
      () =>
        linearFlow(
          "timed",
          { retry: new Times(3, { name: "r", provides: "x", backoff: { initialMs: 1_000, rate: 2 } }) },
          progressing("a"),
          sleep("nap", 5_000),
          succeedsFrom("check", 2),
        ),
    ],
    [
      "a task with the retry shorthand and jittered backoff, spent",
      () => linearFlow("timed", progressing("a"), failing("flaky", { retry: new Times(3, { backoff: { initialMs: 500, jitter: "full" } }) })),
    ],
  ];
  const parallelSleeps = (): FlowItem =>
    unorderedFlow(
      "timed",
      { retry: new Times(2, { name: "r", provides: "x", backoff: { initialMs: 250 } }) },
      sleep("n1", 1_000),
      sleep("n2", 3_000),
      succeedsFrom("check", 2),
    );

  for (const engine of ENGINES) {
    it.each(flows)(`%s on the ${engine} engine (ManualClock autoAdvance) ends as if uninterrupted`, async (_what, makeFlow) => {
      const { clock, drive } = freshClockPerRun(autoAdvance);
      const report = await checkCrashPoints({ makeFlow, drive, engine: { engine, clock, random: () => 0.5 } });
      expect(report.points).toBeGreaterThan(3);
      expect(report.problems).toEqual([]);
    });

    // Regression test for a fixed bug (src/testing/manual-clock.ts autoAdvance, through src/engine/runner.ts
    // waitForSomething(), which races the next timer against running actions): with a sleep
    // pending beside a running task, the auto-advancing sleep moves the clock to the sleep's
    // wake-up time before the task's result is analysed. A crashed run thus stops at a later time
    // than the uninterrupted one was at the same step, and the resumed run takes another course:
    // Expected: the same end as uninterrupted. Actual: e.g. at write 3, 'atom "n1" result 4250,
    // expected 1000' (n1 ran in the resumed run but not in the reference). The same flow passes
    // with a clock that advances only once nothing else is pending (next test).
    it(`parallel sleeps under a retry on the ${engine} engine (ManualClock autoAdvance) ends as if uninterrupted`, async () => {
      const { clock, drive } = freshClockPerRun(autoAdvance);
      const report = await checkCrashPoints({ makeFlow: parallelSleeps, drive, engine: { engine, clock } });
      expect(report.problems).toEqual([]);
    });

    it(`parallel sleeps under a retry on the ${engine} engine (a clock advancing when idle) ends as if uninterrupted`, async () => {
      const { clock, drive } = freshClockPerRun(deferredAdvance);
      const report = await checkCrashPoints({ makeFlow: parallelSleeps, drive, engine: { engine, clock } });
      expect(report.points).toBeGreaterThan(3);
      expect(report.problems).toEqual([]);
    });
  }
});
