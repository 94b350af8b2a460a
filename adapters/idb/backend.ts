import { unwrap } from "idb";
import { MemoryLockService, NotFound, StorageFailure, systemClock, type AtomDetail, type Backend, type ClaimedFlow, type ExpireOptions, type FlowDetail, type ListOptions, type LockService, type LogBook, type TrailEntry, type WriteBatch } from "taskflow-ts";
import { checkKeys, decodeEach, decodeRecord, decodeTrail, expiryLimit, fencedFlows, finishedAmong, isFinished, lastActive, nextEpoch, trailOf, unfinishedAmong, type FinishedBook, type StoredEntry } from "taskflow-ts/backend";
import { connect, type Db, type StoreName } from "./connect.js";
import { storageError } from "./errors.js";
import { abortQuietly, all, checkToken, deleteBook, deleteOrphans, fenceFlows, findOrphanFlows, handled, raiseToken, requireParents, type WriteTx } from "./transactions.js";
import { appendTrail, lastSeqs, trailRange } from "./trail.js";
import { WebLockService } from "./web-locks.js";

/**
 * Options of {@link IndexedDbBackend.open}.
 * @example
 * const backend = await IndexedDbBackend.open("checkout", { onVersionChange: () => location.reload() });
 */
export interface IndexedDbOptions {
  /**
   * "strict" (the default) resolves a commit once the browser says the write is flushed to disk;
   * "relaxed" may resolve before the OS has flushed it, and may then lose the last commits if the
   * machine (not only the page) goes down. A log book exists so that no finished step is lost or
   * run twice, and in Chromium here the two measured the same within noise (the round trip to the
   * browser's storage process dominates), hence "strict". "default" leaves it to the browser, and
   * browsers differ.
   */
  durability?: "strict" | "relaxed" | "default";
  /**
   * Called when another tab opens this database with a newer version (`newVersion`) or deletes it
   * (`null`). This connection has closed already so as not to block that tab; the next call opens
   * it again, and fails with a clear StorageFailure if the database is now too new. Tell the user
   * to reload.
   */
  onVersionChange?: (newVersion: number | null) => void;
  /**
   * The IndexedDB to use; the global `indexedDB` by default. A Storage Bucket's keeps log books
   * apart from the site's caches, with their own quota and eviction:
   * `(await navigator.storageBuckets.open("flows", { persisted: true, durability: "strict" })).indexedDB`.
   * Tests pass a fake's (`new IDBFactory()` from fake-indexeddb).
   */
  indexedDB?: IDBFactory;
  /**
   * Group commit (issue 13), on by default: batches that arrive while this connection's previous
   * commit is under way (other flows' engines running at the same time in this tab or worker) are
   * written together in the next transaction, each with its own fencing and parent checks. Each
   * batch still lands whole or not at all, and each caller learns its own batch's fate: when the
   * shared transaction fails (one flow's token superseded, a missing parent, a full disk), each of
   * its batches is committed again on its own. A single flow is not slowed down: its commit goes
   * at once when nothing is under way. `false`: one transaction per batch, always.
   */
  groupCommits?: boolean;
}

const ALL: StoreName[] = ["books", "flows", "atoms", "superseded", "trail", "keys"];
const NONE: ReadonlySet<string> = new Set();

/**
 * Log books in the browser's IndexedDB: one object store per record kind, with the indexes the
 * engine and a viewer need (flow details of a book, atoms of a flow, by state, by update time). A
 * batch is one readwrite transaction; every record read back is validated with the core's
 * record checks, so a corrupted or foreign record is reported with its key and nothing is rewritten.
 *
 * @example
 * const backend = await IndexedDbBackend.open("checkout", { onVersionChange: () => showReloadBanner() });
 * const engine = load(flow, { backend, flowDetailId: localStorage.getItem("flowId") ?? undefined });
 * await backend.expire({ olderThanMs: 30 * 86_400_000 }); // forget flows finished a month ago
 */
