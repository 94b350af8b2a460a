// The FlowRunner Durable Object through its RPC methods, as a Worker calls it: flows run by the
// alarm, resumed after an eviction at any write, timers served at their stored time, inputs,
// reverts, idempotent starts, suspend, resume and cancel.
import { evictDurableObject, runDurableObjectAlarm } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { FlowStatus } from "../../adapters/durable-object/index.js";
import { BACKOFF_MS } from "./runner-flows.js";
import { CHECKOUT_STORE, eventually, freshRunner, rejection, states, untilEnded, type RunnerStub } from "./runner-helpers.js";

/** An uninterrupted checkout: what every interrupted one must end as, and how many commits it makes. */
async function reference(): Promise<{ end: FlowStatus; commits: number }> {
  const runner = freshRunner();
  await runner.start("job", "checkout", [], CHECKOUT_STORE);
  const end = await untilEnded(runner, "job");
  return { end, commits: await runner.commits() };
}

describe("FlowRunner", () => {
  it("stores a started flow, arms the alarm, and runs it there to the end; then no alarm is left", async () => {
    const runner = freshRunner();
    const started = await runner.start("job-1", "checkout", [], CHECKOUT_STORE);
    expect(started.created).toBe(true);
    expect(started.state).toBe("PENDING");
    expect(Object.values(states(started as FlowStatus))).toEqual(["PENDING", "PENDING", "PENDING", "PENDING"]);
    expect(await runner.tally()).toEqual({}); // start only writes: the alarm runs
    expect(await runner.alarmAt()).not.toBeNull();

    const end = await untilEnded(runner, "job-1");
    expect(end.state).toBe("SUCCESS");
    expect(end.atoms.email).toEqual({ state: "SUCCESS", result: "sent receipt R-1" });
    expect(end.atoms.charge?.result).toEqual({ receipt: "R-1", amount: 90 });
    expect(await runner.tally()).toEqual({ "executions:validate": 1, "executions:reserve": 1, "executions:charge": 1, "executions:email": 1 });
    expect(await runner.alarmAt()).toBeNull();
  });

  it("evicted at each of its commits, then run by its alarm: ends as if uninterrupted, and nothing stored SUCCESS runs again", async () => {
    const { end: expected, commits } = await reference();
    expect(commits).toBeGreaterThanOrEqual(4); // start's own write, then the run's
    for (let k = 1; k <= commits; k++) {
      const runner = freshRunner();
      await runner.dieAtCommit(k);
      const started = await runner.start("job", "checkout", [], CHECKOUT_STORE).then(() => "stored", (e: Error) => e.message);
      // The first commit is start's: the caller sees the failure (and may start again: same id).
      expect(started, `commit ${k}`).toBe(k === 1 ? "host died" : "stored");
      if (k > 1) expect(await runDurableObjectAlarm(runner), `commit ${k}: the alarm runs the flow`).toBe(true);
      expect(await runner.died(), `commit ${k}`).toBe(true);
      await evictDurableObject(runner);

      const atEviction = (await runner.get("job")) as FlowStatus;
      const ranBefore = await runner.tally();
      expect(await runner.alarmAt(), `commit ${k}: an alarm outlives the object`).not.toBeNull();
      const end = await untilEnded(runner, "job");
      expect(end.state, `commit ${k}`).toBe("SUCCESS");
      expect(end.atoms, `commit ${k}`).toEqual(expected.atoms);
      const ranAfter = await runner.tally();
      for (const [name, atom] of Object.entries(atEviction.atoms)) {
        if (atom.state === "SUCCESS") expect(ranAfter[`executions:${name}`], `commit ${k}: "${name}" was SUCCESS, then ran again`).toBe(ranBefore[`executions:${name}`]);
      }
      expect(await runner.alarmAt(), `commit ${k}`).toBeNull();
    }
  });

  it("reverts what ran before a failing step, and keeps every record in the log book", async () => {
    const runner = freshRunner();
    await runner.start("order", "declined", [], CHECKOUT_STORE);
    const end = await untilEnded(runner, "order");
    expect(end.state).toBe("REVERTED");
    expect(states(end)).toEqual({ reserve: "REVERTED", charge: "REVERTED" });
    expect(end.atoms.charge?.failure).toEqual({ type: "Error", message: "card declined" });
    expect(await runner.tally()).toEqual({ "executions:reserve": 1, "executions:charge": 1, "reverts:reserve": 1 });
    const log = await runner.logBook("order");
    expect(log.logBook.name).toBe("order");
    expect(log.flowDetail.state).toBe("REVERTED");
    expect(log.atomDetails.map((a) => a.name).sort()).toEqual(["charge", "reserve"]);
    expect(await runner.alarmAt()).toBeNull();
  });

  it("waits for an input without an alarm; a refused value changes nothing; a provided one is run by the alarm", async () => {
    const runner = freshRunner();
    await runner.start("stay", "booking", [], { room: "double" });
    expect(await runDurableObjectAlarm(runner)).toBe(true);
    const waiting = (await runner.get("stay")) as FlowStatus;
    expect(waiting).toMatchObject({ state: "SUSPENDED", suspendedReason: "input", waitingFor: [{ name: "nights", description: "How many nights" }] });
    expect(await runner.alarmAt()).toBeNull(); // nothing to do until someone answers

    const refused = await rejection(runner.provide("stay", "nights", -2));
    expect(refused.name).toBe("InvalidFormat");
    expect(refused.message).toMatch(/^value for "nights" refused: /);
    expect((await runner.logBook("stay")).flowDetail.inputs).toBeUndefined();
    expect(await runner.alarmAt()).toBeNull();
    expect((await rejection(runner.provide("stay", "rooms", 1))).name).toBe("NotFound");

    const provided = await runner.provide("stay", "nights", 3);
    expect(provided.state).toBe("SUSPENDED"); // stored; the alarm goes on with it
    expect(await runner.alarmAt()).not.toBeNull();
    const end = await untilEnded(runner, "stay");
    expect(end.state).toBe("SUCCESS");
    expect(end.atoms.quote?.result).toBe(240);
    expect((await rejection(runner.provide("stay", "nights", 4))).name).toBe("DisallowedAccess");
  });

  it("serves a retry's backoff with the alarm, at the stored wake-up time and not before", async () => {
    const runner = freshRunner();
    await runner.start("call", "flaky");
    expect(await runDurableObjectAlarm(runner)).toBe(true); // first call fails: backoff
    const waiting = (await runner.get("call")) as FlowStatus;
    expect(waiting).toMatchObject({ state: "SUSPENDED", suspendedReason: "waiting" });
    const stored = (await runner.logBook("call")).flowDetail.wakeAt;
    expect(waiting.wakeAt).toBe(stored);
    expect(await runner.alarmAt()).toBe(stored);
    expect((stored as number) - (await runner.now())).toBeGreaterThan(BACKOFF_MS - 5_000);

    // An alarm run early (as a retried one may be) finds nothing due and re-arms the same time.
    expect(await runDurableObjectAlarm(runner)).toBe(true);
    expect(await runner.tally()).toEqual({ "executions:call": 1 });
    expect(await runner.alarmAt()).toBe(stored);

    await runner.advanceClock(BACKOFF_MS);
    const end = await untilEnded(runner, "call");
    expect(end.state).toBe("SUCCESS");
    expect(end.atoms.call?.result).toBe("answered");
    expect(end.atoms.call_retry).toMatchObject({ state: "SUCCESS", result: 2 }); // the second try
    expect(await runner.tally()).toEqual({ "executions:call": 2 });
  });

  it("starts once per id: the same input returns the same flow, other input is a conflict", async () => {
    const runner = freshRunner();
    const first = await runner.start("pay-7", "checkout", [], CHECKOUT_STORE);
    const again = await runner.start("pay-7", "checkout", [], { price: 90, cart: "cart-7" }); // key order does not matter
    expect(again.created).toBe(false);
    expect(again.flowDetailId).toBe(first.flowDetailId);
    await untilEnded(runner, "pay-7");
    const afterEnd = await runner.start("pay-7", "checkout", [], CHECKOUT_STORE);
    expect(afterEnd).toMatchObject({ created: false, state: "SUCCESS", flowDetailId: first.flowDetailId });
    expect(await runner.alarmAt()).toBeNull();
    expect((await runner.tally())["executions:charge"]).toBe(1);

    const conflict = await rejection(runner.start("pay-7", "checkout", [], { ...CHECKOUT_STORE, price: 95 }));
    expect(conflict.name).toBe("Duplicate");
    expect(conflict.message).toContain('store differs ("price")');
    expect((await rejection(runner.start("pay-7", "declined", [], CHECKOUT_STORE))).message).toContain('flow "checkout" ≠ "declined"');
  });

  it("refuses bad arguments with what to fix, and stores nothing", async () => {
    const runner = freshRunner();
    const cases: Array<[Promise<unknown>, string, RegExp]> = [
      [runner.start("has space", "checkout", [], CHECKOUT_STORE), "InvalidFormat", /invalid flow id: a flow id is 1 to 128/],
      [runner.start("j", "nope", [], CHECKOUT_STORE), "InvalidFormat", /no flow factory named "nope"; registered: checkout, declined, booking, flaky/],
      [runner.start("j", "checkout", [], { cart: "c" }), "MissingDependencies", /atom "charge" requires "price"/],
      [runner.start("j", "checkout", [], { cart: "c", price: Number.NaN }), "InvalidFormat", /invalid store: price/],
      [runner.get("never-started"), "NotFound", /no flow "never-started" in this runner; start it first/],
    ];
    for (const [call, name, message] of cases) {
      const refused = await rejection(call);
      expect(refused.name).toBe(name);
      expect(refused.message).toMatch(message);
    }
    expect((await rejection(runner.get("j"))).name).toBe("NotFound");
    expect(await runner.alarmAt()).toBeNull();
  });

  it("suspends a flow waiting on a timer (its alarm no longer runs it) until resumed", async () => {
    const runner = freshRunner();
    await runner.start("call", "flaky");
    await runDurableObjectAlarm(runner);
    const suspended = await runner.suspend("call");
    expect(suspended).toMatchObject({ state: "SUSPENDED", suspendedReason: "suspended" });
    expect(suspended.wakeAt).toBeUndefined();
    expect(await runner.alarmAt()).toBeNull();
    await runner.advanceClock(BACKOFF_MS);
    expect(await runDurableObjectAlarm(runner)).toBe(false);
    expect((await runner.tally())["executions:call"]).toBe(1);

    await runner.resume("call");
    expect(await runner.alarmAt()).not.toBeNull();
    expect((await untilEnded(runner, "call")).state).toBe("SUCCESS");
  });

  it("suspends a flow left RUNNING by an eviction: stored SUSPENDED, and resumed where it stopped", async () => {
    const runner = freshRunner();
    await runner.dieAtCommit(3); // the run stores step 1 RUNNING (commit 2), then dies storing step 2
    await runner.start("job", "checkout", [], CHECKOUT_STORE);
    await runDurableObjectAlarm(runner);
    await evictDurableObject(runner);
    expect((await runner.get("job")).state).toBe("RUNNING");

    const suspended = await runner.suspend("job");
    expect(suspended).toMatchObject({ state: "SUSPENDED", suspendedReason: "suspended" });
    expect((await runner.logBook("job")).flowDetail.state).toBe("SUSPENDED");
    expect(await runner.alarmAt()).toBeNull();

    await runner.resume("job");
    const end = await untilEnded(runner, "job");
    expect(end.state).toBe("SUCCESS");
    expect(await runner.tally()).toEqual({ "executions:validate": 2, "executions:reserve": 1, "executions:charge": 1, "executions:email": 1 });
  });

  it("cancels a waiting flow: what ran is reverted, and an ended flow refuses further changes", async () => {
    const runner = freshRunner();
    await runner.start("stay", "booking", [], { room: "single" });
    await runDurableObjectAlarm(runner);
    const cancelled = await runner.cancel("stay", "guest left");
    expect(cancelled.state).toBe("REVERTED");
    expect(states(cancelled)).toEqual({ hold: "REVERTED", "wait:nights": "PENDING", quote: "PENDING" });
    expect(await runner.tally()).toEqual({ "executions:hold": 1, "reverts:hold": 1 });
    expect((await runner.logBook("stay")).flowDetail.cancelled).toMatchObject({ reason: "guest left" });
    expect(await runner.alarmAt()).toBeNull();
    for (const call of [runner.cancel("stay"), runner.resume("stay"), runner.suspend("stay"), runner.provide("stay", "nights", 2)]) {
      const refused = await rejection(call);
      expect(refused.name).toBe("DisallowedAccess");
      expect(refused.message).toMatch(/it has ended REVERTED; start a new flow/);
    }
  });

  it("revises an input of a finished flow: what read it runs again, the rest keeps its result", async () => {
    const runner: RunnerStub = freshRunner();
    await runner.start("stay", "booking", [], { room: "double" });
    await runDurableObjectAlarm(runner);
    await runner.provide("stay", "nights", 2);
    expect((await untilEnded(runner, "stay")).atoms.quote?.result).toBe(160);

    const revised = await runner.revise("stay", "nights", 5);
    expect(revised).toMatchObject({ state: "SUCCESS", pending: true }); // stored; the alarm redoes the quote
    expect(await runner.alarmAt()).not.toBeNull();
    const end = await untilEnded(runner, "stay");
    expect(end.atoms.quote?.result).toBe(400);
    expect(await runner.tally()).toEqual({ "executions:hold": 1, "executions:quote": 2 });
  });
});

