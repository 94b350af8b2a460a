// taskflow-ts/worker in Node: the runner and its client over a MessageChannel, which is what a
// Worker gives a page (Comlink sees a MessagePort either way). What only a browser shows (a
// real Worker, a SharedWorker, the page's timers during a busy task) is in test/browser/worker.test.ts.
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  Cancelled, DisallowedAccess, Failure, InvalidFormat, LockHeld, LockLost, MemoryBackend, MissingDependencies, NotFound,
  readSnapshot, RequestTimeout, WrappedFailure, linearFlow, task, unorderedFlow, waitFor, type Backend,
} from "taskflow-ts";
import { ManualClock } from "taskflow-ts/testing";
import { connectRunner, exposeRunner, type RunnerHost, type ExposeRunnerOptions, type RunnerClient, type RunnerEvents } from "taskflow-ts/worker";
import { flows, gateEntered, openGate, PaymentDeclined, type Flows } from "../fixtures/worker-flows.js";

const opened: Array<{ host: RunnerHost; ports: MessagePort[]; clients: RunnerClient[] }> = [];
afterEach(async () => {
  for (const { host, ports, clients } of opened.splice(0)) {
    for (const c of clients) await c.close().catch(() => undefined);
    host.close();
    for (const p of ports) p.close();
  }
});

/** A runner (as in a worker) and a client (as in the page), over a channel. */
function setUp(options: Partial<ExposeRunnerOptions<Flows>> = {}) {
  const backend = (options.backend ?? new MemoryBackend()) as Backend;
  const { port1, port2 } = new MessageChannel();
  const host = exposeRunner<Flows>({ flows, ...options, backend, scope: port1 });
  const clients: RunnerClient<Flows>[] = [];
  const connect = () => {
    const c = connectRunner<Flows>(port2);
    clients.push(c);
    return c;
  };
  opened.push({ host, ports: [port1, port2], clients });
  return { backend, host, runner: connect(), connect };
}

let key = 0;
const gateKey = () => `gate-${++key}`;