export class IndexedDbBackend implements Backend {
  #connection: Promise<Db> | undefined;
  #closed = false;
  /**
   * Flow details this connection has seen stored (written or looked up in a committed
   * transaction): a commit of their atoms alone skips the parent lookup, which would cost a
   * request per commit. A delete here, or news of one from another tab, drops them again.
   */
  readonly #knownFlows = new Set<string>();
  /** News of deletes between the tabs (and workers) of this origin that use this database. */
  #deletes: BroadcastChannel | undefined;
  /**
   * Counts what may have removed flows behind a commit's back (deletes here or in another tab, a
   * lost connection): a commit during which this changed learns nothing from itself.
   */
  #deleteNews = 0;
  /** Deletes under way here: until they end, commits look every parent up. */
  #deleting = 0;
  /**
   * The flows' locks that engines on this backend take by default: Web Locks scoped to this
   * database's name (tabs and workers of the origin), or, where there are none (Node, with
   * fake-indexeddb), one {@link MemoryLockService} per database name in this process.
   */
  readonly locks: LockService;
  /**
   * The fencing token each flow detail had when this connection last claimed or wrote it: a
   * commit fenced with that token checks it without a read (see {@link commit}).
   */
  readonly #epochs = new Map<string, number>();
  /**
   * The number of the last trail record this connection claimed or wrote, per flow detail: its
   * next commit appends at the key after it, which also checks its token (see trail.ts).
   */
  readonly #trailSeqs = new Map<string, number>();
  /** Batches waiting for the commit under way to end, to be written together (see {@link IndexedDbOptions.groupCommits}). */
  #waiting: Waiting[] = [];
  /** Whether a commit (or a group of them) is under way. */
  #writing = false;

  private constructor(
    /** The IndexedDB database name. */
    readonly name: string,
    private readonly options: IndexedDbOptions,
  ) {
    this.locks = WebLockService.available ? new WebLockService({ scope: name }) : processLocks(name);
  }

