import * as z from "zod/mini";
import { beforeEach, describe, expect, it } from "vitest";
import { captureListener, DisallowedAccess, graphFlow, InvalidFormat, linearFlow, load, MemoryBackend, NotFound, RequestTimeout, task, unorderedFlow, waitFor, type Engine, provide, revise, waitingFor } from "../../src/index.js";
import { memoryBackendFromDump } from "../../src/backend.js";
import { assertCrashSafe, ManualClock } from "../../src/testing/index.js";
import { countCommits } from "../../src/backend.js";

// A booking wizard: four steps wait for a person; a quote is computed from two answers
// (nights, room) and a reservation is made from the quote; a greeting uses only the name.
let executed: Record<string, number>;
let reverted: string[];
beforeEach(() => {
  executed = {};
  reverted = [];
});
const counted = <A extends object, R>(name: string, requires: Array<keyof A & string>, provides: string, fn: (a: A) => R) =>
  task<A, R>({
    name,
    requires,
    provides,
    execute: (args) => {
      executed[name] = (executed[name] ?? 0) + 1;
      return fn(args);
    },
    revert: () => {
      reverted.push(name);
    },
  });

const wizard = () =>
  linearFlow(
    "booking",
    waitFor("name", { schema: z.string().check(z.minLength(2)), description: "Your name" }),
    counted("greet", ["name"], "greeting", ({ name }: { name: string }) => `Welcome, ${name}`),
    waitFor("nights", { schema: z.number().check(z.int(), z.positive()), description: "How many nights" }),
    waitFor("room", { schema: z.enum(["single", "double"]), description: "Room type" }),
    counted("quote", ["nights", "room"], "price", ({ nights, room }: { nights: number; room: string }) => nights * (room === "double" ? 120 : 80)),
    counted("reserve", ["price", "name"], "reservation", ({ price, name }: { price: number; name: string }) => `${name}:${price}`),
    waitFor("confirm", { schema: z.literal(true), description: "Confirm the booking" }),
  );

const waiting = async (engine: Engine) => (await waitingFor(engine)).map((w) => w.name);
/** A new engine on the same log book, as after a page reload (the log book round-trips JSON). */
const reload = (backend: MemoryBackend, id: string) => {
  const copy = memoryBackendFromDump(JSON.parse(JSON.stringify(backend.dump())));
  return { backend: copy, engine: load(wizard(), { backend: copy, flowDetailId: id }) };
};

