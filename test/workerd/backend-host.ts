import { DurableObject } from "cloudflare:workers";
import { DurableObjectBackend } from "../../adapters/durable-object/index.js";
import { countCommits } from "../../src/backend.js";
import { linearFlow, load, task } from "../../src/index.js";

/**
 * A Durable Object that only holds a DurableObjectBackend over its own storage, counting its commits. Tests reach it
 * with `runInDurableObject`, so every storage call runs in the object's own context, as it would
 * in a real Worker, while the engine driving it can stay in the test.
 */
export class BackendHost extends DurableObject {
  /** The backend itself: its lock service and claim (the counting wrapper forwards neither). */
  readonly inner = new DurableObjectBackend(this.ctx.storage);
  readonly backend = countCommits(this.inner);
  #runners = 0;
  #bothArrived!: () => void;
  /** Resolves when two calls of `runCounted` with an id have arrived: the steps wait for it, so the two runs overlap. */
  readonly #both = new Promise<void>((resolve) => (this.#bothArrived = resolve));

  /**
   * Runs the counted flow (three steps, each counting its executions in storage) on a new engine
   * over this object's backend: a new flow detail, or the one given. Two calls at once are two
   * runners of one flow in one object, as two requests for it would be.
   * @returns the flow detail's id and the state the run ended in
   */
  async runCounted(flowDetailId?: string): Promise<{ id: string; state: string }> {
    const { kv } = this.ctx.storage;
    const step = (name: string) =>
      task({
        name,
        provides: name,
        execute: async () => {
          kv.put(`test:executions:${name}`, (kv.get<number>(`test:executions:${name}`) ?? 0) + 1);
          await this.#both; // the other runner has arrived: without a lock, it would run this step too
          return name;
        },
      });
    const engine = load(linearFlow("counted", step("a"), step("b"), step("c")), { backend: this.inner, ...(flowDetailId ? { flowDetailId } : {}) });
    if (flowDetailId) {
      if (++this.#runners === 2) this.#bothArrived();
      await engine.run();
    }
    else await engine.save();
    return { id: engine.flowDetailId, state: engine.storage.flowState };
  }

  /** How many times each step of the counted flow executed, over every life of the object. */
  executions(): Record<string, number> {
    return Object.fromEntries([...this.ctx.storage.kv.list<number>({ prefix: "test:executions:" })].map(([k, n]) => [k.slice("test:executions:".length), n]));
  }
}
