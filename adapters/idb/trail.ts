import type { TrailRecord } from "taskflow-ts/backend";
import type { WriteTx } from "./transactions.js";

// The audit trail in IndexedDB (layout 7): a flow detail's records under the keys [flowUuid, 1],
// [flowUuid, 2]… in commit order, added with `add`, which refuses a key already taken.
//
// That key is also the fence of a commit made with the token this connection claimed (issue 12):
// a runner appends its next record at the key after the last one it wrote, and whatever raises a
// flow's token (a claim, a batch raising it) takes that very key in its own transaction (with the
// raising batch's record, or a claim mark). A runner whose token was superseded therefore fails its
// next append (ConstraintError, which aborts its transaction, puts and all), and a runner that
// still holds the flow has its commit checked by a request it makes anyway: no request of its own.

/** The keys of one flow detail's trail records. */
export function trailRange(flowUuid: string): IDBKeyRange {
  return IDBKeyRange.bound([flowUuid], [flowUuid, Infinity]);
}

/**
 * Starts reading, in `tx`, the number of the last trail record of each flow (0 when it has none):
 * one key cursor each, newest first. Start it before queueing puts: one round trip for all.
 */
export function lastSeqs(tx: WriteTx, flowUuids: Iterable<string>): Promise<Map<string, number>> {
  const ids = [...new Set(flowUuids)];
  const store = tx.objectStore("trail");
  const read = Promise.all(ids.map((f) => store.openKeyCursor(trailRange(f), "prev")));
  return read.then((cursors) => new Map(ids.map((f, i) => [f, ((cursors[i]?.key as [string, number] | undefined) ?? [f, 0])[1]])));
}

/** Appends a trail record as number `seq` of its flow; the request fails if that key is taken. */
export function appendTrail(tx: IDBTransaction, record: TrailRecord | ClaimMark, seq: number): IDBRequest {
  return tx.objectStore("trail").add(record, [record.flowUuid, seq]);
}

/**
 * What a raise of a flow's token leaves in its trail when no transition of the flow goes with it:
 * no entries (a reader of the trail sees nothing), only the key a superseded runner would append next.
 */
export interface ClaimMark {
  flowUuid: string;
  entries: [];
  /** The token the flow's stored one rose to. */
  claimed: number | undefined;
}

export const claimMark = (flowUuid: string, claimed: number | undefined): ClaimMark => ({ flowUuid, entries: [], claimed });