describe("a runner and its client", () => {
  it("start stores the flow and runs it; run waits for its end; the snapshot is the one readSnapshot reads", async () => {
    const { backend, runner } = setUp();
    const started = await runner.start("greet", ["ada"]);
    expect(["PENDING", "RUNNING", "SUCCESS"]).toContain(started.state);
    const done = await runner.run(started.uuid);
    expect(done.state).toBe("SUCCESS");
    expect(done.atoms.map((a) => [a.name, a.state, a.result])).toEqual([["hello", "SUCCESS", "hello ada"]]);
    const direct = await readSnapshot(backend, started.uuid);
    expect(await runner.snapshot(started.uuid)).toEqual(direct);
    const log = await runner.logBook(started.uuid);
    expect(log.flowDetail.uuid).toBe(started.uuid);
    expect(log.logBook.uuid).toBe(log.flowDetail.bookUuid);
    expect(log.atomDetails.map((a) => a.name)).toEqual(["hello"]);
  });

  it("start with { run: false } only stores the flow; resume runs it", async () => {
    const { runner } = setUp();
    const { uuid, state } = await runner.start("greet", ["bo"], { run: false });
    expect(state).toBe("PENDING");
    expect((await runner.snapshot(uuid)).state).toBe("PENDING");
    await runner.resume(uuid);
    expect((await runner.run(uuid)).state).toBe("SUCCESS");
  });

  it("waits for input, takes it through provide and goes on; revise redoes what depends on it", async () => {
    const { runner } = setUp();
    const { uuid } = await runner.start("signup");
    const waiting = await runner.run(uuid);
    expect(waiting.state).toBe("SUSPENDED");
    expect(waiting.waitingFor.map((w) => w.name)).toEqual(["email"]);
    await runner.provide(uuid, "email", "ada@example.org");
    const done = await runner.run(uuid);
    expect(done.state).toBe("SUCCESS");
    expect(done.atoms.find((a) => a.name === "welcome")?.result).toBe("welcome ada@example.org");
    await runner.revise(uuid, "email", "bo@example.org");
    const revised = await runner.run(uuid);
    expect(revised.atoms.find((a) => a.name === "welcome")?.result).toBe("welcome bo@example.org");
  });

  it("suspend stops the flow after its running task and keeps it stopped; resume goes on", async () => {
    const { host, runner } = setUp();
    const gate = gateKey();
    // The task finishes once the worker has handled the suspend (and asked the engine to stop).
    const suspend = host.suspend.bind(host);
    host.suspend = (id) => {
      const suspending = suspend(id);
      setImmediate(() => openGate(gate));
      return suspending;
    };
    const { uuid } = await runner.start("gated", [gate]);
    await gateEntered(gate);
    const suspended = await runner.suspend(uuid);
    expect(suspended.state).toBe("SUSPENDED");
    expect(suspended.atoms.map((a) => a.state)).toEqual(["SUCCESS", "SUCCESS", "PENDING"]);
    await runner.resume(uuid);
    expect((await runner.run(uuid)).state).toBe("SUCCESS");
  });

  it("a flow whose wait has a deadline is run again by the runner's timer at that deadline", async () => {
    const clock = new ManualClock(1_000);
    const deadline = { deadline: () => linearFlow("deadline", waitFor("code", { timeoutMs: 60_000 })) };
    const { port1, port2 } = new MessageChannel();
    const host = exposeRunner({ flows: deadline, backend: new MemoryBackend(), clock, scope: port1 });
    const runner = connectRunner<typeof deadline>(port2);
    opened.push({ host, ports: [port1, port2], clients: [runner as RunnerClient] });
    const { uuid } = await runner.start("deadline");
    expect((await runner.run(uuid)).wakeAt).toBe(61_000);
    let ended!: (state: string) => void;
    const reverted = new Promise<string>((resolve) => (ended = resolve));
    await runner.subscribe({ flow: (e) => e.state === "REVERTED" && ended(e.state) }, { flow: uuid });
    clock.advance(60_000);
    expect(await reverted).toBe("REVERTED");
    const snap = await runner.snapshot(uuid);
    expect(snap.atoms[0]?.failure?.check(RequestTimeout)).toBe("RequestTimeout");
  });
});

