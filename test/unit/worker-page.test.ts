// @vitest-environment happy-dom
// The page's side of taskflow-ts/worker in a DOM (happy-dom: fast, no browser): what the client
// sends to connect, and that it lets go of the worker when the page goes away. The real thing
// (a Worker, a SharedWorker, Chromium's own events) is in test/browser/worker.test.ts.
import { afterEach, describe, expect, it } from "vitest";
import { DisallowedAccess, MemoryBackend } from "taskflow-ts";
import { connectRunner, exposeRunner } from "taskflow-ts/worker";
import { flows, type Flows } from "../fixtures/worker-flows.js";

const cleanup: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanup.splice(0)) c();
});

/** A Worker as the client sees one: it records what is posted to it. */
function fakeWorker() {
  const posted: Array<{ message: unknown; transfer: unknown[] }> = [];
  return { posted, postMessage: (message: unknown, transfer: unknown[] = []) => void posted.push({ message, transfer }) };
}

describe("connecting", () => {
  it("posts one hello with a fresh port to a Worker, and to a SharedWorker's port; nothing else", () => {
    // happy-dom has no Web Locks: the hello goes at once, without a lock (in Chromium and Node it
    // goes once the client holds its lock, and names it).
    expect((navigator as { locks?: unknown }).locks).toBeFalsy();
    const worker = fakeWorker();
    connectRunner(worker as unknown as Worker);
    expect(worker.posted).toHaveLength(1);
    expect(worker.posted[0]?.message).toEqual({ "taskflow-ts/worker": 1 });
    expect(worker.posted[0]?.transfer).toHaveLength(1);
    expect((worker.posted[0]?.transfer[0] as object).constructor.name).toBe("MessagePort");

    const port = fakeWorker();
    connectRunner({ port } as unknown as SharedWorker);
    expect(port.posted.map((p) => p.message)).toEqual([{ "taskflow-ts/worker": 1 }]);
    for (const p of [...worker.posted, ...port.posted]) for (const t of p.transfer) (t as MessagePort).close();
  });

  it("a runner ignores the worker's other messages, and a hello without a port", async () => {
    const { port1, port2 } = new MessageChannel();
    const host = exposeRunner<Flows>({ flows, backend: new MemoryBackend(), scope: port1 });
    cleanup.push(() => (host.close(), port1.close(), port2.close()));
    port2.postMessage({ "taskflow-ts/worker": 1 });
    port2.postMessage({ hello: "app message" });
    port2.postMessage("taskflow-ts/worker");
    const runner = connectRunner<Flows>(port2);
    await runner.stats();
    expect(host.stats().connections).toBe(1);
    await runner.close();
  });
});

describe("when the page goes away", () => {
  it("pagehide closes every client of the page: the worker releases their subscriptions and its engine listeners", async () => {
    const { port1, port2 } = new MessageChannel();
    const host = exposeRunner<Flows>({ flows, backend: new MemoryBackend(), scope: port1 });
    cleanup.push(() => (host.close(), port1.close(), port2.close()));
    const first = connectRunner<Flows>(port2);
    const second = connectRunner<Flows>(port2);
    const { uuid } = await first.start("greet", ["ada"], { run: false });
    await first.subscribe({ atom: () => undefined, progress: () => undefined });
    await second.subscribe({ flow: () => undefined }, { flow: uuid });
    expect(host.stats()).toMatchObject({ connections: 2, subscriptions: 2, engineListeners: 3, flows: 1 });

    window.dispatchEvent(new Event("pagehide"));
    await Promise.all([first.close(), second.close()]); // the closes pagehide began
    expect(host.stats()).toMatchObject({ connections: 0, subscriptions: 0, engineListeners: 0 });
    await expect(first.snapshot(uuid)).rejects.toBeInstanceOf(DisallowedAccess);
    // The flow itself is not the page's: another page connects and runs it.
    const later = connectRunner<Flows>(port2);
    expect((await later.run(uuid)).state).toBe("SUCCESS");
    await later.close();
  });

  it("a closed client no longer listens for pagehide", async () => {
    const { port1, port2 } = new MessageChannel();
    const host = exposeRunner<Flows>({ flows, backend: new MemoryBackend(), scope: port1 });
    cleanup.push(() => (host.close(), port1.close(), port2.close()));
    const added: unknown[] = [];
    const removed: unknown[] = [];
    const add = window.addEventListener.bind(window);
    const remove = window.removeEventListener.bind(window);
    window.addEventListener = ((type: string, listener: EventListener) => (type === "pagehide" && added.push(listener), add(type, listener))) as typeof window.addEventListener;
    window.removeEventListener = ((type: string, listener: EventListener) => (type === "pagehide" && removed.push(listener), remove(type, listener))) as typeof window.removeEventListener;
    cleanup.push(() => ((window.addEventListener = add), (window.removeEventListener = remove)));
    const runner = connectRunner<Flows>(port2);
    await runner.close();
    expect(added).toHaveLength(1);
    expect(removed).toEqual(added);
  });

  it("a subscription delivers events in the page while it is open", async () => {
    const { port1, port2 } = new MessageChannel();
    const host = exposeRunner<Flows>({ flows, backend: new MemoryBackend(), scope: port1 });
    cleanup.push(() => (host.close(), port1.close(), port2.close()));
    const runner = connectRunner<Flows>(port2);
    const states: string[] = [];
    const off = await runner.subscribe({ flow: (e) => states.push(e.state) });
    await runner.run((await runner.start("greet", ["bo"], { run: false })).uuid);
    await runner.stats();
    expect(states).toEqual(["RUNNING", "SUCCESS"]);
    await off();
    await runner.close();
  });
});
