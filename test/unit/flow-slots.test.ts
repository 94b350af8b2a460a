// The FlowRunner's slot logic (adapters/durable-object/flow-slots.ts) in Node: the runner's
// flows on a MemoryBackend and a ManualClock, with a Map for its key-value storage and a
// number for its alarm. workerd proves the Durable Object around it (test/workerd/flow-runner*).
import { afterEach, describe, expect, it, vi } from "vitest";
import { FlowSlots, SLOT_TRANSITIONS, type FlowRunnerOptions, type SlotState } from "../../adapters/durable-object/flow-slots.js";
import { MemoryBackend, type Engine } from "../../src/index.js";
import { ManualClock } from "../../src/testing/index.js";
import { BACKOFF_MS, runnerFlows } from "../workerd/runner-flows.js";
import { MapKv, rejection } from "./helpers.js";

const DAY = 86_400_000;
const CHECKOUT_STORE = { cart: "cart-7", price: 90 };

/** A runner's slots as a Durable Object would host them; `life()` makes the next life of the object (same storage). */
function host(options: FlowRunnerOptions = {}) {
  const clock = new ManualClock(1_000_000);
  const backend = new MemoryBackend();
  const kv = new MapKv();
  let alarm: number | null = null;
  const tally: Record<string, number> = {};
  let open!: () => void;
  const gate = new Promise<void>((resolve) => (open = resolve));
  const flows = runnerFlows({ count: (kind, name) => (tally[`${kind}:${name}`] = (tally[`${kind}:${name}`] ?? 0) + 1), gate: () => gate });
  const engines: Engine[] = [];
  const life = () =>
    new FlowSlots({
      backend, flows, kv, options: { clock, ...options },
      alarm: { getAlarm: async () => alarm, setAlarm: async (at) => void (alarm = at), deleteAlarm: async () => void (alarm = null) },
      observe: (engine) => void engines.push(engine),
    });
  return { clock, backend, kv, tally, open, engines, life, alarmAt: () => alarm };
}

/** Lets promise callbacks run until `check` holds. */
async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 0));
  expect(check()).toBe(true);
}