describe("resumeOrStart by a key", () => {
  it("starts the flow once; a second page (and a page after a reload) gets the same flow back, resumed, then finished", async () => {
    const { backend, runner, connect } = setUp();
    const first = await runner.resumeOrStart("signup:ada", "signup", [], { run: false });
    expect(first.outcome).toBe("started");
    expect(first.snapshot.state).toBe("PENDING");
    expect(await backend.getKeyedFlow?.("signup:ada")).toBe(first.snapshot.uuid);
    // Another page of the same worker: the runner's own engine for it, not a second one.
    const other = connect();
    const again = await other.resumeOrStart("signup:ada", "signup");
    expect(again.outcome).toBe("resumed");
    expect(again.snapshot.uuid).toBe(first.snapshot.uuid);
    expect((await other.run(first.snapshot.uuid)).waitingFor.map((w) => w.name)).toEqual(["email"]);
    await other.provide(first.snapshot.uuid, "email", "ada@example.org");
    expect((await other.run(first.snapshot.uuid)).state).toBe("SUCCESS");
    expect((await runner.stats()).flows).toBe(1);
    // Finished: returned as it ended (nothing runs), or replaced by a new flow on request.
    const ended = await runner.resumeOrStart("signup:ada", "signup");
    expect([ended.outcome, ended.snapshot.uuid, ended.snapshot.state]).toEqual(["finished", first.snapshot.uuid, "SUCCESS"]);
    const fresh = await runner.resumeOrStart("signup:ada", "signup", [], { ifFinished: "start", run: false });
    expect(fresh.outcome).toBe("started");
    expect(fresh.replaced).toEqual({ flowDetailId: first.snapshot.uuid, reason: "finished" });
    expect(fresh.snapshot.uuid).not.toBe(first.snapshot.uuid);
  });

  it("a new runner (a restarted worker) resumes the key's flow from the log book, with the factory's arguments and store", async () => {
    const backend = new MemoryBackend();
    const started = await setUp({ backend }).runner.resumeOrStart("greet:bo", "greet", ["bo"], { run: false, store: { extra: 1 } });
    const { runner } = setUp({ backend }); // a new worker: its runner holds no engine yet
    const resumed = await runner.resumeOrStart("greet:bo", "greet", ["ignored: the stored flow is resumed"]);
    expect([resumed.outcome, resumed.snapshot.uuid]).toEqual(["resumed", started.snapshot.uuid]);
    const done = await runner.run(started.snapshot.uuid);
    expect(done.atoms.map((a) => a.result)).toEqual(["hello bo"]);
    expect(done.flowDetail.factory).toEqual({ name: "greet", args: ["bo"] });
    expect(done.flowDetail.store).toEqual({ extra: 1 });
  });

  it("a key whose flow is gone starts anew (or throws NotFound); bad input is refused in the page; an unknown flow name is NotFound", async () => {
    const { backend, runner } = setUp();
    const gone = await runner.resumeOrStart("greet:cy", "greet", ["cy"], { run: false });
    await backend.destroyLogBook(gone.snapshot.flowDetail.bookUuid);
    await expect(runner.resumeOrStart("greet:cy", "greet", ["cy"], { ifMissing: "throw" })).rejects.toBeInstanceOf(NotFound);
    const anew = await runner.resumeOrStart("greet:cy", "greet", ["cy"], { run: false });
    expect([anew.outcome, anew.replaced]).toEqual(["started", { flowDetailId: gone.snapshot.uuid, reason: "missing" }]);
    await expect(runner.resumeOrStart("", "greet", ["cy"])).rejects.toBeInstanceOf(InvalidFormat);
    await expect(runner.resumeOrStart("k", "greet", [() => "cy"] as unknown as [string])).rejects.toBeInstanceOf(InvalidFormat);
    await expect(runner.resumeOrStart("k", "nope" as "greet", ["cy"])).rejects.toBeInstanceOf(NotFound);
    expect(await backend.getKeyedFlow?.("k")).toBeUndefined();
  });
});

