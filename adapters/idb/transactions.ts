import { unwrap, type IDBPTransaction } from "idb";
import type { FlowDetail, WriteBatch } from "taskflow-ts";
import { checkParents, fencedFlows } from "taskflow-ts/backend";
import type { Db, LogBookDb, StoreName } from "./connect.js";
import { appendTrail, claimMark, lastSeqs, trailRange } from "./trail.js";

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

/**
 * The fencing rule (`fencedFlows`) inside the batch's transaction, without a round trip of its
 * own. Call it before queueing the batch's puts: it starts a key-only read of the stored token
 * of every flow the batch names (the flows' `fence` index), and returns the flow details to put
 * at once, with the tokens they keep unless the store holds newer ones. Once the puts are
 * queued, `settle()` waits for the tokens (the puts wait behind them: requests of a transaction
 * run in order) and re-puts a flow detail whose token must rise, or the stored one a newer fence
 * claims, marking each token risen from as superseded; it resolves to the fenced flow's token as
 * stored now, and rejects with LockLost when the fence is older than the stored token: the caller
 * aborts the transaction, so nothing of the batch lands. Commit the transaction only after it.
 * `trailSeqs` then holds the number of the last trail record of each flow it names and of each
 * of `trailFlows` (the flows the batch appends trail records for), a raise's mark included.
 */
export function fenceFlows(tx: WriteTx, batch: WriteBatch, trailFlows: readonly string[]): { flows: readonly FlowDetail[]; settle: () => Promise<number | undefined>; trailSeqs: Map<string, number> } {
  const ids = [...new Set([...batch.flows.map((f) => f.uuid), ...(batch.fence ? [batch.fence.flowUuid] : [])])];
  const index = tx.objectStore("flows").index("fence");
  const tokens = Promise.all(ids.map((id) => index.openKeyCursor(IDBKeyRange.bound([id], [id, Infinity]))));
  handled(tokens);
  const lasts = lastSeqs(tx, [...ids, ...trailFlows]);
  handled(lasts);
  const flows = fencedFlows(batch, () => undefined);
  const trailSeqs = new Map<string, number>();
  const settle = async () => {
    const epochs = new Map<string, number>();
    (await tokens).forEach((cursor, i) => cursor && epochs.set(ids[i] as string, (cursor.key as [string, number])[1]));
    for (const [id, seq] of await lasts) trailSeqs.set(id, seq);
    // Only the token of a stored flow detail matters to the rule, except when it is re-put whole.
    const standIn = (id: string) => (epochs.has(id) ? ({ epoch: epochs.get(id) } as FlowDetail) : undefined);
    const supersede = (f: FlowDetail) => {
      const from = epochs.get(f.uuid);
      if (from && (f.epoch ?? 0) > from) trailSeqs.set(f.uuid, raiseToken(unwrap(tx), f.uuid, from, f.epoch ?? 0, trailSeqs.get(f.uuid) ?? 0));
    };
    const put = (f: FlowDetail) => (handled(tx.objectStore("flows").put(f)), supersede(f));
    const exact = fencedFlows(batch, standIn); // throws LockLost
    exact.slice(0, flows.length).forEach((f, i) => (f.epoch !== flows[i]?.epoch ? put(f) : supersede(f)));
    const { fence } = batch;
    if (!fence) return undefined;
    const own = exact.find((f) => f.uuid === fence.flowUuid);
    if (own) return own.epoch;
    // A newer fence than the stored token, on a batch without its flow detail: the stored one is
    // re-put with it. Rare (claim() stores the token before the first fenced write), so the whole
    // record is read only then.
    if ((epochs.get(fence.flowUuid) ?? 0) < fence.epoch) {
      const stored = (await tx.objectStore("flows").get(fence.flowUuid)) as FlowDetail | undefined;
      const claimed = fencedFlows(batch, (id) => (id === fence.flowUuid ? stored : standIn(id)));
      const last = claimed[claimed.length - 1];
      if (claimed.length > batch.flows.length && last) put(last);
      return stored ? fence.epoch : undefined;
    }
    return epochs.get(fence.flowUuid);
  };
  return { flows, settle, trailSeqs };
}

/**
 * Records in `tx` that a flow's stored token rose from `from` to `to`, so that a commit fenced
 * with `from` is refused from now on: by {@link checkToken}, and by its trail append, since the
 * claim mark takes the key after the flow's last trail record (`lastSeq`, read in `tx`: see
 * trail.ts). Every raise goes through here (a claim, a commit raising the token), so the
 * `[flowUuid]` entry never holds a superseded token. Returns the mark's number, now the last.
 * @example seq = raiseToken(unwrap(tx), flowUuid, stored.epoch, stored.epoch + 1, seq); // in claim()
 */
export function raiseToken(tx: IDBTransaction, flowUuid: string, from: number | undefined, to: number, lastSeq: number): number {
  const store = tx.objectStore("superseded");
  // First the flow's own entry moves on, or the superseded token's entry would collide with it.
  store.put({ token: [flowUuid, to] }, [flowUuid]);
  if (from) store.put({ token: [flowUuid, from] }, [flowUuid, from]);
  appendTrail(tx, claimMark(flowUuid, to), lastSeq + 1);
  return lastSeq + 1;
}

/**
 * The check of a commit fenced with the token this connection last saw stored, in one request
 * that needs no answer before the transaction commits: a put of the token at the flow's own
 * entry, which the unique index refuses (ConstraintError, aborting the transaction even after
 * `commit()`) when that token has been superseded. Otherwise it rewrites the same small entry.
 * @example checkToken(tx, fence.flowUuid, fence.epoch).addEventListener("error", () => (refused = true));
 */
export function checkToken(tx: IDBTransaction, flowUuid: string, epoch: number): IDBRequest {
  return tx.objectStore("superseded").put({ token: [flowUuid, epoch] }, [flowUuid]);
}

/** Deletes a log book with its flow and atom details and their audit trails, inside `tx`; returns the flow details' ids. */
export async function deleteBook(tx: WriteTx, uuid: string): Promise<string[]> {
  const flowKeys = await tx.objectStore("flows").index("bookUuid").getAllKeys(uuid);
  const atomKeys = await Promise.all(flowKeys.map((f) => tx.objectStore("atoms").index("flowUuid").getAllKeys(f)));
  for (const key of atomKeys.flat()) handled(tx.objectStore("atoms").delete(key));
  for (const key of flowKeys) handled(tx.objectStore("flows").delete(key));
  for (const key of flowKeys) handled(tx.objectStore("superseded").delete(IDBKeyRange.bound([key], [key, Infinity])));
  await deleteTrails(tx, flowKeys);
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
  await deleteTrails(tx, gone);
}

/** Deletes the audit trails of `flowUuids`, inside `tx`. */
async function deleteTrails(tx: WriteTx, flowUuids: string[]): Promise<void> {
  await Promise.all(flowUuids.map((f) => tx.objectStore("trail").delete(trailRange(f))));
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
