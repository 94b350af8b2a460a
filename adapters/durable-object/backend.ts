import {
  Duplicate, InvalidFormat, LockLost, MemoryLockService, NotFound, StorageFailure, systemClock,
  type AtomDetail, type Backend, type ExpireOptions, type FlowDetail, type ListOptions, type LockService, type LogBook, type TrailEntry, type WriteBatch,
} from "taskflow-ts";
import { checkKeys, checkParents, decodeEach, decodeRecord, decodeTrail, expiryLimit, fencedFlows, finishedAmong, nextEpoch, trailOf, unfinishedAmong, type FinishedBook, type RecordKind, type RecordOf, type StoredEntry } from "taskflow-ts/backend";
import {
  atomKey, bookFlowsPrefix, bookKey, bookOfFlowKey, BOOKS_PREFIX, flowAtomsPrefix, flowEpochKey, flowKey, flowParentKey, FLOWS_PREFIX, flowTrailPrefix, trailCountKey, trailKey, userKey, uuidOfKey,
} from "./keys.js";

/**
 * The part of a Durable Object's storage this backend uses: the SQLite-backed synchronous API.
 * @example
 * const storage: SqliteStorage = this.ctx.storage; // in a SQLite-backed Durable Object
 * const backend = new DurableObjectBackend(storage);
 */
export type SqliteStorage = Pick<DurableObjectStorage, "kv" | "transactionSync">;

/** A key no record uses (see keys.ts), read once to check that the storage is SQLite-backed. */
const PROBE_KEY = "taskflow-ts:probe";

/**
 * Log books in a Durable Object's own storage, for the flows that object runs.
 *
 * Why the synchronous key-value API (`storage.kv`) inside `storage.transactionSync`, rather than
 * SQL tables or the asynchronous `put`:
 * - One batch is one SQLite transaction: the parent checks read and the records are written in
 *   the same synchronous callback, and a throw anywhere (a missing parent, a value that cannot be
 *   cloned, a record over the 2 MB that Cloudflare allows a key and its value, which local
 *   workerd does not enforce) rolls all of it back. Nothing can interleave: no `await` inside.
 * - Values are stored as structured clones, as the memory and IndexedDB backends keep them: a
 *   `Date` or a `Map` in a result comes back as such, and copies come for free (what the caller
 *   gave or got back is never the stored value). SQL columns would need JSON, which loses them.
 * - The records are validated by the core's record checks on read anyway, so columns would only buy
 *   indexes; ordered keys give the lookups needed by prefix (see `keys.ts`).
 *
 * Durability: the write is in SQLite when `commit` resolves, and the Durable Object's output gate
 * holds every message the object sends (responses, `fetch`, RPC) until it is confirmed on disk;
 * if it fails, the object restarts and those messages are dropped. So a task's side effect is
 * never seen by the world before its RUNNING record is durable: write-ahead without waiting for
 * `storage.sync()` on every commit; and commits that follow one another with no I/O in between
 * reach the disk together (write coalescing).
 *
 * One runner per flow: every engine of one object runs on its one isolate thread, so the
 * backend's {@link DurableObjectBackend.locks} (a `MemoryLockService`, one per backend instance)
 * keeps them apart, and `claim` issues fencing tokens stored with the flow detail: a commit
 * checks its batch's token in the same `transactionSync` that writes it (the core's
 * `fencedFlows`), so a runner of an older instance of the object (one still finishing an `await`
 * after an eviction or a deploy made a new one) gets `LockLost` and writes nothing. Make one
 * backend per object and share it: two instances over one storage have two lock services, and
 * only the fence keeps their engines from both writing.
 *
 * Needs a SQLite-backed class (`new_sqlite_classes` in the wrangler migrations). An atom detail
 * is expected to stay with its flow detail (the engine never moves one).
 *
 * @example
 * export class Jobs extends DurableObject {
 *   backend = new DurableObjectBackend(this.ctx.storage);
 *   async checkout(cart: string) { return run(checkoutFlow(), { backend: this.backend, store: { cart } }); }
 * }
 */
export class DurableObjectBackend implements Backend {
  /** The engines on this backend take their flows' locks here: the engines of one object share its isolate. */
  readonly locks: LockService = new MemoryLockService();
  private closed = false;

  constructor(private readonly storage: SqliteStorage) {
    // A legacy (key-value backed) object has `kv` and `transactionSync` too, and the latter even
    // runs its callback, but `kv` throws on use: probe with one read, so that the mistake shows
    // here, with what to change, rather than at the first commit of a flow.
    try {
      storage.kv.get(PROBE_KEY);
    } catch (e) {
      throw new StorageFailure(
        "DurableObjectBackend needs the storage of a SQLite-backed Durable Object: declare the class under " +
          `new_sqlite_classes (not new_classes) in the wrangler migrations (${(e as Error).message})`,
        { cause: e },
      );
    }
  }