describe("FlowSlots", () => {
  afterEach(() => vi.restoreAllMocks());

  it("has one table of slot states: loading and running come back to idle, only a running flow is cancelled", () => {
    const states: SlotState[] = ["idle", "loading", "running", "cancelling"];
    const allowed = states.flatMap((from) => states.filter((to) => SLOT_TRANSITIONS[from].includes(to)).map((to) => `${from}>${to}`));
    expect(allowed).toEqual(["idle>loading", "idle>running", "loading>idle", "running>idle", "running>cancelling", "cancelling>idle"]);
  });

  it("starts a flow (stored, alarm armed now), runs it by alarm to the end, then keeps it for the retention period only", async () => {
    const h = host();
    const slots = h.life();
    const started = await slots.start("job", "checkout", [], CHECKOUT_STORE);
    expect(started).toMatchObject({ created: true, state: "PENDING", pending: true });
    expect(h.alarmAt()).toBe(h.clock.now());
    expect(slots.stateOf("job")).toBe("idle");

    await slots.alarm();
    const end = await slots.get("job");
    expect(end).toMatchObject({ state: "SUCCESS", pending: false });
    expect(end.atoms.email).toEqual({ state: "SUCCESS", result: "sent receipt R-1" });
    expect(h.alarmAt()).toBe(h.clock.now() + 7 * DAY); // the collection

    h.clock.advance(7 * DAY - 1);
    await slots.alarm();
    expect((await slots.get("job")).state).toBe("SUCCESS");
    h.clock.advance(1);
    await h.life().alarm(); // in another life of the object: the expiry is stored
    expect(await rejection(slots.get("job"))).toMatchObject({ name: "NotFound" });
    expect(await h.backend.listLogBooks()).toEqual([]);
    expect([...h.kv.map.keys()]).toEqual([]);
    expect(h.alarmAt()).toBeNull();
  });

  it("keeps finished flows forever with retentionMs: Infinity", async () => {
    const h = host({ retentionMs: Infinity });
    const slots = h.life();
    await slots.start("job", "checkout", [], CHECKOUT_STORE);
    await slots.alarm();
    expect(h.alarmAt()).toBeNull();
    expect((await slots.get("job")).state).toBe("SUCCESS");
  });

  it("serves a retry's backoff at its stored time, and an input when it comes", async () => {
    const h = host();
    const slots = h.life();
    await slots.start("call", "flaky");
    await slots.start("stay", "booking", [], { room: "double" });
    await slots.alarm();
    const waiting = await slots.get("call");
    expect(waiting).toMatchObject({ state: "SUSPENDED", suspendedReason: "waiting", wakeAt: h.clock.now() + BACKOFF_MS, pending: true });
    expect(await slots.get("stay")).toMatchObject({ state: "SUSPENDED", suspendedReason: "input", waitingFor: [{ name: "nights" }], pending: false });
    expect(h.alarmAt()).toBe(waiting.wakeAt);

    await slots.alarm(); // early: nothing is due
    expect(h.tally["executions:call"]).toBe(1);
    h.clock.advance(BACKOFF_MS);
    expect(await rejection(slots.provide("stay", "nights", -1))).toMatchObject({ name: "InvalidFormat" });
    expect(await slots.provide("stay", "nights", 3)).toMatchObject({ state: "SUSPENDED", pending: true, waitingFor: [] });
    await slots.alarm();
    expect(await slots.get("call")).toMatchObject({ state: "SUCCESS", atoms: { call: { result: "answered" }, call_retry: { result: 2 } } });
    expect((await slots.get("stay")).atoms.quote?.result).toBe(240);
  });

  it("cancels a running flow: the slot goes running -> cancelling -> idle, and the flow's next turn waits for the revert", async () => {
    const h = host();
    const slots = h.life();
    await slots.start("slow", "gated");
    const driving = slots.alarm();
    await until(() => h.tally["executions:slow"] === 1);
    expect(slots.stateOf("slow")).toBe("running");

    const cancelling = slots.cancel("slow", "too slow");
    expect(slots.stateOf("slow")).toBe("cancelling");
    const again = slots.start("slow", "gated"); // in the flow's turn: after the revert
    const cancelled = await cancelling;
    expect(cancelled).toMatchObject({ state: "REVERTED", pending: false });
    expect(cancelled.atoms.slow?.failure?.message).toContain("too slow");
    expect(slots.stateOf("slow")).toBe("idle");
    expect(await again).toMatchObject({ created: false, state: "REVERTED" });
    await driving;
    expect(h.tally).toEqual({ "executions:slow": 1, "reverts:slow": 1 });
  });

  it("cancels a flow waiting for input in its turn, and refuses changes to an ended flow", async () => {
    const h = host();
    const slots = h.life();
    await slots.start("stay", "booking", [], { room: "single" });
    await slots.alarm();
    const cancelled = await slots.cancel("stay", "guest left");
    expect(cancelled.state).toBe("REVERTED");
    expect(h.tally).toEqual({ "executions:hold": 1, "reverts:hold": 1 });
    for (const call of [slots.cancel("stay"), slots.resume("stay"), slots.suspend("stay"), slots.provide("stay", "nights", 2)]) {
      expect(await rejection(call)).toMatchObject({ name: "DisallowedAccess", message: expect.stringMatching(/it has ended REVERTED/) as string });
    }
  });

  it("suspends a flow (no alarm runs it) until resumed; a new life of the object loads it from its log book", async () => {
    const h = host();
    await h.life().start("call", "flaky");
    const slots = h.life();
    await slots.alarm();
    expect(await slots.suspend("call")).toMatchObject({ state: "SUSPENDED", suspendedReason: "suspended", pending: false });
    expect(h.alarmAt()).toBeNull();
    h.clock.advance(BACKOFF_MS);
    const next = h.life();
    await next.alarm();
    expect(h.tally["executions:call"]).toBe(1);
    await next.resume("call");
    await next.alarm();
    expect((await next.get("call")).state).toBe("SUCCESS");
    expect(h.engines.length).toBe(3); // built by start, loaded by the second life, and by the third
  });

  it("starts once per id, refuses other input, and leaves the id free after a refused start", async () => {
    const h = host();
    const slots = h.life();
    const first = await slots.start("pay", "checkout", [], CHECKOUT_STORE);
    expect(await slots.start("pay", "checkout", [], { price: 90, cart: "cart-7" })).toMatchObject({ created: false, flowDetailId: first.flowDetailId });
    expect(await rejection(slots.start("pay", "checkout", [], { cart: "x", price: 1 }))).toMatchObject({ name: "Duplicate" });
    expect(await rejection(slots.start("j", "checkout", [], { cart: "c" }))).toMatchObject({ name: "MissingDependencies" });
    expect(await rejection(slots.get("j"))).toMatchObject({ name: "NotFound" });
    expect(slots.stateOf("j")).toBe("idle");
    let deep: unknown = "cart-7";
    for (let i = 0; i < 10_000; i++) deep = [deep];
    expect(await rejection(slots.start("deep", "checkout", [], { cart: deep as string, price: 1 }))).toMatchObject({ name: "InvalidFormat", message: "invalid store: nested deeper than 100 levels; flatten it" });
    expect(await rejection(slots.get("deep"))).toMatchObject({ name: "NotFound" });
  });

  it("marks a flow whose runner entry is corrupted broken (get says why), and its alarm goes on with the others", async () => {
    const h = host();
    const slots = h.life();
    await slots.start("good", "checkout", [], CHECKOUT_STORE);
    await slots.start("bad", "checkout", [], CHECKOUT_STORE);
    const corrupted = { id: "bad", flow: 42 };
    h.kv.map.set("runner:flow:bad", corrupted);

    const logged = vi.spyOn(console, "error").mockImplementation(() => {});
    await slots.alarm(); // must not throw: "good" is not held back by "bad"
    expect(logged.mock.calls.map(([line]) => line)).toEqual(['FlowRunner: flow "bad" stopped; fix the cause, then resume it:']);
    expect(await slots.get("good")).toMatchObject({ state: "SUCCESS", pending: false });
    const broken = await rejection(slots.get("bad"));
    expect(broken).toMatchObject({ name: "StorageFailure", message: expect.stringMatching(/runner entry "runner:flow:bad" is corrupted or foreign: flow: .*; the runner no longer runs it/) });
    expect(h.kv.map.get("runner:flow:bad")).toEqual(corrupted); // left as it was, for repair
    expect(h.kv.map.has("runner:active:bad")).toBe(false); // later alarms skip it
    await h.life().alarm();
    expect(h.tally["executions:charge"]).toBe(1);
  });

  it("skips foreign keys and times among its entries: the alarm goes on, and deletes nothing on their word", async () => {
    const h = host();
    const slots = h.life();
    await slots.start("good", "checkout", [], CHECKOUT_STORE);
    h.kv.map.set("runner:active:%E0%A4%A", 1);
    h.kv.map.set("runner:expires:%E0%A4%A", 0);
    await slots.alarm();
    const ended = await slots.get("good");
    expect(ended).toMatchObject({ state: "SUCCESS" });
    h.kv.map.set("runner:expires:good", "soon");
    h.clock.advance(30 * DAY);
    await slots.alarm();
    expect(await slots.get("good")).toEqual(ended); // kept: its time to go does not read back
  });

  it("marks a flow whose log book is corrupted (a forged atom record) broken, and goes on with the others", async () => {
    const h = host();
    const slots = h.life();
    const bad = await slots.start("bad", "checkout", [], CHECKOUT_STORE);
    await slots.start("good", "checkout", [], CHECKOUT_STORE);
    const id = bad.flowDetailId as string;
    const forged = { schemaVersion: 2, uuid: "forged", flowUuid: id, name: "charge", kind: "task", state: "PENDING", intention: "EXECUTE", version: "1.0", meta: {}, updatedAt: 1 } as const;
    await h.backend.commit({ logBooks: [], flows: [], atoms: [forged] });

    const logged = vi.spyOn(console, "error").mockImplementation(() => {});
    await slots.alarm();
    expect(logged).toHaveBeenCalledTimes(1);
    expect(await slots.get("good")).toMatchObject({ state: "SUCCESS" });
    expect(await rejection(slots.get("bad"))).toMatchObject({ name: "StorageFailure", message: expect.stringContaining('atom details "forged"') });
    expect(h.tally["executions:charge"]).toBe(1);
  });
});
