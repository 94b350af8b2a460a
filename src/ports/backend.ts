import type { AtomDetail, FlowDetail, LogBook, WriteBatch } from "../persistence/models.js";

/**
 * Where log books live. Adapters implement it (memory here; IndexedDB and Durable Objects in
 * `adapters/`). Every method is async; every record returned is validated against the core's
 * schemas and is the caller's own copy.
 *
 * The engine writes only through {@link Backend.commit}: a batch of complete records applied
 * atomically, so that a whole scheduling round is one transaction.
 */
export interface Backend {
  /**
   * Applies every record of the batch, or none of them. A flow detail whose log book is neither
   * stored nor in the batch, or an atom detail whose flow detail is neither, is refused with
   * `NotFound` and nothing is written.
   */
  commit(batch: WriteBatch): Promise<void>;
  /** @throws NotFound */
  getLogBook(uuid: string): Promise<LogBook>;
  listLogBooks(): Promise<LogBook[]>;
  /** Deletes a log book with its flow and atom details. @throws NotFound */
  destroyLogBook(uuid: string): Promise<void>;
  /** The flow details of a log book, oldest first. @throws NotFound for an unknown book */
  getFlowDetails(bookUuid: string): Promise<FlowDetail[]>;
  /** @throws NotFound */
  getFlowDetail(uuid: string): Promise<FlowDetail>;
  /** The atom details of a flow detail. @throws NotFound for an unknown flow detail */
  getAtomDetails(flowUuid: string): Promise<AtomDetail[]>;
  /** Releases what the backend holds open; further calls fail. */
  close(): Promise<void>;
}