describe("errors cross with their class", () => {
  it("cancel: the run under way rejects with Cancelled, and the flow is reverted", async () => {
    const { runner } = setUp();
    const gate = gateKey();
    const { uuid } = await runner.start("gated", [gate]);
    const running = runner.run(uuid).catch((e: unknown) => e);
    await gateEntered(gate);
    const cancelled = await runner.cancel(uuid, "user left");
    expect(cancelled.state).toBe("REVERTED");
    const error = await running;
    expect(error).toBeInstanceOf(Cancelled);
    expect((error as Error).message).toContain("user left");
    await expect(runner.cancel(uuid)).rejects.toBeInstanceOf(DisallowedAccess);
  });

  it("InvalidFormat for a value the wait's schema refuses; NotFound for an unknown flow id or name", async () => {
    const { runner } = setUp();
    const { uuid } = await runner.start("signup");
    await runner.run(uuid);
    const refused = await runner.provide(uuid, "email", "not an email").catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(InvalidFormat);
    expect((refused as Error).name).toBe("InvalidFormat");
    expect((await runner.snapshot(uuid)).flowDetail.inputs ?? {}).toEqual({});
    await expect(runner.snapshot("no-such-flow")).rejects.toBeInstanceOf(NotFound);
    await expect(runner.resume("no-such-flow")).rejects.toBeInstanceOf(NotFound);
    await expect(runner.start("nope" as "greet", ["x"])).rejects.toBeInstanceOf(NotFound);
  });

  it("MissingDependencies keeps its list of what is missing, and start stores nothing", async () => {
    const { backend, runner } = setUp();
    const error = await runner.start("needsUser").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MissingDependencies);
    expect((error as MissingDependencies).missing).toEqual([{ atom: "use", symbol: "user" }]);
    expect(await (backend as MemoryBackend).listLogBooks()).toEqual([]);
    const ok = await runner.start("needsUser", [], { store: { user: "ada" } });
    expect((await runner.run(ok.uuid)).state).toBe("SUCCESS");
  });

  it("a task's own error class (registered on both sides) comes back as that class, with its own fields", async () => {
    const { runner } = setUp();
    const { uuid } = await runner.start("failing", ["declined"]);
    const error = await runner.run(uuid).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PaymentDeclined);
    expect(error).toMatchObject({ name: "PaymentDeclined", message: "card declined", reason: "insufficient funds" });
    expect((error as Error).stack).toContain("card declined");
    const snap = await runner.snapshot(uuid);
    expect(snap.state).toBe("REVERTED");
    expect(snap.atoms[0]?.failure).toBeInstanceOf(Failure);
    expect(snap.atoms[0]?.failure?.check(PaymentDeclined)).toBe("PaymentDeclined");
  });

  it("LockLost thrown in the worker is a LockLost in the page", async () => {
    const { runner } = setUp();
    const { uuid } = await runner.start("failing", ["lock-lost"]);
    await expect(runner.run(uuid)).rejects.toBeInstanceOf(LockLost);
  });

  it("LockHeld: a second runner on the same log books, told not to wait, is refused while the first runs the flow", async () => {
    const backend = new MemoryBackend();
    const first = setUp({ backend });
    const second = setUp({ backend, waitForLock: false });
    const gate = gateKey();
    const { uuid } = await first.runner.start("gated", [gate]);
    await gateEntered(gate);
    const error = await second.runner.run(uuid).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LockHeld);
    openGate(gate);
    expect((await first.runner.run(uuid)).state).toBe("SUCCESS");
  });

  it("a WrappedFailure keeps its failures", async () => {
    // Two tasks that fail at once on the parallel engine: the run rejects with both.
    const fail = (name: string, error: Error) => task({ name, execute: async () => Promise.reject(error) });
    const both = { both: () => unorderedFlow("both", fail("a", new TypeError("a failed")), fail("b", new RangeError("b failed"))) };
    const { port1, port2 } = new MessageChannel();
    const host = exposeRunner({ flows: both, backend: new MemoryBackend(), engine: "parallel", scope: port1 });
    const runner = connectRunner<typeof both>(port2);
    opened.push({ host, ports: [port1, port2], clients: [runner as RunnerClient] });
    const error = await runner.run((await runner.start("both")).uuid).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WrappedFailure);
    expect([...(error as WrappedFailure)].map((f) => f.name).sort()).toEqual(["RangeError", "TypeError"]);
  });
});

describe("only plain data crosses", () => {
  class Cart {
    constructor(readonly items: string[]) {}
  }

  it("a function or a class instance given to provide, revise or start is refused in the page, naming the input, and nothing is stored", async () => {
    const { runner } = setUp();
    const { uuid } = await runner.start("signup");
    await runner.run(uuid);
    const before = await runner.logBook(uuid);

    const fn = await runner.provide(uuid, "email", () => "ada@example.org").catch((e: unknown) => e);
    expect(fn).toBeInstanceOf(InvalidFormat);
    expect((fn as Error).message).toBe('the value provided for "email" (the input of wait "wait:email") cannot be stored in a log book: email (a function); use plain data');
    // A class instance would cross as a plain object (a structured clone drops its class) and be
    // stored: refused here, before it is sent.
    const instance = await runner.provide(uuid, "email", { cart: new Cart(["x"]) }).catch((e: unknown) => e);
    expect(instance).toBeInstanceOf(InvalidFormat);
    expect((instance as Error).message).toContain("email.cart (a Cart instance)");
    await expect(runner.revise(uuid, "email", new Cart([]))).rejects.toThrow(/"email".*email \(a Cart instance\)/);
    await expect(runner.start("greet", [new Cart([]) as unknown as string])).rejects.toThrow(/arguments of flow "greet".*args\[0\] \(a Cart instance\)/);
    await expect(runner.start("needsUser", [], { store: { user: Symbol("u") } })).rejects.toThrow(/store of flow "needsUser".*store\.user \(a symbol\)/);

    expect(await runner.logBook(uuid)).toEqual(before);
    expect((await runner.snapshot(uuid)).waitingFor.map((w) => w.name)).toEqual(["email"]);
  });
});

