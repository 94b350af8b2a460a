import { Duplicate } from "../errors.js";
import type { WriteBatch } from "./models.js";

/**
 * The key check every backend makes on commit, before writing anything of the batch (or inside
 * the transaction a throw rolls back): each binding of `batch.keys` must find its key unbound,
 * bound to its own flow detail already, or bound to the one it `replaces`. `bound.get` answers
 * what a key points at now (undefined: unbound); a `Map` of the keys will do.
 * @throws Duplicate naming the key and the flow detail it points at
 * @example checkKeys(batch, keys); for (const k of batch.keys ?? []) keys.set(k.key, k.flowUuid);
 */
export function checkKeys(batch: WriteBatch, bound: { get(key: string): string | undefined }): void {
  for (const { key, flowUuid, replaces } of batch.keys ?? []) {
    const now = bound.get(key);
    if (now !== undefined && now !== flowUuid && now !== replaces) throw new Duplicate(`key "${key}" points at flow detail "${now}" already; resume that one`);
  }
}
