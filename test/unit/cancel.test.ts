/**
 * Cancelling, and what a cancel leaves behind (issue 11, items 1, 8 and 9): a task that was
 * running when its flow was cancelled is reverted on resume, never executed again; a write that
 * lands but reports failure does not lose the cancel mark or a consumed input; a cancelled flow
 * stays cancelled until `reset()`, and `run()` never resolves on a flow that ended REVERTED.
 */
import { describe, expect, it } from "vitest";
import { Cancelled, linearFlow, load, MemoryBackend, StorageFailure, task, waitFor, type AtomDetail, type FlowDetail, type FlowItem, type MemoryDump, provide } from "../../src/index.js";
import { memoryBackendFromDump } from "../../src/backend.js";
import { ENGINES, rejection } from "./helpers.js";

/** Lets pending promise callbacks and timers run until `done()` holds. */
async function until(done: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (await done()) return;
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** A JSON round trip of a memory backend's dump: what a new host reads after the old one died. */
const reopen = (dump: MemoryDump) => memoryBackendFromDump(JSON.parse(JSON.stringify(dump)) as MemoryDump);

/** a, then charge (which ignores its signal until `release`), then ship; every call recorded. */
function checkout() {
  const calls: string[] = [];
  let release: (() => void) | undefined;
  const step = (name: string) => task({ name, provides: name, execute: () => (calls.push(`${name} execute`), name), revert: () => void calls.push(`${name} revert`) });
  const charge = task({
    name: "charge",
    provides: "receipt",
    execute: async (_args, ctx) => {
      calls.push(`charge execute #${ctx.attempt}`);
      await new Promise<void>((resolve) => (release = resolve)); // a request in flight: the signal is not heeded
      return "receipt-1";
    },
    revert: (_args, ctx) => void calls.push(`charge revert (result ${JSON.stringify(ctx.result)})`),
  });
  return { flow: linearFlow("checkout", step("a"), charge, step("ship")), calls, release: () => release?.() };
}

describe.each(ENGINES)("%s engine", (engine) => {
  const make = (flow: FlowItem, options: Parameters<typeof load>[1] = {}) => load(flow, { engine, ...options });

  it("a task running when its flow was cancelled is reverted on resume (its revert sees no result), never executed again", async () => {
    const backend = new MemoryBackend();
    const first = checkout();
    const e = make(first.flow, { backend });
    const running = e.run();
    void running.catch(() => undefined);
    await until(() => first.calls.includes("charge execute #1"), "charge to start");
    void e.cancel("customer left").catch(() => undefined);
    // The cancel is stored while charge still runs; then the host dies.
    await until(async () => (await backend.getFlowDetail(e.flowDetailId)).cancelled !== undefined, "the cancel to be stored");
    const dump = backend.dump();
    expect((dump.atoms as AtomDetail[]).find((d) => d.name === "charge")).toMatchObject({ state: "RUNNING", intention: "REVERT" });

    const second = checkout();
    const resumed = make(second.flow, { backend: reopen(dump), flowDetailId: e.flowDetailId });
    const error = await rejection(resumed.run());
    expect(error).toBeInstanceOf(Cancelled);
    expect(error.message).toMatch(/customer left/);
    expect(second.calls).toEqual(["charge revert (result undefined)", "a revert"]);
    expect(resumed.storage.getAtomState("charge")).toBe("REVERTED");
    expect(resumed.storage.getAtomState("ship")).toBe("PENDING");
    expect(resumed.storage.flowState).toBe("REVERTED");
    first.release();
  });

  it("a cancelled flow stays cancelled: run() again rejects with Cancelled and runs nothing, on this engine or a new one, until reset()", async () => {
    const backend = new MemoryBackend();
    const calls: string[] = [];
    const step = (name: string) => task({ name, execute: () => void calls.push(`${name} execute`), revert: () => void calls.push(`${name} revert`) });
    const flow = () => linearFlow("job", step("a"), step("b"));
    const e = make(flow(), { backend });
    await e.save();
    await e.cancel("not needed");
    expect(e.storage.flowState).toBe("REVERTED");
    calls.length = 0;

    const again = await rejection(e.run());
    expect(again).toBeInstanceOf(Cancelled);
    expect(again.message).toMatch(/not needed/);
    const fresh = make(flow(), { backend, flowDetailId: e.flowDetailId });
    expect(await rejection(fresh.run())).toBeInstanceOf(Cancelled);
    expect(calls).toEqual([]);
    expect((await backend.getFlowDetail(e.flowDetailId)).cancelled).toMatchObject({ reason: "not needed" });

    await fresh.reset();
    expect(fresh.storage.flowDetail.cancelled).toBeUndefined();
    await fresh.run();
    expect(calls).toEqual(["a execute", "b execute"]);
    expect(fresh.storage.flowState).toBe("SUCCESS");
  });
});

/** A MemoryBackend whose chosen commits land, then report a failure all the same (a timeout). */
class LandThenFail extends MemoryBackend {
  readonly failAt = new Set<number>();
  attempts = 0;
  lastBatch: Parameters<MemoryBackend["commit"]>[0] | undefined;
  override async commit(batch: Parameters<MemoryBackend["commit"]>[0]): Promise<void> {
    this.attempts++;
    await super.commit(batch);
    this.lastBatch = batch;
    if (this.failAt.has(this.attempts)) throw new StorageFailure(`timed out at write ${this.attempts}`);
  }
}

describe("a write that lands but reports failure", () => {
  it("keeps the cancel it carried: the stored flow stays cancelled, and the resumed run rejects with Cancelled", async () => {
    const backend = new LandThenFail();
    const first = checkout();
    const e = load(first.flow, { backend });
    const running = e.run();
    void running.catch(() => undefined);
    await until(() => first.calls.includes("charge execute #1"), "charge to start");
    // The next write carries the cancel; it lands, then reports a timeout.
    backend.failAt.add(backend.attempts + 1);
    const cancelling = e.cancel("customer left");
    await expect(cancelling).rejects.toThrow(/timed out/);
    first.release();
    expect((await backend.getFlowDetail(e.flowDetailId)).cancelled).toMatchObject({ reason: "customer left" });

    const second = checkout();
    const resumed = load(second.flow, { backend, flowDetailId: e.flowDetailId });
    const error = await rejection(resumed.run());
    expect(error).toBeInstanceOf(Cancelled);
    expect(resumed.storage.flowState).toBe("REVERTED");
    expect(second.calls).not.toContain("charge execute #2");
  });

  it("keeps a consumed input consumed when the SUCCESS that consumed it landed", async () => {
    const backend = new LandThenFail();
    const flow = () => linearFlow("form", waitFor("email"), task({ name: "send", requires: ["email"], execute: ({ email }) => `sent to ${String(email)}` }));
    const e = load(flow(), { backend });
    await e.run(); // suspends at the wait
    await provide(e, "email", "a@example.com", { run: false });
    // The write of the wait's SUCCESS (which consumes the input) lands and reports a timeout.
    backend.failAt.add(backend.attempts + 2);
    await expect(e.run()).rejects.toThrow(/timed out/);
    const stored = await backend.getFlowDetail(e.flowDetailId);
    const wait = (await backend.getAtomDetails(e.flowDetailId)).find((d) => d.name === "wait:email");
    expect(wait?.state).toBe("SUCCESS");
    expect(stored.inputs ?? {}).toEqual({});
    expect(stored.state).toBe("SUSPENDED");

    const resumed = load(flow(), { backend, flowDetailId: e.flowDetailId });
    await resumed.run();
    expect(resumed.storage.flowState).toBe("SUCCESS");
    expect(resumed.storage.flowDetail.inputs ?? {}).toEqual({});
  });

  it("run() rejects on a flow that ends REVERTED though nothing says why (no failure, no cancel mark)", async () => {
    // A log book whose atoms were set to revert by a run whose reason was lost (a write that
    // failed after the intentions landed): the run ends REVERTED and must not report success.
    const backend = new MemoryBackend();
    const step = (name: string) => task({ name, execute: () => name });
    const e = load(linearFlow("job", step("a"), step("b")), { backend });
    await e.run();
    const dump = backend.dump();
    for (const d of dump.atoms as AtomDetail[]) d.intention = "REVERT";
    (dump.flows[0] as FlowDetail).state = "RUNNING";
    const resumed = load(linearFlow("job", step("a"), step("b")), { backend: reopen(dump), flowDetailId: e.flowDetailId });
    const error = await rejection(resumed.run());
    expect(resumed.storage.flowState).toBe("REVERTED");
    expect(error.name).toBe("ExecutionFailure");
    expect(error.message).toMatch(/flow "job" was reverted/);
  });
});