  async commit(batch: WriteBatch): Promise<void> {
    this.ensureOpen();
    const { kv } = this.storage;
    let key = "";
    try {
      this.storage.transactionSync(() => {
        // Each parent is read once, inside the transaction: a missing one rolls back what follows.
        checkParents(batch, { hasBook: (id) => kv.get(bookKey(id)) !== undefined, hasFlow: (id) => kv.get(flowParentKey(id)) !== undefined });
        // The fence is checked against the stored token in this transaction: a LockLost rolls back nothing, as nothing is written yet.
        const flows = batch.fence || batch.flows.length > 0 ? fencedFlows(batch, this.storedTokens()) : batch.flows;
        // User keys likewise: one bound to another flow detail refuses the batch (Duplicate) before anything is written.
        if (batch.keys) checkKeys(batch, { get: (k) => kv.get<string>(userKey(k)) });
        for (const b of batch.logBooks) kv.put((key = bookKey(b.uuid)), b);
        flows.forEach((f, i) => {
          if (f.epoch !== undefined) kv.put(flowEpochKey(f.uuid), f.epoch);
          if (i >= batch.flows.length) return; // the fenced flow, whose token only rose: stored above
          const before = kv.get<string>(flowParentKey(f.uuid));
          if (before !== undefined && before !== f.bookUuid) kv.delete(flowKey(before, f.uuid)); // moved to another book
          kv.put((key = flowKey(f.bookUuid, f.uuid)), f);
          kv.put((key = flowParentKey(f.uuid)), f.bookUuid);
        });
        for (const a of batch.atoms) kv.put((key = atomKey(a.flowUuid, a.uuid)), a);
        // The audit trail: the batch's transitions appended, one record per flow detail.
        for (const r of trailOf(batch)) {
          const n = (kv.get<number>(trailCountKey(r.flowUuid)) ?? 0) + 1;
          kv.put((key = trailKey(r.flowUuid, n)), r);
          kv.put(trailCountKey(r.flowUuid), n);
        }
        for (const k of batch.keys ?? []) kv.put((key = userKey(k.key)), k.flowUuid);
      });
    } catch (e) {
      if (e instanceof NotFound || e instanceof LockLost || e instanceof Duplicate) throw e;
      // A DataCloneError (a function in a result) or a value over the storage limit: the
      // transaction is rolled back, and the caller learns which record it was.
      throw new StorageFailure(`commit refused, nothing was written: storing "${key}" failed (${(e as Error).message})`, { cause: e });
    }
  }

  /** The flow's next fencing token, stored at once (1 for a flow not stored yet, storing nothing). */
  async claim(flowUuid: string): Promise<number> {
    this.ensureOpen();
    return this.storage.transactionSync(() => {
      const { flow, epoch } = nextEpoch(this.storedTokens()(flowUuid));
      if (flow) this.storage.kv.put(flowEpochKey(flowUuid), epoch);
      return epoch;
    });
  }

  /** See {@link Backend.getKeyedFlow}. */
  async getKeyedFlow(key: string): Promise<string | undefined> {
    this.ensureOpen();
    return this.storage.kv.get<string>(userKey(key));
  }

  /** See {@link Backend.deleteKey}. */
  async deleteKey(key: string): Promise<boolean> {
    this.ensureOpen();
    return this.storage.kv.delete(userKey(key));
  }

  async getLogBook(uuid: string): Promise<LogBook> {
    this.ensureOpen();
    const key = bookKey(uuid);
    const raw = this.storage.kv.get(key);
    if (raw === undefined) throw new NotFound(`log book "${uuid}" is not stored`);
    return decodeRecord("log book", raw, { key, uuid });
  }

  async listLogBooks(options: ListOptions = {}): Promise<LogBook[]> {
    this.ensureOpen();
    return decodeEach("log book", this.entries(BOOKS_PREFIX), options.onBadRecord);
  }

  async destroyLogBook(uuid: string): Promise<void> {
    this.ensureOpen();
    this.storage.transactionSync(() => {
      if (!this.deleteBook(uuid)) throw new NotFound(`log book "${uuid}" is not stored`);
    });
  }

  async listFinished(options?: ListOptions): Promise<LogBook[]> {
    this.ensureOpen();
    return this.finished(options).map((f) => f.book);
  }

  /** See {@link Backend.listUnfinished}: read in one synchronous stretch, each with its newest fencing token. */
  async listUnfinished(options?: ListOptions): Promise<FlowDetail[]> {
    this.ensureOpen();
    return unfinishedAmong(this.entries(FLOWS_PREFIX), options?.onBadRecord).map((f) => this.withToken(f));
  }

  async expire(options: ExpireOptions): Promise<string[]> {
    this.ensureOpen();
    const limit = expiryLimit(options, systemClock);
    // Judged and deleted in one synchronous transaction: nothing can resume a book in between.
    return this.storage.transactionSync(() => {
      const expired = this.finished(options).filter((f) => f.lastActive < limit).map((f) => f.book.uuid);
      for (const uuid of expired) this.deleteBook(uuid);
      return expired;
    });
  }

