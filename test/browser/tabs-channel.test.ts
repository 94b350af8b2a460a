// Tabs that do not run a flow show its progress (issue 12, item 5): the runner broadcasts its
// transitions over a BroadcastChannel, observers of the same origin receive them, in order, as
// plain data (a failure rebuilt as a Failure). One page here: a BroadcastChannel delivers to
// every other channel object of its name in the origin, this page's included.
import { describe, expect, it } from "vitest";
import { broadcastTransitions, observeTransitions, type TabTransition } from "../../adapters/idb/index.js";
import { captureListener, linearFlow, load, MemoryBackend, task } from "../../src/index.js";

const line = (t: TabTransition) => (t.type === "flow" ? `${t.flowName}.f ${t.state}` : t.type === "atom" ? `${t.name} ${t.state}` : `${t.name} ${t.progress}`);

async function until(done: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (done()) return;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe("another tab observes a flow's transitions (BroadcastChannel)", () => {
  it("receives every flow and atom transition of the run, in order, as the runner saw them", async () => {
    const engine = load(linearFlow("order", task({ name: "a", provides: "a", execute: () => ({ total: 3 }) }), task({ name: "b", execute: () => "b" })), { backend: new MemoryBackend() });
    await engine.prepare();
    const local = captureListener(engine, { flow: true });
    const seen: TabTransition[] = [];
    const stopObserving = observeTransitions(engine.flowDetailId, (t) => seen.push(t));
    const stop = broadcastTransitions(engine);
    await engine.run();
    await until(() => seen.some((t) => t.type === "flow" && t.state === "SUCCESS"), "the flow's end");
    stop();
    stopObserving();
    expect(seen.filter((t) => t.type !== "progress").map(line)).toEqual(["order.f RUNNING", "a RUNNING", "a SUCCESS", "b RUNNING", "b SUCCESS", "order.f SUCCESS"]);
    expect(local.values.filter((v) => v.startsWith("order.f")).length).toBe(2);
    expect(seen.find((t) => t.type === "atom" && t.name === "a" && t.state === "SUCCESS")).toMatchObject({ result: { total: 3 } });
  });

  it("a failure arrives as a Failure; an observer that stopped hears nothing more, another one still does", async () => {
    const engine = load(linearFlow("pay", task({ name: "charge", execute: () => { throw new RangeError("card declined"); } })), { backend: new MemoryBackend() });
    await engine.prepare();
    const stop = broadcastTransitions(engine);
    const first: string[] = [];
    const failures: string[] = [];
    const stopFirst = observeTransitions(engine.flowDetailId, (t) => {
      first.push(line(t));
      if (t.failureObject) failures.push(`${t.failureObject.name}: ${t.failureObject.exceptionStr}`);
    });
    const second: string[] = [];
    const stopSecond = observeTransitions(engine.flowDetailId, (t) => second.push(line(t)));
    await expect(engine.run()).rejects.toBeInstanceOf(RangeError);
    await until(() => first.includes("pay.f REVERTED") && second.includes("pay.f REVERTED"), "both to see the end");
    expect(failures).toEqual(["RangeError: card declined"]);

    stopFirst();
    const heard = first.length;
    await engine.reset();
    await expect(engine.run()).rejects.toBeInstanceOf(RangeError);
    await until(() => second.filter((l) => l === "pay.f REVERTED").length === 2, "the second run's end");
    expect(first.length).toBe(heard);
    stop();
    stopSecond();
  });
});
