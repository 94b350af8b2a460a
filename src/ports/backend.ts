import type { InvalidFormat } from "../errors.js";
import type { AtomDetail, FlowDetail, LogBook, TrailEntry, WriteBatch } from "../persistence/models.js";
import type { LockService } from "./lock.js";

/**
 * Where log books live. Adapters implement it (memory here; IndexedDB and Durable Objects in
 * `adapters/`). Every method is async; every record returned is validated against the core's
 * schemas and is the caller's own copy.
 *
 * The engine writes only through {@link Backend.commit}: a batch of complete records applied
 * atomically, so that a whole scheduling round is one transaction.
 *
 * @example
 * const backend: Backend = new MemoryBackend(); // or IndexedDB in a page, a Durable Object at the edge
 * const engine = load(flow, { backend });
 * await engine.run();
 * const atoms = await backend.getAtomDetails(engine.flowDetailId);
 */
export interface Backend {
  /**
   * Applies every record of the batch, or none of them, and appends its transitions to the audit
   * trails of their flow details in the same transaction. A flow detail whose log book is neither
   * stored nor in the batch, or an atom detail whose flow detail is neither, is refused with
   * `NotFound` and nothing is written. A batch with a `fence` older than its flow's stored
   * `epoch` is refused with `LockLost`, checked in the same transaction (`fencedFlows` in
   * `taskflow-ts/backend` says what to store).
   */
  commit(batch: WriteBatch): Promise<void>;
  /** @throws NotFound */
  getLogBook(uuid: string): Promise<LogBook>;
  /** Every log book; one that does not read back is skipped (see {@link ListOptions.onBadRecord}). */
  listLogBooks(options?: ListOptions): Promise<LogBook[]>;
  /** Deletes a log book with its flow and atom details and their audit trails. @throws NotFound */
  destroyLogBook(uuid: string): Promise<void>;
  /** The flow details of a log book, oldest first. @throws NotFound for an unknown book */
  getFlowDetails(bookUuid: string): Promise<FlowDetail[]>;
  /** @throws NotFound */
  getFlowDetail(uuid: string): Promise<FlowDetail>;
  /** The atom details of a flow detail. @throws NotFound for an unknown flow detail */
  getAtomDetails(flowUuid: string): Promise<AtomDetail[]>;
  /**
   * The audit trail of a flow detail: every transition committed to it (`batch.transitions`), in
   * commit order, numbered from 1. Optional for backends written before it; those of taskflow-ts
   * all keep it. Read it with `readSnapshot(backend, id, { trail: true })`.
   * @throws NotFound for an unknown flow detail; InvalidFormat for a corrupted trail
   */
  getTrail?(flowUuid: string): Promise<TrailEntry[]>;
  /**
   * Log books whose flow details have all finished (SUCCESS, REVERTED or FAILURE), least
   * recently active first: what a garbage collection may delete. A book without flow details is
   * not listed: the engine never writes one, so it belongs to someone else; nor is one with a flow
   * detail that does not read back (see {@link ListOptions.onBadRecord}).
   */
  listFinished(options?: ListOptions): Promise<LogBook[]>;
  /**
   * Flow details not in a final state (PENDING, RUNNING, SUSPENDED, …: not SUCCESS, REVERTED or
   * FAILURE), in every log book, least recently updated first: what a page or a host resumes after
   * a restart. One that does not read back is skipped (see {@link ListOptions.onBadRecord}).
   * @example for (const f of await backend.listUnfinished()) console.log(`${f.name} stopped ${f.state}`)
   */
  listUnfinished(options?: ListOptions): Promise<FlowDetail[]>;
  /**
   * The flow detail a user key points at (bound by a commit's `keys`, see `KeyBinding`), or
   * undefined; it may no longer be stored (its log book was deleted or expired). Backends without
   * keys leave it out, and `resumeOrStart` refuses them.
   */
  getKeyedFlow?(key: string): Promise<string | undefined>;
  /** Unbinds a user key (nothing else is deleted); true if it was bound. */
  deleteKey?(key: string): Promise<boolean>;
  /**
   * Deletes the finished log books (see {@link Backend.listFinished}) whose last activity (the
   * latest update of the book or of its flow details) is more than `olderThanMs` before `now`,
   * with everything in them; returns their ids, least recently active first. A book is judged in
   * the same transaction that deletes it, so a flow resumed meanwhile is kept.
   * @example
   * await backend.expire({ olderThanMs: 30 * 86_400_000 }); // forget flows finished a month ago
   */
  expire(options: ExpireOptions): Promise<string[]>;
  /** Releases what the backend holds open; further calls fail. */
  close(): Promise<void>;
  /**
   * Issues the next fencing token of a flow detail: one more than the newest stored for it,
   * stored as its `epoch` at once (a flow detail not stored yet gets it with its first write).
   * A runner claims the flow when it takes its lock, and every batch it writes then carries the
   * token (`batch.fence`); from the claim on, an older holder's writes are refused.
   */
  claim?(flowUuid: string): Promise<number>;
  /**
   * {@link claim} for several stored flow details in one transaction, each read back in it as its
   * runner's engine loads it (the flow detail with its new token, its log book, its atom
   * details): a host that starts many flows at once (a job conductor) claims and loads them
   * with one write instead of one claim and three reads each. All or none: when one is refused
   * (`NotFound`: not stored), no token is raised. Optional: without it, `claim` and the reads.
   * @throws NotFound for a flow detail not stored; nothing is claimed
   */
  claimFlows?(flowUuids: string[]): Promise<ClaimedFlow[]>;
  /**
   * The lock service that suits this backend, used by engines that are not given one: the runners
   * of one flow on this backend take its lock there. None: engines run without a lock unless given one.
   */
  readonly locks?: LockService | undefined;
}

/**
 * A flow detail claimed by {@link Backend.claimFlows}: its new fencing token and, read in the
 * claim's transaction, the records its engine loads.
 * @example const [{ epoch, flow, book, atoms }] = await backend.claimFlows!([flowUuid])
 */
export interface ClaimedFlow {
  epoch: number;
  flow: FlowDetail;
  book: LogBook;
  atoms: AtomDetail[];
}

/**
 * Options of the reads that go over every stored record: {@link Backend.listLogBooks},
 * {@link Backend.listFinished}, {@link Backend.listUnfinished} and {@link Backend.expire}.
 * @example await backend.expire({ olderThanMs: 30 * 86_400_000, onBadRecord: (key, e) => console.warn(`skipped ${key}: ${e.message}`) })
 */
export interface ListOptions {
  /**
   * Called with the key and the error of each stored record that does not read back (corrupted,
   * foreign, or written by a newer version of taskflow-ts). One bad record must not block the
   * rest, least of all a clean-up: it is skipped, left as it is (never changed, never deleted),
   * and the others are read. A log book with such a flow detail is not known to be finished, so
   * it is neither listed as finished nor expired. Without this option, bad records are skipped
   * silently; the key names the record as the backend stores it (its uuid, or a storage key).
   */
  onBadRecord?: (key: string, error: InvalidFormat) => void;
}

/**
 * Options of {@link Backend.expire}.
 * @example await backend.expire({ olderThanMs: 7 * 86_400_000, now: clock.now() })
 */
export interface ExpireOptions extends ListOptions {
  /** How long a finished log book is kept after its last activity, in milliseconds. */
  olderThanMs: number;
  /** "Now", in milliseconds since the Unix epoch; the system clock's by default. */
  now?: number;
}