describe("waiting for input", () => {
  it("runs to the first wait, stores what it waits for, and returns control", async () => {
    const backend = new MemoryBackend();
    const engine = load(wizard(), { backend });
    await engine.run();
    expect(engine.storage.flowState).toBe("SUSPENDED");
    const stored = await backend.getFlowDetail(engine.flowDetailId);
    expect(stored.suspendedReason).toBe("input");
    expect(stored.waitingFor).toEqual([{ name: "name", description: "Your name" }]);
    const [first] = await waitingFor(engine);
    expect(first).toMatchObject({ name: "name", atom: "wait:name", description: "Your name" });
    expect(first?.schema).toBeDefined();
    expect(executed).toEqual({});
  });

  it("stores what a suspended flow's waits wait for, with the reason that it was suspended", async () => {
    const backend = new MemoryBackend();
    const clock = new ManualClock(1_000);
    // Serial: the wait is reached and held, then "stop" asks to suspend while "later" is still queued.
    const flow = unorderedFlow(
      "form",
      waitFor("email", { description: "Your e-mail", timeoutMs: 60_000 }),
      task({ name: "stop", execute: () => void engine.suspend() }),
      task({ name: "later", execute: () => 1 }),
    );
    const engine: Engine = load(flow, { backend, clock });
    await engine.run();
    const stored = await backend.getFlowDetail(engine.flowDetailId);
    expect(stored.suspendedReason).toBe("suspended");
    expect(stored.waitingFor).toEqual([{ name: "email", description: "Your e-mail", deadline: 61_000 }]);
    expect(stored.wakeAt).toBeUndefined();
    expect(engine.storage.getAtomState("later")).toBe("PENDING");
  });

  it("goes step by step, surviving a reload between each, with an early answer kept until its step", async () => {
    let backend = new MemoryBackend();
    let engine = load(wizard(), { backend });
    await engine.run();
    const id = engine.flowDetailId;

    // The room is answered early, before the wizard reaches it: kept in the log book.
    await provide(engine, "room", "double", { run: false });
    expect((await backend.getFlowDetail(id)).inputs).toEqual({ room: "double" });

    ({ backend, engine } = reload(backend, id));
    await provide(engine, "name", "Ada");
    expect(await waiting(engine)).toEqual(["nights"]);
    expect(engine.storage.fetch("greeting")).toBe("Welcome, Ada");

    ({ backend, engine } = reload(backend, id));
    await provide(engine, "nights", 3);
    // The early room answer was consumed when its wait started: straight on to the quote.
    expect(await waiting(engine)).toEqual(["confirm"]);
    expect(engine.storage.fetch("price")).toBe(360);
    expect(engine.storage.flowDetail.inputs).toEqual({});

    ({ backend, engine } = reload(backend, id));
    await provide(engine, "confirm", true);
    expect(engine.storage.flowState).toBe("SUCCESS");
    expect(engine.storage.fetch("reservation")).toBe("Ada:360");
    expect(executed).toEqual({ greet: 1, quote: 1, reserve: 1 });
  });

  it("refuses a bad value with the schema's message and changes nothing", async () => {
    const memory = new MemoryBackend();
    const backend = countCommits(memory);
    const engine = load(wizard(), { backend });
    await engine.run();
    await provide(engine, "name", "Ada");
    // Each attempt takes the flow's lock, which raises its fencing token (`epoch`); nothing else may change.
    const records = () => JSON.stringify(memory.dump(), (key, value: unknown) => (key === "epoch" ? undefined : value));
    const before = records();
    const commits = backend.commits;
    const error = await provide(engine, "nights", 2.5).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidFormat);
    expect((error as Error).message).toMatch(/value for "nights" refused: .+/);
    await expect(provide(engine, "room", "suite")).rejects.toBeInstanceOf(InvalidFormat);
    expect(records()).toBe(before);
    expect(backend.commits).toBe(commits);
    expect(await waiting(engine)).toEqual(["nights"]);
  });

  it("names the inputs it has when given one it has not, and refuses to take an answer twice", async () => {
    const engine = load(wizard());
    await engine.run();
    await expect(provide(engine, "email", "a@b")).rejects.toThrow(/no wait for "email"; it waits for: name, nights, room, confirm/);
    await expect(provide(engine, "email", "a@b")).rejects.toBeInstanceOf(NotFound);
    await provide(engine, "name", "Ada");
    await expect(provide(engine, "name", "Bob")).rejects.toBeInstanceOf(DisallowedAccess);
    await expect(provide(engine, "name", "Bob")).rejects.toThrow(/use revise\(engine, "name", value\)/);
  });

  it("a wait's timeout fails it, so the flow reverts what ran", async () => {
    const clock = new ManualClock(1_000);
    const flow = linearFlow("quick", counted("hold", [], "held", () => "seat"), waitFor("pay", { timeoutMs: 60_000 }));
    const backend = new MemoryBackend();
    const engine = load(flow, { backend, clock });
    await engine.run();
    expect(await backend.getFlowDetail(engine.flowDetailId)).toMatchObject({ suspendedReason: "input", wakeAt: 61_000 });
    expect(engine.nextWakeup()).toBe(61_000);
    clock.advance(60_000);
    await expect(engine.run()).rejects.toBeInstanceOf(RequestTimeout);
    expect(engine.storage.flowState).toBe("REVERTED");
    expect(reverted).toEqual(["hold"]);
  });
});