describe("subscriptions", () => {
  it("deliver flow and atom transitions and progress, in order, with failures as Failures", async () => {
    const { runner } = setUp();
    const seen: string[] = [];
    const failures: unknown[] = [];
    const off = await runner.subscribe({
      flow: (e) => seen.push(`flow ${e.state}`),
      atom: (e) => {
        seen.push(`${e.name} ${e.state}`);
        if (e.failure) failures.push(e.failure);
      },
      progress: (e) => seen.push(`${e.name} ${e.progress}`),
    });
    const { uuid } = await runner.start("failing", ["declined"]);
    await runner.run(uuid).catch(() => undefined);
    await runner.stats(); // a round trip: every event posted before it has arrived
    expect(seen).toEqual([
      "flow RUNNING", "charge RUNNING", "charge 0", "charge FAILURE", "charge REVERTING", "charge 0", "charge REVERTED", "charge 1", "flow REVERTED",
    ]);
    expect(failures).toHaveLength(1);
    expect(failures[0]).toBeInstanceOf(Failure);
    expect((failures[0] as Failure).check(PaymentDeclined)).toBe("PaymentDeclined");
    await off();
  });

  it("a listener that throws does not keep the others from their events; the error is reported", async () => {
    const { runner } = setUp();
    const reported: unknown[] = [];
    const error = vi.spyOn(console, "error").mockImplementation((...args: unknown[]) => void reported.push(args[1]));
    const seen: string[] = [];
    await runner.subscribe({
      atom: (e) => {
        throw new Error(`listener broke on ${e.name} ${e.state}`);
      },
      flow: (e) => seen.push(e.state),
    });
    await runner.run((await runner.start("greet", ["x"], { run: false })).uuid);
    await runner.stats();
    error.mockRestore();
    expect(seen).toEqual(["RUNNING", "SUCCESS"]);
    expect(reported.map((e) => (e as Error).message)).toEqual(["listener broke on hello RUNNING", "listener broke on hello SUCCESS"]);
  });

  it("of one flow receive that flow's events only", async () => {
    const { runner } = setUp();
    const a = await runner.start("greet", ["a"], { run: false });
    const b = await runner.start("greet", ["b"], { run: false });
    const ids = new Set<string>();
    await runner.subscribe({ atom: (e) => ids.add(e.flowUuid) }, { flow: b.uuid });
    await runner.run(a.uuid);
    await runner.run(b.uuid);
    await runner.stats();
    expect([...ids]).toEqual([b.uuid]);
  });

  it("leave nothing behind in the worker: not after unsubscribe, not after the client closes", async () => {
    const { host, runner, connect } = setUp();
    const gate = gateKey();
    const { uuid } = await runner.start("gated", [gate], { run: false });
    const events: Array<RunnerEvents["atom"]> = [];
    const offAll = await runner.subscribe({ atom: (e) => events.push(e), flow: () => undefined });
    const offOne = await runner.subscribe({ progress: () => undefined }, { flow: uuid });
    expect(host.stats()).toMatchObject({ connections: 1, subscriptions: 2, engineListeners: 3, flows: 1 });

    await offOne();
    expect(host.stats()).toMatchObject({ subscriptions: 1, engineListeners: 2 });
    await offOne(); // twice is nothing
    await offAll();
    expect(host.stats()).toMatchObject({ connections: 1, subscriptions: 0, engineListeners: 0 });

    // Released: the flow runs, and no event reaches the page any more.
    await runner.resume(uuid);
    await gateEntered(gate);
    openGate(gate);
    await runner.run(uuid);
    expect(events).toEqual([]);

    // A second page subscribes, then closes without unsubscribing: the worker lets go of it all.
    const other = connect();
    await other.subscribe({ atom: () => undefined, progress: () => undefined });
    await other.subscribe({ flow: () => undefined }, { flow: uuid });
    const busy = await runner.start("gated", [gateKey()], { run: false });
    // The ended flow is still held (its last run's end is kept): atom, progress and flow on it;
    // atom and progress on the new one.
    expect(host.stats()).toMatchObject({ connections: 2, subscriptions: 2, engineListeners: 5, flows: 2 });
    await other.close();
    expect(host.stats()).toMatchObject({ connections: 1, subscriptions: 0, engineListeners: 0 });
    await expect(other.stats()).rejects.toBeInstanceOf(DisallowedAccess);
    expect((await runner.stats()).connections).toBe(1); // the first page is still served
    expect(busy.state).toBe("PENDING");

    // Each open client holds a Web Lock the runner waits for (how it notices a page that died):
    // none is left, held or asked for, once the clients are closed.
    const ours = async () => {
      const { held = [], pending = [] } = await navigator.locks.query();
      return [...held, ...pending].filter((l) => l.name?.startsWith("taskflow-ts/worker/client/")).map((l) => l.mode);
    };
    expect(await ours()).toEqual(["exclusive", "exclusive"]); // the first page's: held by it, asked for by the runner
    await runner.close();
    expect(host.stats()).toMatchObject({ connections: 0, subscriptions: 0, engineListeners: 0 });
    expect(await ours()).toEqual([]);
  });

  it("of the flows that ended, the runner keeps the last 16 (with how they ended) and lets go of older ones", async () => {
    const { host, runner } = setUp();
    await runner.subscribe({ atom: () => undefined });
    const ids: string[] = [];
    for (let i = 0; i < 20; i++) {
      const { uuid } = await runner.start("greet", [`x${i}`]);
      ids.push(uuid);
      await runner.run(uuid);
    }
    expect(host.stats()).toMatchObject({ flows: 16, engineListeners: 16, running: 0, subscriptions: 1 });
    // One let go is loaded again when asked about; it has ended SUCCESS, so running it changes nothing.
    expect((await runner.run(ids[0] as string)).state).toBe("SUCCESS");
  });

  it("onEngine wires each engine the runner makes, once loaded, and is undone when the runner lets go of it", async () => {
    const wired: string[] = [];
    const undone: string[] = [];
    const { runner } = setUp({
      onEngine: (engine) => {
        wired.push(`${engine.flowDetailId} ${engine.storage.flowState}`);
        return () => undone.push(engine.flowDetailId);
      },
    });
    const ids: string[] = [];
    for (let i = 0; i < 17; i++) {
      const { uuid } = await runner.start("greet", [`x${i}`], { run: false });
      ids.push(uuid);
      await runner.run(uuid);
    }
    expect(wired).toEqual(ids.map((id) => `${id} PENDING`));
    expect(undone).toEqual([ids[0]]); // the 17th flow that ended pushed the oldest out
    await runner.snapshot(ids[0] as string); // a snapshot reads the store: no engine
    await runner.run(ids[0] as string); // loaded again from its log book: wired again
    expect(wired.slice(17)).toEqual([`${ids[0]} SUCCESS`]);
  });

  it("run right after start reports how the run start began ended, without running the flow again", async () => {
    const { runner } = setUp();
    const started: string[] = [];
    await runner.subscribe({ atom: (e) => e.state === "RUNNING" && started.push(e.name) });
    const { uuid } = await runner.start("failing", ["declined"]);
    await runner.snapshot(uuid);
    await expect(runner.run(uuid)).rejects.toBeInstanceOf(PaymentDeclined);
    await expect(runner.run(uuid)).rejects.toBeInstanceOf(PaymentDeclined);
    await runner.stats();
    expect(started).toEqual(["charge"]);
  });
});
