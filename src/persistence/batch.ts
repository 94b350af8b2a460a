import type { AtomDetail, FlowDetail, LogBook, Transition, WriteBatch } from "./models.js";

/**
 * Collects record updates between two commits. A record changed several times is written once,
 * in its latest form.
 */
export class PendingBatch {
  private books = new Map<string, LogBook>();
  private flows = new Map<string, FlowDetail>();
  private atoms = new Map<string, AtomDetail>();
  /** Every transition, in order: the audit trail keeps them all, where a record keeps its latest. */
  private transitions: Transition[] = [];

  get size(): number {
    return this.books.size + this.flows.size + this.atoms.size + this.transitions.length;
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
  transition(entry: Transition): void {
    this.transitions.push(entry);
  }
  /** Empties the pending set and returns it as a batch. */
  take(): WriteBatch {
    const batch = { logBooks: [...this.books.values()], flows: [...this.flows.values()], atoms: [...this.atoms.values()], transitions: this.transitions };
    this.transitions = [];
    // Clearing a Map allocates a new table: an empty one is left alone (most batches carry no log
    // book and no flow detail, and one batch is taken per atom).
    if (batch.logBooks.length) this.books.clear();
    if (batch.flows.length) this.flows.clear();
    this.atoms.clear();
    return batch;
  }
}