  /**
   * Opens (or creates, or migrates) the database, so that a browser refusing storage is known
   * before the first flow runs.
   * @throws StorageFailure when IndexedDB is unavailable (a private window, site data blocked) or
   * the database was written by a newer version of taskflow-ts
   */
  static async open(name = "taskflow", options: IndexedDbOptions = {}): Promise<IndexedDbBackend> {
    const backend = new IndexedDbBackend(name, options);
    await backend.#database();
    if (typeof BroadcastChannel === "function") {
      backend.#deletes = new BroadcastChannel(`taskflow-ts/idb/${name}`);
      backend.#deletes.onmessage = (event: MessageEvent<unknown>) => {
        if (!Array.isArray(event.data)) return;
        backend.#deleteNews++;
        for (const flow of event.data) {
          backend.#knownFlows.delete(String(flow));
          backend.#trailSeqs.delete(String(flow));
        }
      };
    }
    return backend;
  }

  #database(): Promise<Db> {
    if (this.#closed) return Promise.reject(new StorageFailure(`IndexedDB log books "${this.name}" are closed; open a new IndexedDbBackend`));
    // One pending open shared by concurrent callers: a reopen after a versionchange must not
    // leave a second connection behind that would block the next upgrade.
    this.#connection ??= this.#connect();
    return this.#connection;
  }

  #connect(): Promise<Db> {
    const pending: Promise<Db> = connect(this.name, this.options.indexedDB, {
      versionChange: (newVersion) => {
        this.#forget(pending);
        this.options.onVersionChange?.(newVersion);
      },
      terminated: () => this.#forget(pending),
    });
    // A failed open is not kept: the next call tries again (the blocking tab may have gone).
    pending.catch(() => this.#forget(pending));
    return pending;
  }

  #forget(connection: Promise<Db>): void {
    if (this.#connection === connection) {
      this.#connection = undefined;
      // What was true of the old connection is not known of the database now (it may be gone).
      this.#deleteNews++;
      this.#knownFlows.clear();
      this.#epochs.clear();
      this.#trailSeqs.clear();
    }
  }

  /**
   * One readwrite transaction for the batch, or for it and the batches of other flows that arrive
   * while the previous commit is under way (see {@link IndexedDbOptions.groupCommits}).
   */
  commit(batch: WriteBatch): Promise<void> {
    if (this.options.groupCommits === false) return this.#commitAlone(batch);
    return new Promise<void>((resolve, reject) => {
      this.#waiting.push({ batch, resolve, reject });
      if (!this.#writing) void this.#drain();
    });
  }

  /**
   * Writes what waits, one transaction at a time: what arrived meanwhile goes in the next one.
   * IndexedDB runs readwrite transactions over the same stores one after another anyway, so one
   * in flight loses nothing, and the wait gathers the batches of every flow that ran meanwhile.
   */
  async #drain(): Promise<void> {
    this.#writing = true;
    try {
      while (this.#waiting.length > 0) {
        const group = takeGroup(this.#waiting);
        if (group.length === 1) {
          const [one] = group as [Waiting];
          await this.#commitAlone(one.batch).then(one.resolve, one.reject);
          continue;
        }
        try {
          await this.#commitGroup(group.map((w) => w.batch));
          for (const w of group) w.resolve();
        } catch {
          // Nothing of the group landed (one transaction): each batch again on its own, so that
          // one flow's refusal (LockLost, NotFound) or failure is its own and sinks no other.
          for (const w of group) await this.#commitAlone(w.batch).then(w.resolve, w.reject);
        }
      }
    } finally {
      this.#writing = false;
    }
  }

  /**
   * One batch in one transaction. A batch fenced with the token this connection last saw stored
   * for its flow is checked in it without a read, by a request that fails once that token has been
   * superseded, which aborts the transaction even after `commit()`: the append of its trail record
   * at the key after the last one this connection wrote (see trail.ts), or, for a batch without
   * transitions, `checkToken` (a put that a unique index refuses once a raise of the token wrote
   * its entry). Otherwise (another token, a batch raising or naming other flows, an unfenced batch
   * with flow details) the stored tokens are read key-only in the transaction and the rule
   * (`fencedFlows`) applied before it commits. When such a request fails, the batch is judged
   * again by reading: `LockLost` if its token was superseded, else committed after all (another
   * writer appended to the trail, e.g. an unfenced one).
   */
  async #commitAlone(batch: WriteBatch): Promise<void> {
    let collided = false;
    try {
      await this.#commit([batch], () => (collided = true));
    } catch (e) {
      if (!collided) throw e;
      for (const f of namedFlows(batch)) this.#forgetTokenAndTrail(f);
      const { fence } = batch;
      if (fence) {
        // A newer runner claimed the flow: the rule says so, with the stored token.
        const stored = (await this.#read((db) => db.get("flows", fence.flowUuid))) as FlowDetail | undefined;
        fencedFlows(batch, (id) => (id === fence.flowUuid ? stored : undefined));
      }
      return this.#commit([batch], false); // not refused after all: check it by reading
    }
  }

  /** Batches of distinct flows in one transaction: all land or none (the caller then commits each alone). */
  #commitGroup(batches: WriteBatch[]): Promise<void> {
    return this.#commit(batches, () => {});
  }

  /** Whether the batch is fenced with the token this connection knows, and names no other flow. */
  #knowsToken(batch: WriteBatch): boolean {
    const { fence } = batch;
    return !!fence && this.#epochs.get(fence.flowUuid) === fence.epoch && batch.flows.every((f) => f.uuid === fence.flowUuid && (f.epoch ?? 0) <= fence.epoch);
  }

  #forgetTokenAndTrail(flowUuid: string): void {
    this.#epochs.delete(flowUuid);
    this.#trailSeqs.delete(flowUuid);
  }

  /**
   * `batches` in one transaction, each checked as {@link commitAlone} says. `collided`: what this
   * connection knows (tokens, the trail's last keys) is trusted, and this is called when a request
   * checking it fails; `false`: every fenced batch is checked, and every trail key found, by reading.
   */
  async #commit(batches: WriteBatch[], collided: false | (() => void)): Promise<void> {
    const news = this.#deleteNews;
    const trailSeqs = new Map<string, number>();
    const epochs = await this.#write("commit", async (tx) => {
      const raw = unwrap(tx);
      // Every batch's requests are queued before anything is awaited: one round trip for all.
      const pending = batches.map((batch) => this.#queue(tx, raw, batch, collided, trailSeqs));
      const settled = await Promise.allSettled(pending.map((finish) => finish()));
      const failed = settled.find((r) => r.status === "rejected");
      if (failed) throw failed.reason;
      // Nothing more to ask: commit now rather than when the browser notices that no request is
      // pending, which costs one more round trip to its storage process (about a fifth of a
      // one-put transaction in Chromium). Browsers from before 2021 may lack commit(): they wait.
      (raw as Partial<Pick<IDBTransaction, "commit">>).commit?.();
      return settled.map((r) => (r.status === "fulfilled" ? r.value : undefined));
    });
    batches.forEach(({ fence }, i) => {
      const epoch = epochs[i];
      if (fence && epoch !== undefined) this.#epochs.set(fence.flowUuid, epoch);
    });
    for (const [f, seq] of trailSeqs) this.#trailSeqs.set(f, seq);
    // Without news of other tabs' deletes (no BroadcastChannel), every commit looks its flows up.
    if (news !== this.#deleteNews || !this.#deletes) return; // or a flow of these batches may have been deleted since
    for (const batch of batches) {
      for (const f of batch.flows) this.#knownFlows.add(f.uuid);
      for (const a of batch.atoms) this.#knownFlows.add(a.flowUuid);
    }
  }

  /**
   * Queues one batch's checks and puts in `tx`; the function returned waits for its checks and
   * resolves to the fenced flow's token as stored now (it rejects, and the caller aborts, when a
   * check refuses the batch). `trailSeqs` gets the number of each flow's last trail record as the
   * transaction leaves it.
   */
  #queue(tx: WriteTx, raw: IDBTransaction, batch: WriteBatch, collided: false | (() => void), trailSeqs: Map<string, number>): () => Promise<number | undefined> {
    const fence = batch.fence;
    const parents = requireParents(tx, batch, this.#deleting > 0 ? NONE : this.#knownFlows);
    if (parents) handled(parents); // awaited below, unless a put throws first (a record that cannot be cloned)
    // The audit trail: one record per flow detail (see trail.ts for its keys).
    const trail = batch.transitions?.length ? trailOf(batch) : [];
    const seqsKnown = collided !== false && trail.every((r) => this.#trailSeqs.has(r.flowUuid));
    let flows = batch.flows;
    let settle: (() => Promise<number | undefined>) | undefined;
    let settledSeqs: Map<string, number> | undefined;
    if (collided && fence && this.#knowsToken(batch)) {
      // Fails (ConstraintError, which aborts the transaction) if the token has been raised since:
      // the append of the flow's trail record below, or a request of its own when it has none.
      if (!(seqsKnown && trail.some((r) => r.flowUuid === fence.flowUuid))) checkToken(raw, fence.flowUuid, fence.epoch).addEventListener("error", collided);
      flows = fencedFlows(batch, () => ({ epoch: fence.epoch }) as FlowDetail);
    } else if (fence || flows.length > 0) {
      // The stored tokens, read key-only before the puts are queued; the flow details put with
      // the token they will most likely keep, which `settle` corrects (or aborts with LockLost).
      ({ flows, settle, trailSeqs: settledSeqs } = fenceFlows(tx, batch, trail.map((r) => r.flowUuid)));
    }
    // Trail keys this connection knows are used at once; otherwise read: by `fenceFlows` when it
    // reads the tokens (after a raise of the token, which takes its trail's next key, the keys
    // `settle` leaves), else here.
    const lasts = seqsKnown || settle ? undefined : lastSeqs(tx, trail.map((r) => r.flowUuid));
    if (lasts) handled(lasts);
    if (!lasts && !settle) {
      for (const r of trail) {
        const seq = (this.#trailSeqs.get(r.flowUuid) as number) + 1;
        appendTrail(raw, r, seq).addEventListener("error", collided as () => void);
        trailSeqs.set(r.flowUuid, seq);
      }
    }
    // Queue every put and wait for the transaction only: one commit for the whole batch. A put
    // that fails aborts the transaction, whose error `tx.done` then reports. Plain IndexedDB
    // requests, without idb's promise per request: a round writes hundreds.
    putAll(raw.objectStore("books"), batch.logBooks);
    putAll(raw.objectStore("flows"), flows);
    putAll(raw.objectStore("atoms"), batch.atoms);
    // User keys: read, checked (a key bound elsewhere refuses the batch: `Duplicate`), then put.
    const keys = batch.keys?.length ? bindKeys(tx, batch) : undefined;
    if (keys) handled(keys);
    return async () => {
      if (keys) await keys;
      if (parents) await parents;
      const epoch = settle ? await settle() : fence?.epoch;
      if (lasts || settledSeqs) {
        const last = settledSeqs ?? (await (lasts as Promise<Map<string, number>>));
        for (const r of trail) last.set(r.flowUuid, (last.get(r.flowUuid) ?? 0) + 1);
        for (const r of trail) appendTrail(raw, r, last.get(r.flowUuid) as number);
        for (const [f, seq] of last) trailSeqs.set(f, seq);
      }
      return epoch;
    };
  }

  /** The flow's next fencing token, stored at once in one readwrite transaction (see `Backend.claim`). */
  async claim(flowUuid: string): Promise<number> {
    let seq = 0;
    const epoch = await this.#write("commit", async (tx) => {
      const [stored, last] = await Promise.all([tx.objectStore("flows").get(flowUuid) as Promise<FlowDetail | undefined>, lastSeqs(tx, [flowUuid])]);
      const { flow, epoch } = nextEpoch(stored);
      seq = last.get(flowUuid) ?? 0;
      if (flow) {
        handled(tx.objectStore("flows").put(flow));
        // The token it rose from is superseded: a commit fenced with it now fails (see commit).
        seq = raiseToken(unwrap(tx), flowUuid, stored?.epoch, epoch, seq);
      }
      (unwrap(tx) as Partial<Pick<IDBTransaction, "commit">>).commit?.();
      return epoch;
    });
    this.#epochs.set(flowUuid, epoch);
    this.#trailSeqs.set(flowUuid, seq);
    return epoch;
  }

  /**
   * See {@link Backend.claimFlows}: every token raised in one readwrite transaction as
   * {@link claim} raises one, and what each engine loads read back in it (a host starting many
   * jobs at once: one transaction instead of a claim and three reads each). A flow named twice
   * is claimed twice, in order: the first token is superseded at once.
   */
  async claimFlows(flowUuids: string[]): Promise<ClaimedFlow[]> {
    if (flowUuids.length === 0) return [];
    const unique = [...new Set(flowUuids)];
    let seqs = new Map<string, number>();
    const claimed = await this.#write("commit", async (tx) => {
      const flows = tx.objectStore("flows");
      const raw = unwrap(tx);
      const [stored, lasts] = await Promise.all([Promise.all(unique.map((id) => flows.get(id) as Promise<FlowDetail | undefined>)), lastSeqs(tx, unique)]);
      seqs = lasts;
      const latest = new Map(unique.map((id, i) => [id, stored[i]]));
      const epochs = flowUuids.map((id) => {
        const before = latest.get(id);
        if (!before) throw new NotFound(`flow detail "${id}" is not stored, so it cannot be claimed; nothing was claimed`);
        const { flow, epoch } = nextEpoch(before) as { flow: FlowDetail; epoch: number };
        handled(flows.put(flow));
        seqs.set(id, raiseToken(raw, id, before.epoch, epoch, seqs.get(id) ?? 0)); // as claim() does: a commit fenced with the old token now fails
        latest.set(id, flow);
        return epoch;
      });
      // Read after the puts, in the same transaction: what each engine would load now.
      const loaded = new Map(await Promise.all(unique.map(async (id) => {
        const flow = toFlowDetail(latest.get(id));
        const [book, atoms] = await Promise.all([tx.objectStore("books").get(flow.bookUuid), tx.objectStore("atoms").index("flowUuid").getAll(id)]);
        if (book === undefined) throw new NotFound(`log book "${flow.bookUuid}" of flow detail "${id}" is not stored; nothing was claimed`);
        return [id, { flow, book: toLogBook(book), atoms: atoms.map(toAtomDetail) }] as const;
      })));
      (raw as Partial<Pick<IDBTransaction, "commit">>).commit?.();
      const seen = new Set<string>();
      return flowUuids.map((id, i) => {
        const records = loaded.get(id) as Omit<ClaimedFlow, "epoch">;
        const own = seen.has(id) ? structuredClone(records) : records; // each caller's own copy
        seen.add(id);
        return { epoch: epochs[i] as number, ...own };
      });
    });
    for (const { flow, epoch } of claimed) this.#epochs.set(flow.uuid, epoch); // in order: a flow named twice ends with its second token
    for (const [id, seq] of seqs) this.#trailSeqs.set(id, seq);
    return claimed;
  }

  /** See {@link Backend.getKeyedFlow}. */
  async getKeyedFlow(key: string): Promise<string | undefined> {
    return this.#read((db) => db.get("keys", key));
  }

  /** See {@link Backend.deleteKey}. */
  async deleteKey(key: string): Promise<boolean> {
    return this.#write("delete", async (tx) => {
      const store = tx.objectStore("keys");
      if ((await store.getKey(key)) === undefined) return false;
      await store.delete(key);
      return true;
    });
  }

  async getLogBook(uuid: string): Promise<LogBook> {
    const raw = await this.#read((db) => db.get("books", uuid));
    if (raw === undefined) throw new NotFound(`log book "${uuid}" is not stored`);
    return toLogBook(raw);
  }

  async listLogBooks(options: ListOptions = {}): Promise<LogBook[]> {
    const books = await this.#read((db) => db.getAll("books"));
    return decodeEach("log book", books.map(entry), options.onBadRecord);
  }

  async getFlowDetails(bookUuid: string): Promise<FlowDetail[]> {
    const [book, flows] = await this.#read((db) => {
      const tx = db.transaction(["books", "flows"], "readonly");
      return all(tx, [tx.objectStore("books").getKey(bookUuid), tx.objectStore("flows").index("bookUuid").getAll(bookUuid)] as const);
    });
    if (book === undefined) throw new NotFound(`log book "${bookUuid}" is not stored`);
    return flows.map(toFlowDetail).sort((a, b) => a.createdAt - b.createdAt);
  }

  async getFlowDetail(uuid: string): Promise<FlowDetail> {
    const raw = await this.#read((db) => db.get("flows", uuid));
    if (raw === undefined) throw new NotFound(`flow detail "${uuid}" is not stored`);
    return toFlowDetail(raw);
  }

  async getAtomDetails(flowUuid: string): Promise<AtomDetail[]> {
    const [flow, atoms] = await this.#read((db) => {
      const tx = db.transaction(["flows", "atoms"], "readonly");
      return all(tx, [tx.objectStore("flows").index("uuid").getKey(flowUuid), tx.objectStore("atoms").index("flowUuid").getAll(flowUuid)] as const);
    });
    if (flow === undefined) throw new NotFound(`flow detail "${flowUuid}" is not stored`);
    return atoms.map(toAtomDetail);
  }

  async getTrail(flowUuid: string): Promise<TrailEntry[]> {
    const [flow, records] = await this.#read((db) => {
      const tx = db.transaction(["flows", "trail"], "readonly");
      return all(tx, [tx.objectStore("flows").index("uuid").getKey(flowUuid), tx.objectStore("trail").getAll(trailRange(flowUuid))] as const);
    });
    if (flow === undefined) throw new NotFound(`flow detail "${flowUuid}" is not stored`);
    return decodeTrail(flowUuid, records.flatMap((r) => (r as { entries?: unknown[] } | null)?.entries ?? [r]));
  }

  async destroyLogBook(uuid: string): Promise<void> {
    const flows = await this.#whileDeleting(() =>
      this.#write("delete", async (tx) => {
        if ((await tx.objectStore("books").getKey(uuid)) === undefined) throw new NotFound(`log book "${uuid}" is not stored`);
        return deleteBook(tx, uuid);
      }),
    );
    this.#deleted(flows);
  }

  /** Runs a delete; commits started meanwhile (queued after it by IndexedDB) check their parents. */
  async #whileDeleting<T>(work: () => Promise<T>): Promise<T> {
    this.#deleting++;
    try {
      return await work();
    } finally {
      this.#deleting--;
      this.#deleteNews++;
    }
  }

  /** Forgets deleted flow details here and tells the other tabs, so that their next commit of one fails. */
  #deleted(flows: string[]): void {
    this.#deleteNews++;
    for (const f of flows) {
      this.#knownFlows.delete(f);
      this.#trailSeqs.delete(f);
    }
    if (flows.length > 0) this.#deletes?.postMessage(flows);
  }

  async listFinished(options?: ListOptions): Promise<LogBook[]> {
    return (await this.#finished(options)).map((f) => f.book);
  }

  /** See {@link Backend.listUnfinished}: every flow detail read in one transaction, the final ones left out. */
  async listUnfinished(options?: ListOptions): Promise<FlowDetail[]> {
    const flows = await this.#read((db) => db.getAll("flows"));
    return unfinishedAmong(flows.map(entry), options?.onBadRecord);
  }

  /**
   * See {@link Backend.expire}. Each book is judged again inside its deleting transaction, so a
   * flow that another tab resumed or revised meanwhile is kept. Also removes atom details left
   * without their flow detail (written by a tab that had not heard of a delete yet).
   */
  async expire(options: ExpireOptions): Promise<string[]> {
    return this.#whileDeleting(() => this.#expire(options));
  }

  async #expire(options: ExpireOptions): Promise<string[]> {
    const limit = expiryLimit(options, systemClock);
    const deleted: string[] = [];
    for (const { book } of (await this.#finished(options)).filter((f) => f.lastActive < limit)) {
      const gone = await this.#write("delete", async (tx) => {
        const [raw, flows] = await Promise.all([tx.objectStore("books").get(book.uuid), tx.objectStore("flows").index("bookUuid").getAll(book.uuid)]);
        if (raw === undefined) return false;
        // Read again as the first pass did: a record that went bad meanwhile keeps its book.
        let bad = false;
        const [still] = decodeEach("log book", [entry(raw)], () => (bad = true));
        const details = decodeEach("flow detail", flows.map(entry), () => (bad = true));
        if (bad || !still || !isFinished(details) || lastActive(still, details) >= limit) return false;
        this.#deleted(await deleteBook(tx, book.uuid));
        return true;
      });
      if (gone) deleted.push(book.uuid);
    }
    // Atoms a run in another tab wrote just after its flow was deleted (before it heard of it).
    const orphans = await this.#read(findOrphanFlows); // read-only: commits wait for nothing but this
    if (orphans.length > 0) await this.#write("delete", (tx) => deleteOrphans(tx, orphans));
    return deleted;
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#deletes?.close();
    const pending = this.#connection;
    this.#connection = undefined;
    (await pending?.catch(() => undefined))?.close();
  }

  /** The finished books with their last activity, in one snapshot of books and flow details; bad records skipped and reported. */
  async #finished(options?: ListOptions): Promise<FinishedBook[]> {
    const [books, flows] = await this.#read((db) => {
      const tx = db.transaction(["books", "flows"], "readonly");
      return all(tx, [tx.objectStore("books").getAll(), tx.objectStore("flows").getAll()] as const);
    });
    return finishedAmong(books.map(entry), flows.map(entry), options?.onBadRecord);
  }

  async #read<T>(read: (db: Db) => Promise<T>): Promise<T> {
    const db = await this.#database();
    try {
      return await read(db);
    } catch (e) {
      throw storageError(e, "read");
    }
  }

  /**
   * Runs `work` in one readwrite transaction over every store and waits for it to commit. When
   * `work` throws (a missing parent, a record that cannot be cloned), the transaction is aborted,
   * so nothing it queued is written.
   */
  async #write<T>(doing: "commit" | "delete", work: (tx: WriteTx) => Promise<T>): Promise<T> {
    const db = await this.#database();
    let tx: WriteTx | undefined;
    try {
      tx = db.transaction(ALL, "readwrite", { durability: this.options.durability ?? "strict" });
      const result = await work(tx);
      await tx.done;
      return result;
    } catch (e) {
      if (tx) abortQuietly(tx);
      throw storageError(e, doing);
    }
  }
}

