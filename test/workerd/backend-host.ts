import { DurableObject } from "cloudflare:workers";
import { DurableObjectBackend } from "../../adapters/durable-object/index.js";
import { countCommits } from "../../src/backend.js";

/**
 * A Durable Object that only holds a DurableObjectBackend over its own storage, counting its commits. Tests reach it
 * with `runInDurableObject`, so every storage call runs in the object's own context, as it would
 * in a real Worker, while the engine driving it can stay in the test.
 */
export class BackendHost extends DurableObject {
  /** The backend itself: its lock service and claim (the counting wrapper forwards neither). */
  readonly inner = new DurableObjectBackend(this.ctx.storage);
  readonly backend = countCommits(this.inner);
}
