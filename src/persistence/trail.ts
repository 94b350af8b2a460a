import { InvalidFormat } from "../errors.js";
import type { TrailEntry, Transition, WriteBatch } from "./models.js";

// The audit trail (issue 15, item 3): every committed transition of a flow detail, appended in the
// commit that made it. A backend stores what `trailOf` gives (one record per flow detail and
// batch, holding its transitions in order: one put per commit, not one per transition) in the
// batch's own transaction, and reads a flow's records back in the order it stored them.

/**
 * What a backend stores of a batch's transitions: one record per flow detail they belong to, in
 * the order of the batch. Store each in the commit's transaction, after the order of the records
 * before it (an auto-increment key, a counter), and delete them with their log book.
 * @example for (const record of trailOf(batch)) store.add(record); // IndexedDB: an auto-increment store
 */
export function trailOf(batch: WriteBatch): TrailRecord[] {
  const records: TrailRecord[] = [];
  for (const t of batch.transitions ?? []) {
    const record = records.find((r) => r.flowUuid === t.flowUuid);
    if (record) record.entries.push(t);
    else records.push({ flowUuid: t.flowUuid, entries: [t] });
  }
  return records;
}

/**
 * A stored piece of a flow detail's audit trail: the transitions of one commit.
 * @example const record: TrailRecord = { flowUuid, entries: [{ flowUuid, atom: "a", from: "PENDING", to: "RUNNING", at: 1 }] }
 */
export interface TrailRecord {
  flowUuid: string;
  entries: Transition[];
}

/**
 * A flow detail's audit trail from its stored transitions, in the order they were stored: each
 * checked and numbered 1, 2, 3… A field this version does not know is kept. A backend storing
 * {@link trailOf}'s records passes their entries: `records.flatMap((r) => r?.entries ?? [r])`
 * (a record without entries is then reported as it is).
 * @throws InvalidFormat naming the first entry that is not a transition of this flow detail
 * @example const trail = decodeTrail(flowUuid, (await index.getAll(flowUuid)).flatMap((r) => r?.entries ?? [r]))
 */
export function decodeTrail(flowUuid: string, entries: readonly unknown[]): TrailEntry[] {
  return entries.map((e, i) => {
    const t = e as Partial<Transition> | null;
    if (t?.flowUuid !== flowUuid || !is(t.from, "string") || !is(t.to, "string") || !is(t.at, "number") || !is(t.atom ?? "", "string") || !is(t.attempt ?? 0, "number") || !is(t.runner ?? "", "string") || !is(t.epoch ?? 0, "number")) {
      throw new InvalidFormat(`the audit trail of flow detail "${flowUuid}" is corrupted: entry ${i + 1}, ${JSON.stringify(e)}, is not one of its transitions; nothing was changed`);
    }
    return { ...t, seq: i + 1 } as TrailEntry;
  });
}

const is = (value: unknown, type: string): boolean => typeof value === type;