describe("FlowRunner's alarm", () => {
  it("runs flows started, or due, while it drives a long one, without waiting for the long one", async () => {
    const runner = freshRunner();
    await runner.start("slow", "gated");
    const driving = runDurableObjectAlarm(runner); // stays in the alarm while "slow" runs
    await eventually(async () => (await runner.tally())["executions:slow"] === 1);
    expect((await runner.get("slow")).state).toBe("RUNNING");

    await runner.start("quick", "checkout", [], CHECKOUT_STORE);
    // Run by the alarm that is still waiting for "slow" (its next alarm could not fire before).
    await eventually(async () => (await runner.get("quick")).state === "SUCCESS");
    expect((await runner.get("slow")).state).toBe("RUNNING");

    // A timer that comes due meanwhile is served by that alarm too, at its time.
    await runner.start("retried", "flaky", [200, "ping"]);
    await eventually(async () => (await runner.get("retried")).suspendedReason === "waiting");
    await eventually(async () => (await runner.get("retried")).state === "SUCCESS");
    expect((await runner.tally())["executions:ping"]).toBe(2);
    expect((await runner.get("slow")).state).toBe("RUNNING");

    await runner.openGate();
    expect(await driving).toBe(true);
    expect((await runner.get("slow")).atoms.slow?.result).toBe("done");
    expect(await runner.alarmAt()).toBeNull();
  });

  it("cancels a flow while it runs: its running step is aborted through its signal and reverted", async () => {
    const runner = freshRunner();
    await runner.start("slow", "gated");
    const driving = runDurableObjectAlarm(runner);
    await eventually(async () => (await runner.tally())["executions:slow"] === 1);

    const cancelled = await runner.cancel("slow", "too slow");
    expect(cancelled).toMatchObject({ state: "REVERTED", pending: false });
    expect(cancelled.atoms.slow?.state).toBe("REVERTED");
    expect(cancelled.atoms.slow?.failure?.message).toContain("too slow");
    expect(await runner.tally()).toEqual({ "executions:slow": 1, "reverts:slow": 1 });
    expect(await driving).toBe(true);
    expect(await runner.alarmAt()).toBeNull();
    // The alarm's run held the flow's lock and claimed it once (token 1); the cancel went to that
    // running engine, not to a second one waiting for the lock (which would claim token 2).
    expect((await runner.logBook("slow")).flowDetail.epoch).toBe(1);
  });
});

