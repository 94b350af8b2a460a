// One call for a page or a worker that comes back: find the flow stored under a user key and
// resume it, or start one. Named after what it does first; the choices on a finished or a missing
// flow follow Temporal's workflow id policies (a closed run under the id: reuse or start anew;
// Temporal's `WorkflowIdReusePolicy`), and a key bound in the flow's first write, refused if
// another caller bound it first, plays the part of Temporal's "workflow already started".
import { Duplicate, InvalidFormat, NotFound, StorageFailure } from "../errors.js";
import type { FlowItem } from "../patterns/flow.js";
import type { KeyBinding, WriteBatch } from "../persistence/models.js";
import type { Backend } from "../ports/backend.js";
import { isFinalFlowState } from "../snapshot/rules.js";
import { Engine, type EngineOptions } from "./engine.js";

/**
 * Options of {@link resumeOrStart}: the engine's, with the backend required, and what to do with
 * a finished flow or a key whose flow is gone.
 * @example await resumeOrStart("signup:u1", () => signupFlow(), { backend, ifFinished: "start", ifMissing: "throw" })
 */
export interface ResumeOrStartOptions extends Omit<EngineOptions, "backend" | "flowDetailId"> {
  /** Where the flows and the keys live: a backend with user keys (memory, IndexedDB, Durable Object). */
  backend: Backend;
  /**
   * The key's flow has finished (SUCCESS, REVERTED, FAILURE): `"return"` it (the default; the
   * page shows how it ended, nothing runs twice), or `"start"` a new flow under the key.
   */
  ifFinished?: "return" | "start";
  /**
   * The key points at a flow detail that is no longer stored (its log book was deleted or
   * expired): `"start"` a new flow (the default; the result's `replaced` says so), or `"throw"`
   * `NotFound`.
   */
  ifMissing?: "start" | "throw";
}

/**
 * What {@link resumeOrStart} found and did, with the engine, prepared (its `state` and `storage`
 * are readable; run it to go on).
 * @example const { engine, outcome } = await resumeOrStart("wizard", makeWizard, { backend }); if (outcome !== "finished") await engine.run();
 */
export interface ResumeOrStartResult {
  engine: Engine;
  /** `"started"`: a new flow, stored; `"resumed"`: the key's unfinished flow; `"finished"`: the key's finished flow (`ifFinished: "return"`). */
  outcome: "started" | "resumed" | "finished";
  /** When a new flow took the key from another: that one's id, and why (it had finished, or is no longer stored). */
  replaced?: { flowDetailId: string; reason: "finished" | "missing" };
}

/** How many times a start that lost the key to another caller looks again (each time, someone else won). */
const ATTEMPTS = 4;

/**
 * Resumes the flow stored under `key`, or starts one, in one call: for a page that reloads, a tab
 * that opens, a worker that restarts. The key is a user's name for the flow (a wizard, a cart),
 * kept in the backend (not localStorage, which workers lack) and bound in the same transaction as
 * the new flow's first write: two tabs calling it at once store one flow, and the second resumes
 * the first one's. `makeFlow` builds the definition, new or to resume (a stored flow run by an
 * incompatible definition is refused with `IncompatibleVersion`). The new flow is stored before
 * this resolves, so a reload right after finds it.
 * @throws StorageFailure for a backend without keys; NotFound for a key whose flow is gone, with `ifMissing: "throw"`
 * @example
 * const backend = await IndexedDbBackend.open("shop");
 * const { engine, outcome } = await resumeOrStart("checkout", () => checkoutFlow(), { backend });
 * if (outcome === "finished") showReceipt(engine.storage.fetchAll());
 * else await engine.run();
 */
export async function resumeOrStart(key: string, makeFlow: () => FlowItem, options: ResumeOrStartOptions): Promise<ResumeOrStartResult> {
  const { backend, ifFinished = "return", ifMissing = "start", ...engineOptions } = options;
  if (typeof key !== "string" || key === "") throw new InvalidFormat(`resumeOrStart needs a non-empty string key, not ${JSON.stringify(key)}`);
  if (!backend.getKeyedFlow) {
    throw new StorageFailure("this backend keeps no user keys (it has no getKeyedFlow): use MemoryBackend, IndexedDbBackend or DurableObjectBackend, or add keys to it (see KeyBinding)");
  }
  for (let attempt = 1; ; attempt++) {
    const id = await backend.getKeyedFlow(key);
    let replaced: ResumeOrStartResult["replaced"];
    if (id !== undefined) {
      const stored = await backend.getFlowDetail(id).catch((e: unknown) => {
        if (e instanceof NotFound) return undefined;
        throw e;
      });
      const finished = stored !== undefined && isFinalFlowState(stored.state);
      if (stored && (!finished || ifFinished === "return")) {
        const engine = new Engine(makeFlow(), { ...engineOptions, backend, flowDetailId: id });
        await engine.prepare();
        return { engine, outcome: finished ? "finished" : "resumed" };
      }
      if (!stored && ifMissing === "throw") {
        throw new NotFound(
          `key "${key}" points at flow detail "${id}", which is no longer stored (its log book was deleted or expired); ` +
            `start anew with ifMissing: "start", or unbind the key with backend.deleteKey("${key}")`,
        );
      }
      replaced = { flowDetailId: id, reason: stored ? "finished" : "missing" };
    }
    const engine = new Engine(makeFlow(), { ...engineOptions, backend: keyed(backend, { key, flowUuid: "", replaces: id }) });
    try {
      await engine.save();
    } catch (e) {
      // Another caller bound the key first (the engine's writer wraps what the backend refused).
      const refused = e instanceof Duplicate || (e as { cause?: unknown } | null)?.cause instanceof Duplicate;
      if (refused && attempt < ATTEMPTS) continue;
      throw e;
    }
    return replaced ? { engine, outcome: "started", replaced } : { engine, outcome: "started" };
  }
}

/**
 * The backend of a new flow: its first write (the one carrying the flow detail) binds the key too.
 * A proxy rather than a `BackendWrapper`: every other call reaches the backend itself.
 */
function keyed(backend: Backend, binding: KeyBinding): Backend {
  let pending: KeyBinding | undefined = binding;
  const commit = async (batch: WriteBatch): Promise<void> => {
    const flow = batch.flows[0];
    if (!pending || !flow) return backend.commit(batch);
    await backend.commit({ ...batch, keys: [...(batch.keys ?? []), { ...pending, flowUuid: flow.uuid }] });
    pending = undefined;
  };
  return new Proxy(backend, {
    get: (target, name) => {
      if (name === "commit") return commit;
      const value: unknown = Reflect.get(target, name, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}