/** Without Web Locks: the engines of this process share one lock service per database name. */
const memoryLocks = new Map<string, MemoryLockService>();
function processLocks(name: string): MemoryLockService {
  let locks = memoryLocks.get(name);
  if (!locks) memoryLocks.set(name, (locks = new MemoryLockService()));
  return locks;
}

/** A batch waiting for the commit under way, and its caller's promise. */
interface Waiting {
  batch: WriteBatch;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * Takes from the front of `waiting` the batches that go in one transaction: in arrival order,
 * up to the first that names a flow an earlier one names (its checks must see the earlier
 * batch's writes settled), so that each flow has at most one batch in a group.
 */
function takeGroup(waiting: Waiting[]): Waiting[] {
  const flows = new Set<string>();
  let n = 0;
  for (; n < waiting.length; n++) {
    const { batch } = waiting[n] as Waiting;
    const named = namedFlows(batch);
    if (n > 0 && [...named].some((f) => flows.has(f))) break;
    for (const f of named) flows.add(f);
  }
  return waiting.splice(0, Math.max(n, 1));
}

/**
 * Binds the batch's user keys in its transaction: each key is read, checked (`checkKeys`: bound to
 * another flow detail refuses the batch with `Duplicate`, and the throw aborts the transaction),
 * then put. Two tabs binding one key at once are serialized by IndexedDB's readwrite transactions
 * over the `keys` store: the second reads what the first wrote.
 */
async function bindKeys(tx: WriteTx, batch: WriteBatch): Promise<void> {
  const store = tx.objectStore("keys");
  const keys = batch.keys ?? [];
  const bound = new Map<string, string>();
  await Promise.all(keys.map(async ({ key }) => {
    const flow = await store.get(key);
    if (flow !== undefined) bound.set(key, flow);
  }));
  checkKeys(batch, bound);
  for (const { key, flowUuid } of keys) handled(store.put(flowUuid, key));
}

/** The flow details a batch writes or fences. */
function namedFlows(batch: WriteBatch): Set<string> {
  return new Set([...batch.flows.map((f) => f.uuid), ...batch.atoms.map((a) => a.flowUuid), ...(batch.fence ? [batch.fence.flowUuid] : [])]);
}

function putAll(store: IDBObjectStore, records: readonly unknown[]): void {
  for (const r of records) store.put(r);
}

// The key path is `uuid`, so a stored record's key is its uuid: nothing more to check.
const entry = (raw: unknown): StoredEntry => [String((raw as { uuid?: unknown }).uuid), raw];
const toLogBook = (raw: unknown) => decodeRecord("log book", raw);
const toFlowDetail = (raw: unknown) => decodeRecord("flow detail", raw);
const toAtomDetail = (raw: unknown) => decodeRecord("atom detail", raw);
