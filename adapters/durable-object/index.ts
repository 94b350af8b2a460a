/**
 * taskflow-ts/durable-object: log books in a Durable Object's SQLite-backed storage, so flows
 * run at the edge and resume after the object is evicted or restarted.
 * @example
 * import { DurableObjectBackend } from "taskflow-ts/durable-object";
 * const backend = new DurableObjectBackend(this.ctx.storage);
 */
export { DurableObjectBackend, type SqliteStorage } from "./backend.js";
