// taskflow-ts/worker in Chromium: a real dedicated Worker and SharedWorker, log books in the
// worker's IndexedDB. What Node's tests cannot show: the page stays responsive while a task
// spins in the worker, and a page that goes away leaves nothing behind in a SharedWorker.
import { afterEach, describe, expect, it } from "vitest";
import { Cancelled, InvalidFormat, load, MemoryBackend, NotFound } from "taskflow-ts";
import { connectRunner, type RunnerClient } from "taskflow-ts/worker";
import { flows, PaymentDeclined, type Flows } from "../fixtures/worker-flows.js";

const workers: Worker[] = [];
const clients: RunnerClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) await c.close().catch(() => undefined);
  for (const w of workers.splice(0)) w.terminate();
});

/** A dedicated Worker serving the fixture flows on a fresh IndexedDB database, and a client of it. */
function dedicated(): { worker: Worker; runner: RunnerClient<Flows>; connect: () => RunnerClient<Flows> } {
  const worker = new Worker(new URL("./fixtures/runner.worker.ts", import.meta.url), { type: "module", name: `worker-test-${crypto.randomUUID()}` });
  workers.push(worker);
  const connect = () => {
    const c = connectRunner<Flows>(worker);
    clients.push(c as RunnerClient);
    return c;
  };
  return { worker, runner: connect(), connect };
}

/** The page's clock as one time line with the worker's (both count from the same origin of time). */
const now = () => performance.timeOrigin + performance.now();

