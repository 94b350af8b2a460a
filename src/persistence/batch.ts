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
    const batch = { logBooks: [...this.books.values()], flows: [...this.flows.values()], atoms: [...this.atoms.values()] };
    this.books.clear();
    this.flows.clear();
    this.atoms.clear();
    return batch;
  }
}
