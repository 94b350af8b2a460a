import { DurableObject } from "cloudflare:workers";
import { DurableObjectBackend } from "../../adapters/durable-object/index.js";

/**
 * A Durable Object declared under `new_classes` (the legacy key-value storage), as a user who
 * forgot `new_sqlite_classes` would have it: the backend must refuse it with a message that
 * says what to change.
 */
export class LegacyKvHost extends DurableObject {
  makeBackend(): string {
    try {
      new DurableObjectBackend(this.ctx.storage);
      return "accepted";
    } catch (e) {
      return `${(e as Error).name}: ${(e as Error).message}`;
    }
  }
}