/** Records when the page's timer fires (a 10 ms setTimeout chain) until stopped. */
function pageTicks() {
  const ticks: number[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  const tick = () => {
    ticks.push(now());
    timer = setTimeout(tick, 10);
  };
  tick();
  return {
    stop: () => clearTimeout(timer),
    /** The ticks strictly inside [from, to], how many fell in each half of it, and the longest time the page went without one there. */
    within: (from: number, to: number) => {
      const inside = ticks.filter((t) => t > from && t < to);
      const edges = [from, ...inside, to];
      const longestGapMs = Math.max(...edges.slice(1).map((t, i) => t - (edges[i] as number)));
      const middle = (from + to) / 2;
      const halves = [inside.filter((t) => t < middle).length, inside.filter((t) => t >= middle).length];
      return { count: inside.length, halves, longestGapMs };
    },
  };
}

describe("a CPU-heavy task", () => {
  // Issue 12: "a CPU-heavy task in the worker does not block the page". The same task, run in
  // the worker then in the page, while the page counts when its own 10 ms timer fires during the
  // task's busy time. A behaviour, not a benchmark: in the page the timer never fires (nothing
  // else runs); with the task in the worker it fires throughout: in both halves of the busy time,
  // and at least a third as often as in a page left alone.
  // Not how long the page went without a tick: on two cores shared with the other test projects
  // the page's thread is sometimes starved for a fifth of the time while the worker spins (a run
  // measured a 214 ms gap in 600 ms), which says nothing of the worker; it logs the gap instead.
  const BUSY_MS = 600;
  type Spun = { startedAt: number; endedAt: number };

  it("in the worker does not block the page (its timer fires throughout the task's busy time); in the page it does (never fires)", async () => {
    const { runner } = dedicated();
    const { uuid } = await runner.start("spin", [BUSY_MS], { run: false });
    let ticks = pageTicks();
    const done = await runner.run(uuid);
    ticks.stop();
    const inWorker = done.atoms[0]?.result as Spun;
    const worker = ticks.within(inWorker.startedAt, inWorker.endedAt);

    const engine = load(flows.spin(BUSY_MS), { backend: new MemoryBackend() });
    ticks = pageTicks();
    await engine.run();
    ticks.stop();
    const inPage = engine.storage.fetch("spun") as Spun;
    const page = ticks.within(inPage.startedAt, inPage.endedAt);

    console.info(
      `the page's longest event-loop gap during a ${BUSY_MS} ms task: ${worker.longestGapMs.toFixed(1)} ms (${worker.count} ticks) with the task in the worker, ` +
        `${page.longestGapMs.toFixed(1)} ms (${page.count} ticks) with it in the page`,
    );
    for (const spun of [inWorker, inPage]) expect(spun.endedAt - spun.startedAt).toBeGreaterThanOrEqual(BUSY_MS);
    expect(page.count).toBe(0); // the contrast: run in the page, the task blocks it throughout
    expect(page.longestGapMs).toBeGreaterThanOrEqual(BUSY_MS);
    expect(worker.halves.every((n) => n > 0)).toBe(true);
    // At least a third of the ticks of a page left alone (one each 10 ms: about 60 here): a page
    // stalled for most of the task fails it, a page starved now and then does not.
    expect(worker.count).toBeGreaterThanOrEqual(BUSY_MS / 30);
  });
});

describe("a runner in a dedicated Worker, on IndexedDB", () => {
  it("starts, waits for input, takes it, and reads back its log book", async () => {
    const { runner } = dedicated();
    const { uuid } = await runner.start("signup");
    const waiting = await runner.run(uuid);
    expect(waiting.state).toBe("SUSPENDED");
    expect(waiting.waitingFor).toEqual([{ name: "email", description: "Your email" }]);
    await expect(runner.provide(uuid, "email", "nope")).rejects.toBeInstanceOf(InvalidFormat);
    await runner.provide(uuid, "email", "ada@example.org");
    const done = await runner.run(uuid);
    expect(done.state).toBe("SUCCESS");
    const log = await runner.logBook(uuid);
    expect(log.atomDetails.find((a) => a.name === "welcome")?.result).toBe("welcome ada@example.org");
  });

  it("errors keep their class: Cancelled, a task's own, NotFound", async () => {
    const { runner } = dedicated();
    const { uuid } = await runner.start("napping", [], { run: false });
    // Once "before" is done, the run waits for its hour-long sleep, in the worker.
    const asleep = new Promise<void>((resolve) => void runner.subscribe({ atom: (e) => e.name === "before" && e.state === "SUCCESS" && resolve() }, { flow: uuid }));
    const running = runner.run(uuid).catch((e: unknown) => e);
    await asleep;
    expect((await runner.cancel(uuid, "changed my mind")).state).toBe("REVERTED");
    expect(await running).toBeInstanceOf(Cancelled);

    const failing = await runner.start("failing", ["declined"]);
    const declined = await runner.run(failing.uuid).catch((e: unknown) => e);
    expect(declined).toBeInstanceOf(PaymentDeclined);
    expect(declined).toMatchObject({ reason: "insufficient funds" });
    await expect(runner.snapshot("no-such-flow")).rejects.toBeInstanceOf(NotFound);
  });

  it("refuses a value that cannot cross before it is sent, naming the input", async () => {
    const { runner } = dedicated();
    const { uuid } = await runner.start("signup");
    await runner.run(uuid);
    await expect(runner.provide(uuid, "email", new URL("mailto:ada@example.org"))).rejects.toThrow(/"email".*email \(a URL instance\)/);
    await expect(runner.provide(uuid, "email", () => "x")).rejects.toBeInstanceOf(InvalidFormat);
    expect((await runner.snapshot(uuid)).waitingFor.map((w) => w.name)).toEqual(["email"]);
  });

  it("leaves nothing behind: subscriptions released on unsubscribe and when the client closes", async () => {
    const { runner, connect } = dedicated();
    const other = connect();
    const states: string[] = [];
    const off = await other.subscribe({ flow: (e) => states.push(e.state), progress: () => undefined });
    await other.subscribe({ atom: () => undefined });
    const { uuid } = await runner.start("greet", ["ada"], { run: false });
    expect(await runner.stats()).toMatchObject({ connections: 2, subscriptions: 2, engineListeners: 3 });
    await runner.run(uuid);
    await other.stats(); // a round trip on other's connection: the events were posted before the run's answer
    expect(states).toEqual(["RUNNING", "SUCCESS"]);
    await off();
    expect(await runner.stats()).toMatchObject({ connections: 2, subscriptions: 1, engineListeners: 1 });
    await other.close();
    expect(await runner.stats()).toMatchObject({ connections: 1, subscriptions: 0, engineListeners: 0 });
  });
});

describe("a runner in a SharedWorker", () => {
  const shared = (db: string) => new SharedWorker(new URL("./fixtures/runner.worker.ts", import.meta.url), { type: "module", name: db });

  /** An iframe page that connects to the SharedWorker `db` and subscribes; resolves once it has. */
  async function pageIn(db: string, silent: boolean): Promise<HTMLIFrameElement> {
    const frame = document.createElement("iframe");
    const subscribed = new Promise<void>((resolve) => {
      const onMessage = (event: MessageEvent) => {
        if ((event.data as { subscribed?: string } | null)?.subscribed !== db) return;
        removeEventListener("message", onMessage);
        resolve();
      };
      addEventListener("message", onMessage);
    });
    frame.src = `${new URL("./fixtures/shared-page.html", import.meta.url).pathname}?db=${db}${silent ? "&silent" : ""}`;
    document.body.append(frame);
    await subscribed;
    return frame;
  }

  /** Asks the runner until `done` holds of its stats (round trips only, no sleeping), for up to 10 s. */
  async function until(runner: RunnerClient, done: (s: Awaited<ReturnType<RunnerClient["stats"]>>) => boolean) {
    const deadline = performance.now() + 10_000;
    let stats = await runner.stats();
    while (!done(stats) && performance.now() < deadline) stats = await runner.stats();
    return stats;
  }

  it("is shared by the pages that connect: one starts a flow, another runs it", async () => {
    const db = `shared-test-${crypto.randomUUID()}`;
    const a = connectRunner<Flows>(shared(db));
    const b = connectRunner<Flows>(shared(db));
    clients.push(a as RunnerClient, b as RunnerClient);
    const { uuid } = await a.start("greet", ["ada"], { run: false });
    expect((await b.run(uuid)).atoms[0]?.result).toBe("hello ada");
    expect(await a.stats()).toMatchObject({ connections: 2 });
  });

  for (const silent of [false, true]) {
    it(`lets go of a page's subscriptions when the page goes away ${silent ? "without a word (its Web Lock is let go)" : "(pagehide)"}`, async () => {
      const db = `shared-test-${crypto.randomUUID()}`;
      const observer = connectRunner<Flows>(shared(db));
      clients.push(observer as RunnerClient);
      const frame = await pageIn(db, silent);
      expect(await observer.stats()).toMatchObject({ connections: 2, subscriptions: 1 });
      // The page's subscription is live: its engine listeners follow a flow the runner holds.
      await observer.start("greet", ["x"], { run: false });
      expect(await observer.stats()).toMatchObject({ subscriptions: 1, engineListeners: 2 });
      frame.remove();
      expect(await until(observer as RunnerClient, (s) => s.connections === 1)).toMatchObject({ connections: 1, subscriptions: 0, engineListeners: 0 });
    });
  }
});
