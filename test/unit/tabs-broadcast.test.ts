// A tab that hears another tab's broadcast transition and reads the log book must find that
// transition stored (issue 12: in the wizard with a Worker per tab, a tab re-rendered on the
// broadcast of "waiting for your answer", read the flow before that was committed, and kept its
// Next button disabled, since no later transition came). Here the backend is slow to commit, as a
// loaded machine's IndexedDB is, and the observer checks that the batch holding each transition
// (the first one the engine began to commit after announcing it) was committed when it arrived.
import { describe, expect, it } from "vitest";
import { broadcastTransitions, observeTransitions, type TabTransition } from "../../adapters/idb/index.js";
import { linearFlow, load, MemoryBackend, task, waitFor, provide } from "../../src/index.js";
import type { Transition, WriteBatch } from "../../src/backend.js";

const key = (t: TabTransition) => (t.type === "flow" ? `flow ${t.state}` : t.type === "atom" ? `${t.name} ${t.state}` : `${t.name} progress`);
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Commits only after a message has arrived since the commit began, or after 20 turns of the event loop. */
class SlowBackend extends MemoryBackend {
  begun = 0;
  done = 0;
  heard = 0;
  override async commit(batch: WriteBatch): Promise<void> {
    this.begun++;
    const before = this.heard;
    for (let i = 0; i < 20 && this.heard === before; i++) await turn();
    await super.commit(batch);
    this.done++;
  }
}

async function until(done: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 2000 && !done(); i++) await turn();
  if (!done()) throw new Error(`never saw ${what}`);
}

describe("broadcastTransitions sends a transition once it is committed", () => {
  it("an observer that reads the backend on each message finds the transition there, waits for input included", async () => {
    const backend = new SlowBackend();
    const flow = linearFlow("booking", waitFor("name"), task({ name: "greet", requires: ["name"], provides: "greeting", execute: ({ name }: { name: string }) => `Hi ${name}` }));
    const engine = load(flow, { backend });
    await engine.prepare();
    // The commit that holds each transition, in the order announced: the next one to begin.
    const holding: number[] = [];
    for (const type of ["flow", "atom", "progress"] as const) engine.on(type, () => void holding.push(backend.begun + 1));
    const heard: string[] = [];
    const early: string[] = [];
    const stopObserving = observeTransitions(engine.flowDetailId, (t) => {
      backend.heard++;
      if (backend.done < (holding[heard.length] ?? Infinity)) early.push(key(t));
      heard.push(key(t));
    });
    const stop = broadcastTransitions(engine);
    await engine.run();
    await until(() => heard.includes("flow SUSPENDED"), "the wait");
    await provide(engine, "name", "Ada");
    await until(() => heard.includes("flow SUCCESS"), "the flow's end");
    stop();
    stopObserving();
    expect(early).toEqual([]);
    expect(heard.filter((k) => !k.endsWith("progress"))).toEqual([
      "flow RUNNING", "flow SUSPENDING", "flow SUSPENDED",
      "flow RUNNING", "wait:name RUNNING", "wait:name SUCCESS", "greet RUNNING", "greet SUCCESS", "flow SUCCESS",
    ]);
  });

  it("stopped, it sends nothing more, not even what was announced and not yet committed", async () => {
    const backend = new SlowBackend();
    const engine = load(linearFlow("one", task({ name: "a", execute: () => 1 })), { backend });
    await engine.prepare();
    const heard: string[] = [];
    const stopObserving = observeTransitions(engine.flowDetailId, (t) => heard.push(key(t)));
    const stop = broadcastTransitions(engine);
    const run = engine.run();
    stop(); // "flow RUNNING" is announced, its commit is still held
    await run;
    // A second broadcaster, started after: its messages arrive after any the first could still send.
    const after = broadcastTransitions(engine);
    await engine.reset();
    await engine.run();
    await until(() => heard.includes("flow SUCCESS"), "the second run's end");
    after();
    stopObserving();
    expect(heard.filter((k) => k === "flow RUNNING")).toHaveLength(1);
  });
});

describe("the engine's committed event (what broadcastTransitions listens to)", () => {
  it("comes once per batch, after the backend has stored it, with the batch's transitions: in all, the audit trail in commit order", async () => {
    const backend = new SlowBackend();
    const engine = load(linearFlow("two", task({ name: "a", execute: () => 1 }), task({ name: "b", execute: () => 2 })), { backend });
    const seen: Transition[][] = [];
    const storedWhenHeard: number[] = [];
    engine.on("committed", (e) => {
      expect(e.flowUuid).toBe(engine.flowDetailId);
      seen.push([...e.transitions]);
      storedWhenHeard.push(backend.done);
    });
    await engine.run();
    expect(seen.length).toBe(backend.begun);
    expect(storedWhenHeard).toEqual(seen.map((_, i) => i + 1)); // each once its own commit is done, none before
    const trail = await backend.getTrail(engine.flowDetailId);
    expect(trail.map(({ seq: _seq, ...t }) => t)).toEqual(seen.flat());
    expect(seen.flat().map((t) => `${t.atom ?? "flow"} ${t.to}`)).toEqual(["flow RUNNING", "a RUNNING", "a SUCCESS", "b RUNNING", "b SUCCESS", "flow SUCCESS"]);
  });
});
