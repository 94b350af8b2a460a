// One runner per flow on a Durable Object (issue 12): the engines of one object share its
// backend's lock, and a runner that lost the flow to a newer one (a second backend instance
// over the same storage, as an old instance of the object still finishing an await after an
// eviction or a deploy would be) gets LockLost at its next write and writes nothing.
import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { DurableObjectBackend } from "../../adapters/durable-object/index.js";
import { linearFlow, load, LockLost, task } from "../../src/index.js";
import type { BackendHost } from "./backend-host.js";

/** A promise and the function that resolves it. */
function gate(): { opened: Promise<void>; open: () => void } {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

describe("one runner per flow in a Durable Object", () => {
  it("two requests racing into the object to run one flow: each step executes once, both end SUCCESS", async () => {
    const stub = env.BACKEND_HOST.get(env.BACKEND_HOST.newUniqueId());
    const { id } = await stub.runCounted();
    const runs = await Promise.all([stub.runCounted(id), stub.runCounted(id)]);
    expect(runs.map((r) => r.state)).toEqual(["SUCCESS", "SUCCESS"]);
    expect(await stub.executions()).toEqual({ a: 1, b: 1, c: 1 });
  });

  it("two stubs of one object racing to run one flow (as two Workers reaching it would): each step executes once", async () => {
    const id = env.BACKEND_HOST.newUniqueId();
    const [one, two] = [env.BACKEND_HOST.get(id), env.BACKEND_HOST.get(id)];
    const { id: flow } = await one.runCounted();
    const runs = await Promise.all([one.runCounted(flow), two.runCounted(flow)]);
    expect(runs.map((r) => r.state)).toEqual(["SUCCESS", "SUCCESS"]);
    expect(await two.executions()).toEqual({ a: 1, b: 1, c: 1 });
  });

  it("a stale writer (an older backend instance over the same storage) gets LockLost and writes nothing", async () => {
    const stub = env.BACKEND_HOST.get(env.BACKEND_HOST.newUniqueId());
    await runInDurableObject(stub, async (_host: BackendHost, state) => {
      const executed: string[] = [];
      const held = gate();
      const started = gate();
      const step = (name: string, wait?: Promise<void>) =>
        task({ name, provides: name, execute: async () => {
          executed.push(name);
          if (wait && executed.filter((n) => n === name).length === 1) {
            started.open();
            await wait; // the first runner is stuck here (a slow call, or an instance being replaced)
          }
          return name;
        } });
      const definition = () => linearFlow("stale", step("a"), step("b", held.opened), step("c"));
      const old = new DurableObjectBackend(state.storage);
      const stale = load(definition(), { backend: old });
      const staleRun = stale.run().catch((e: unknown) => e);
      await started.opened; // the old runner holds its lock (token 1) and runs b

      // The new instance's runner: its own lock service is free; its claim (token 2) fences the old one.
      const fresh = new DurableObjectBackend(state.storage);
      const runner = load(definition(), { backend: fresh, flowDetailId: stale.flowDetailId });
      await runner.run();
      expect(runner.storage.flowState).toBe("SUCCESS");
      const after = [...state.storage.kv.list()];

      held.open(); // the old runner wakes up and writes b's result: refused
      const error = await staleRun;
      expect(error).toBeInstanceOf(LockLost);
      expect((error as Error).message).toMatch(/token 2.*token 1/);
      expect([...state.storage.kv.list()]).toEqual(after);
      expect(executed).toEqual(["a", "b", "b", "c"]); // b twice (it was RUNNING when taken over), c once
      expect((await fresh.getFlowDetail(stale.flowDetailId)).epoch).toBe(2);
    });
  });
});