  async getFlowDetails(bookUuid: string): Promise<FlowDetail[]> {
    this.ensureOpen();
    if (this.storage.kv.get(bookKey(bookUuid)) === undefined) throw new NotFound(`log book "${bookUuid}" is not stored`);
    return this.list("flow detail", bookFlowsPrefix(bookUuid)).map((f) => this.withToken(f)).sort((a, b) => a.createdAt - b.createdAt);
  }

  async getFlowDetail(uuid: string): Promise<FlowDetail> {
    this.ensureOpen();
    const { kv } = this.storage;
    const book = kv.get<string>(flowParentKey(uuid));
    if (book === undefined) throw new NotFound(`flow detail "${uuid}" is not stored`);
    const key = flowKey(book, uuid);
    const raw = kv.get(key);
    if (raw === undefined) {
      throw new InvalidFormat(`flow detail "${uuid}" in the log book is corrupted: its parent "${flowParentKey(uuid)}" names book "${book}", but "${key}" is not stored`);
    }
    return this.withToken(decodeRecord("flow detail", raw, { key, uuid }));
  }

  async getAtomDetails(flowUuid: string): Promise<AtomDetail[]> {
    this.ensureOpen();
    if (this.storage.kv.get(flowParentKey(flowUuid)) === undefined) throw new NotFound(`flow detail "${flowUuid}" is not stored`);
    return this.list("atom detail", flowAtomsPrefix(flowUuid));
  }

  async getTrail(flowUuid: string): Promise<TrailEntry[]> {
    this.ensureOpen();
    const { kv } = this.storage;
    if (kv.get(flowParentKey(flowUuid)) === undefined) throw new NotFound(`flow detail "${flowUuid}" is not stored`);
    const records = [...kv.list({ prefix: flowTrailPrefix(flowUuid) })].map(([, r]) => r as { entries?: unknown[] } | null);
    return decodeTrail(flowUuid, records.flatMap((r) => r?.entries ?? [r]));
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  /**
   * The stored flow details as the fencing rule sees them: their tokens only (the `fe:` keys,
   * see keys.ts), undefined for a flow not stored; for use inside one transaction. The rule reads
   * nothing else of them, and the one record it makes from them (the fenced flow, when only its
   * token rises) is stored as that token alone.
   */
  private storedTokens(): (uuid: string) => FlowDetail | undefined {
    const { kv } = this.storage;
    return (uuid) => (kv.get(flowParentKey(uuid)) === undefined ? undefined : ({ uuid, epoch: kv.get<number>(flowEpochKey(uuid)) } as FlowDetail));
  }

  /** A flow detail read back, with the newest token stored for it. */
  private withToken(flow: FlowDetail): FlowDetail {
    const epoch = this.storage.kv.get<number>(flowEpochKey(flow.uuid));
    return epoch === undefined || epoch <= (flow.epoch ?? 0) ? flow : { ...flow, epoch };
  }

  /** Every record under `prefix`, each checked to be the record its key says (a foreign write may not be). */
  private list<K extends RecordKind>(kind: K, prefix: string): Array<RecordOf[K]> {
    this.ensureOpen();
    return this.entries(prefix).map(([key, raw, uuid]) => decodeRecord(kind, raw, { key, uuid }));
  }

  /** The stored records under `prefix`, each with the uuid its key holds. */
  private entries(prefix: string): StoredEntry[] {
    return [...this.storage.kv.list({ prefix })].map(([key, raw]) => [key, raw, uuidOfKey(key)]);
  }

  /**
   * The finished log books, read in one synchronous stretch. A flow detail belongs to the book its
   * key files it under (a delete goes by that key), whatever its value says.
   */
  private finished(options?: ListOptions): FinishedBook[] {
    return finishedAmong(this.entries(BOOKS_PREFIX), this.entries(FLOWS_PREFIX), options?.onBadRecord, bookOfFlowKey);
  }

  /** Deletes a log book with its flow details, their atom details, audit trails and parent pointers; false when it is not stored. Call it inside a transaction. */
  private deleteBook(uuid: string): boolean {
    const { kv } = this.storage;
    if (!kv.delete(bookKey(uuid))) return false;
    // Keys are collected before deleting: a list is not a snapshot of what it iterates.
    for (const flowRecordKey of [...kv.list({ prefix: bookFlowsPrefix(uuid) })].map(([k]) => k)) {
      const flow = uuidOfKey(flowRecordKey);
      for (const prefix of [flowAtomsPrefix(flow), flowTrailPrefix(flow)]) {
        for (const key of [...kv.list({ prefix })].map(([k]) => k)) kv.delete(key);
      }
      kv.delete(trailCountKey(flow));
      kv.delete(flowParentKey(flow));
      kv.delete(flowEpochKey(flow));
      kv.delete(flowRecordKey);
    }
    return true;
  }

  private ensureOpen(): void {
    if (this.closed) throw new StorageFailure("the Durable Object backend is closed");
  }
}