describe("FlowRunner's retention", () => {
  it("deletes a finished flow's log book by alarm once its retention period is over; the id can start again", async () => {
    const runner = freshRunner();
    await runner.keepFinishedFor(60_000);
    await evictDurableObject(runner); // the option applies from the next life
    await runner.start("job", "checkout", [], CHECKOUT_STORE);
    await untilEnded(runner, "job");
    const ended = await runner.now();
    const expiry = (await runner.alarmAt()) as number; // armed for the collection, not for work
    expect(expiry).toBeGreaterThanOrEqual(ended + 59_000);
    expect(expiry).toBeLessThanOrEqual(ended + 60_000);
    expect(await runDurableObjectAlarm(runner)).toBe(true); // early: nothing is deleted
    expect((await runner.get("job")).state).toBe("SUCCESS");
    expect(await runner.alarmAt()).toBe(expiry);

    await runner.advanceClock(60_000);
    expect(await runDurableObjectAlarm(runner)).toBe(true);
    expect((await rejection(runner.get("job"))).name).toBe("NotFound");
    expect(await runner.logBooks()).toBe(0);
    expect(await runner.alarmAt()).toBeNull();
    const again = await runner.start("job", "checkout", [], { ...CHECKOUT_STORE, price: 95 });
    expect(again.created).toBe(true);
  });

  it("keeps a revised flow until it has ended again, and a flow still running however old", async () => {
    const runner = freshRunner();
    await runner.keepFinishedFor(60_000);
    await evictDurableObject(runner);
    await runner.start("stay", "booking", [], { room: "double" });
    await runDurableObjectAlarm(runner); // waits for its input: not finished, never collected
    await runner.advanceClock(120_000);
    expect(await runDurableObjectAlarm(runner)).toBe(false);
    await runner.provide("stay", "nights", 2);
    await untilEnded(runner, "stay");
    await runner.advanceClock(30_000);
    await runner.revise("stay", "nights", 3); // before its expiry: kept, and run again
    await runner.advanceClock(45_000);
    const end = await untilEnded(runner, "stay");
    expect(end.atoms.quote?.result).toBe(240);
    await runner.advanceClock(45_000); // 90 s after its first end, 45 s after its second
    await runDurableObjectAlarm(runner);
    expect((await runner.get("stay")).state).toBe("SUCCESS");
    await runner.advanceClock(15_000);
    await runDurableObjectAlarm(runner);
    expect((await rejection(runner.get("stay"))).name).toBe("NotFound");
  });
});
