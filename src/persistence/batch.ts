import type { AtomDetail, FlowDetail, LogBook, WriteBatch } from "./models.js";

/**
 * Collects record updates between two commits. A record changed several times is written once,
 * in its latest form.
 */
export class PendingBatch {
  private books = new Map<string, LogBook>();
  private flows = new Map<string, FlowDetail>();
  private atoms = new Map<string, AtomDetail>();

  get size(): number {
    return this.books.size + this.flows.size + this.atoms.size;
  }
  book(record: LogBook): void {
    this.books.set(record.uuid, record);
  }
  flow(record: FlowDetail): void {
    this.flows.set(record.uuid, record);
  }
  atom(record: AtomDetail): void {
    this.atoms.set(record.uuid, record);
  }
  /** Empties the pending set and returns it as a batch. */
  take(): WriteBatch {
    return { logBooks: drain(this.books), flows: drain(this.flows), atoms: drain(this.atoms) };
  }
}

/** The values of `map`, which is left empty. An empty map is left alone: clearing a Map allocates a new table, and most batches carry no log book and no flow detail. */
function drain<T>(map: Map<string, T>): T[] {
  if (map.size === 0) return [];
  const out = [...map.values()];
  map.clear();
  return out;
}
