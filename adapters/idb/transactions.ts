import type { IDBPTransaction } from "idb";
import type { WriteBatch } from "taskflow-ts";
import { checkParents } from "taskflow-ts/backend";
import type { Db, LogBookDb, StoreName } from "./connect.js";

// What runs inside one IndexedDB transaction. IndexedDB commits a transaction as soon as it has
// no request pending at the end of a task, so these only ever wait on requests of `tx` itself.

export type WriteTx = IDBPTransaction<LogBookDb, StoreName[], "readwrite">;

/**
 * Looks up, inside the batch's own transaction, every parent outside the batch (one lookup per
 * distinct parent: a round of atoms shares one flow) except the flows in `known`; the promise
 * rejects with NotFound for the first one missing, and is undefined when there is nothing to
 * look up. Start it before queueing the puts, so that the lookups and the puts travel in one
 * round trip: the transaction cannot commit while the puts are pending, so aborting it when the
 * promise rejects still undoes them.
 */
export function requireParents(tx: WriteTx, batch: WriteBatch, known: ReadonlySet<string>): Promise<void> | undefined {
  // First what to look up: every parent the check asks about, each once.
  const books: string[] = [];
  const flows: string[] = [];
  const asked = (list: string[]) => (id: string) => {
    list.push(id);
    return true;
  };
  checkParents(batch, { hasBook: asked(books), hasFlow: asked(flows) }, known);
  if (books.length === 0 && flows.length === 0) return undefined;
  const lookups = Promise.all([
    Promise.all(books.map((k) => tx.objectStore("books").getKey(k))),
    // Through the uuid index: the store's getKey reads the whole flow detail in Chromium.
    Promise.all(flows.map((k) => tx.objectStore("flows").index("uuid").getKey(k))),
  ]);
  // Then the check again, on what was found.
  return lookups.then(([bookKeys, flowKeys]) => {
    const foundBooks = new Set(bookKeys);
    const foundFlows = new Set(flowKeys);
    checkParents(batch, { hasBook: (id) => foundBooks.has(id), hasFlow: (id) => foundFlows.has(id) }, known);
  });
}

/** Deletes a log book with its flow and atom details, inside `tx`; returns the flow details' ids. */
export async function deleteBook(tx: WriteTx, uuid: string): Promise<string[]> {
  const flowKeys = await tx.objectStore("flows").index("bookUuid").getAllKeys(uuid);
  const atomKeys = await Promise.all(flowKeys.map((f) => tx.objectStore("atoms").index("flowUuid").getAllKeys(f)));
  for (const key of atomKeys.flat()) handled(tx.objectStore("atoms").delete(key));
  for (const key of flowKeys) handled(tx.objectStore("flows").delete(key));
  handled(tx.objectStore("books").delete(uuid));
  return flowKeys;
}

/**
 * The flows that atom details name but that are not stored: what a run in another tab may have
 * written in the moment between a delete there and the news of it here. Read-only: one request
 * for the flows' keys, one cursor step per flow that has atoms.
 */
export async function findOrphanFlows(db: Db): Promise<string[]> {
  const tx = db.transaction(["flows", "atoms"], "readonly");
  const flows = new Set(await tx.objectStore("flows").getAllKeys());
  const gone: string[] = [];
  for (let c = await tx.objectStore("atoms").index("flowUuid").openKeyCursor(null, "nextunique"); c; c = await c.continue()) {
    if (!flows.has(c.key)) gone.push(c.key);
  }
  await tx.done;
  return gone;
}

/** Deletes the atom details of `flowUuids`, inside `tx`, for those still without their flow. */
export async function deleteOrphans(tx: WriteTx, flowUuids: string[]): Promise<void> {
  const exists = await Promise.all(flowUuids.map((f) => tx.objectStore("flows").index("uuid").getKey(f)));
  const gone = flowUuids.filter((_, i) => exists[i] === undefined);
  const keys = (await Promise.all(gone.map((f) => tx.objectStore("atoms").index("flowUuid").getAllKeys(f)))).flat();
  for (const key of keys) handled(tx.objectStore("atoms").delete(key));
}

/** Requests of one readonly transaction, and its completion, so that no rejection goes unheard. */
export async function all<T extends readonly unknown[]>(tx: { done: Promise<void> }, requests: T): Promise<{ -readonly [K in keyof T]: Awaited<T[K]> }> {
  const [results] = await Promise.all([Promise.all(requests), tx.done]);
  return results as { -readonly [K in keyof T]: Awaited<T[K]> };
}

/** A request whose failure the transaction reports (through `tx.done`): not an unhandled rejection. */
export function handled(request: Promise<unknown>): void {
  request.catch(() => {});
}

/** Rolls back what `tx` has queued, if it has not finished already. */
export function abortQuietly(tx: WriteTx): void {
  try {
    tx.abort();
  } catch {
    // Already committed or aborted by the browser: nothing more to undo.
  }
  handled(tx.done);
}