describe("revising an earlier answer", () => {
  const toConfirm = async () => {
    const backend = new MemoryBackend();
    const engine = load(wizard(), { backend });
    await engine.run();
    for (const [name, value] of [["name", "Ada"], ["nights", 2], ["room", "double"]] as const) await provide(engine, name, value);
    expect(await waiting(engine)).toEqual(["confirm"]);
    return { backend, engine };
  };

  it("reverts exactly what depends on it, latest first, runs it again, and leaves the rest alone", async () => {
    const { backend, engine } = await toConfirm();
    const reloaded = reload(backend, engine.flowDetailId).engine;
    const capture = captureListener(reloaded, { flow: false });
    executed = {};
    await revise(reloaded, "room", "single");
    // The quote and the reservation read the room (the reservation through the price).
    expect(reverted).toEqual(["reserve", "quote"]);
    expect(executed).toEqual({ quote: 1, reserve: 1 });
    expect(capture.values).toEqual([
      "reserve.t REVERTING", "reserve.t REVERTED(None)", "reserve.t PENDING",
      "quote.t REVERTING", "quote.t REVERTED(None)", "quote.t PENDING",
      "wait:room.t REVERTING", "wait:room.t REVERTED(None)", "wait:room.t PENDING",
      "wait:room.t RUNNING", "wait:room.t SUCCESS(single)",
      "quote.t RUNNING", "quote.t SUCCESS(160)",
      "reserve.t RUNNING", "reserve.t SUCCESS(Ada:160)",
    ]);
    expect(reloaded.storage.fetchAll()).toMatchObject({ greeting: "Welcome, Ada", price: 160, reservation: "Ada:160" });
    expect(await waiting(reloaded)).toEqual(["confirm"]);
  });

  it("revising the first answer redoes the greeting and the reservation, not the quote", async () => {
    const { engine } = await toConfirm();
    executed = {};
    await revise(engine, "name", "Grace");
    expect(reverted).toEqual(["reserve", "greet"]);
    expect(executed).toEqual({ greet: 1, reserve: 1 });
    expect(engine.storage.fetchAll()).toMatchObject({ greeting: "Welcome, Grace", price: 240, reservation: "Grace:240" });
    // Every step of the revision is in the log book: the reservation ran twice.
    const reserve = engine.storage.detail("reserve");
    expect(reserve.attempts).toBe(2);
    expect(reserve.generation).toBe(1);
  });

  it("revises a store value the same way", async () => {
    const flow = unorderedFlow(
      "prices",
      counted("net", ["amount"], "net", ({ amount }: { amount: number }) => amount),
      counted("tax", ["amount", "rate"], "tax", ({ amount, rate }: { amount: number; rate: number }) => amount * rate),
    );
    const engine = load(flow, { store: { amount: 100, rate: 0.2 } });
    await engine.run();
    executed = {};
    await revise(engine, "rate", 0.5);
    expect(executed).toEqual({ tax: 1 });
    expect(reverted).toEqual(["tax"]);
    expect(engine.storage.fetchAll()).toMatchObject({ net: 100, tax: 50, rate: 0.5 });
  });

  it("refuses an input the flow does not read, and a value the schema refuses, changing nothing", async () => {
    const { backend, engine } = await toConfirm();
    // Each attempt takes the flow's lock, which raises its fencing token (`epoch`); nothing else may change.
    const records = () => JSON.stringify(backend.dump(), (key, value: unknown) => (key === "epoch" ? undefined : value));
    const before = records();
    const epoch = (await backend.getFlowDetail(engine.flowDetailId)).epoch ?? 0;
    await expect(revise(engine, "coupon", "X")).rejects.toBeInstanceOf(NotFound);
    await expect(revise(engine, "coupon", "X")).rejects.toThrow(/does not read an input named "coupon"/);
    await expect(revise(engine, "room", "suite")).rejects.toBeInstanceOf(InvalidFormat);
    expect(records()).toBe(before);
    expect((await backend.getFlowDetail(engine.flowDetailId)).epoch).toBe(epoch + 3);
  });

  it("refuses while an affected atom is running", async () => {
    let release!: () => void;
    let started!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const running = new Promise<void>((r) => (started = r));
    const flow = graphFlow("slow", waitFor("x"), task({ name: "use", requires: ["x"], provides: "y", execute: async ({ x }: { x: number }) => (started(), await gate, x) }));
    const engine = load(flow);
    await provide(engine, "x", 1, { run: false });
    const run = engine.run();
    await running;
    expect(engine.storage.getAtomState("use")).toBe("RUNNING");
    await expect(revise(engine, "x", 2)).rejects.toThrow(/cannot revise "x" while "use" is running/);
    release();
    await run;
    expect(engine.storage.fetch("y")).toBe(1);
  });
});

describe("the crash-point harness over the whole wizard", () => {
  const answers: Record<string, unknown> = { name: "Ada", nights: 2, room: "double", confirm: true };
  /** From any state: answer what is asked; once at the last step, revise the first answer once. */
  const drive = async (engine: Engine) => {
    await engine.run();
    for (;;) {
      const [next] = await waitingFor(engine);
      if (!next) return;
      if (next.name === "confirm" && engine.storage.fetch("name") !== "Grace") await revise(engine, "name", "Grace");
      else await provide(engine, next.name, answers[next.name]);
    }
  };

  for (const kind of ["serial", "parallel"] as const) {
    it(`ends as if uninterrupted, whatever write the host dies at (${kind})`, async () => {
      const report = await assertCrashSafe({ makeFlow: wizard, drive, engine: { engine: kind } });
      expect(report.points).toBeGreaterThan(10);
    });
  }
});
