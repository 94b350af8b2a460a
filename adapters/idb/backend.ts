import { type IDBPDatabase, type IDBPTransaction, openDB } from "idb";
import { NotFound, StorageFailure } from "../../src/errors.js";
import type { AtomDetail, FlowDetail, LogBook, WriteBatch } from "../../src/persistence/models.js";
import { atomDetailSchema, flowDetailSchema, logBookSchema, parseRecord } from "../../src/persistence/schemas.js";
import type { Backend } from "../../src/ports/backend.js";
import type { FlowState } from "../../src/states.js";

/**
 * Version of the database layout. Each version adds its migration to `upgrade` below; a database
 * written by a newer version is refused, never wiped.
 */
export const IDB_SCHEMA_VERSION = 1;

const STORES = ["books", "flows", "atoms"] as const;
type Store = (typeof STORES)[number];
type Tx = IDBPTransaction<unknown, Store[], "readwrite">;

/** Options of {@link IndexedDbBackend.open}. */
export interface IndexedDbOptions {
  /**
   * "strict" waits until the write is on disk before a commit resolves (about 0.42 ms a
   * transaction in Chromium here); "relaxed" lets the browser flush later (about 0.33 ms) and can
   * lose the last commits if the machine, not only the page, goes down. Default "strict": a
   * workflow log book is about not losing a step.
   */
  durability?: "strict" | "relaxed" | "default";
  /**
   * Another tab opened this database with a newer version: this connection closes (and reopens on
   * next use, failing if the schema is too new). Tell the user to reload.
   */
  onVersionChange?: () => void;
}

const FINISHED = new Set<FlowState>(["SUCCESS", "REVERTED", "FAILURE"]);

/**
 * Log books in the browser's IndexedDB: one object store per record kind, with the indexes a
 * viewer needs (flow details of a book, atoms of a flow, by state, by update time). A batch is one
 * readwrite transaction; every record read back is validated with the core's schemas.
 *
 * @example
 * const backend = await IndexedDbBackend.open("checkout");
 * const engine = load(flow, { backend, flowDetailId: localStorage.flowId });
 */
export class IndexedDbBackend implements Backend {
  #db: IDBPDatabase | undefined;
  #closed = false;

  private constructor(
    readonly name: string,
    private readonly options: IndexedDbOptions,
    db: IDBPDatabase,
  ) {
    this.#db = db;
  }

  /**
   * Opens (or creates) the database.
   * @throws StorageFailure when IndexedDB is unavailable (private mode, a blocked origin), blocked
   * by another tab, or written by a newer version of taskflow-ts
   */
  static async open(name = "taskflow", options: IndexedDbOptions = {}): Promise<IndexedDbBackend> {
    const backend = new IndexedDbBackend(name, options, await connect(name, () => backend.#lost()));
    return backend;
  }

  /** Another tab upgraded the database: let go of it, reopen on next use. */
  #lost(): void {
    this.#db?.close();
    this.#db = undefined;
    this.options.onVersionChange?.();
  }

  async #database(): Promise<IDBPDatabase> {
    if (this.#closed) throw new StorageFailure(`IndexedDB log books "${this.name}" are closed`);
    this.#db ??= await connect(this.name, () => this.#lost());
    return this.#db;
  }

  async commit(batch: WriteBatch): Promise<void> {
    const db = await this.#database();
    const tx = db.transaction(STORES, "readwrite", { durability: this.options.durability ?? "strict" }) as Tx;
    try {
      // Parents are checked in the same transaction, once each, and without waiting before the
      // puts are queued: the answers arrive before the puts complete, so a missing parent still
      // aborts the whole batch, and a commit costs one round trip, not two.
      const books = new Set(batch.logBooks.map((b) => b.uuid));
      const flows = new Set(batch.flows.map((f) => f.uuid));
      const checks: Array<Promise<string | undefined>> = [];
      const check = (store: Store, parent: string, problem: string) => {
        const p = tx.objectStore(store).getKey(parent).then((key) => (key === undefined ? problem : undefined));
        p.catch(() => {});
        checks.push(p);
      };
      for (const f of batch.flows) {
        if (books.has(f.bookUuid)) continue;
        books.add(f.bookUuid);
        check("books", f.bookUuid, `flow detail "${f.uuid}": log book "${f.bookUuid}" is not stored; save the log book first`);
      }
      for (const a of batch.atoms) {
        if (flows.has(a.flowUuid)) continue;
        flows.add(a.flowUuid);
        check("flows", a.flowUuid, `atom detail "${a.uuid}": flow detail "${a.flowUuid}" is not stored; save the flow detail first`);
      }
      // Queue every put, then wait for the transaction: one commit for the whole batch. When one
      // put fails, the transaction aborts and the others reject too: the first error is thrown.
      const puts: Array<Promise<unknown>> = [];
      const queue = (store: Store, records: readonly object[]) => {
        for (const r of records) {
          const p = tx.objectStore(store).put(r);
          p.catch(() => {});
          puts.push(p);
        }
      };
      queue("books", batch.logBooks);
      queue("flows", batch.flows);
      queue("atoms", batch.atoms);
      const missing = (await Promise.all(checks)).find((problem) => problem !== undefined);
      if (missing) throw new NotFound(missing);
      await Promise.all([...puts, tx.done]);
    } catch (e) {
      abortQuietly(tx);
      throw storageError(e, "commit");
    }
  }

  async getLogBook(uuid: string): Promise<LogBook> {
    const raw: unknown = await this.#read((db) => db.get("books", uuid));
    if (raw === undefined) throw new NotFound(`log book "${uuid}" is not stored`);
    return parseRecord(logBookSchema, "log book", uuid, raw);
  }

  async listLogBooks(): Promise<LogBook[]> {
    const all: unknown[] = await this.#read((db) => db.getAll("books"));
    return all.map((raw) => parseRecord(logBookSchema, "log book", keyOf(raw), raw));
  }

  async getFlowDetails(bookUuid: string): Promise<FlowDetail[]> {
    const db = await this.#database();
    const tx = db.transaction(["books", "flows"], "readonly");
    const [book, flows] = await Promise.all([tx.objectStore("books").getKey(bookUuid), tx.objectStore("flows").index("bookUuid").getAll(bookUuid)]);
    if (book === undefined) throw new NotFound(`log book "${bookUuid}" is not stored`);
    return (flows as unknown[]).map((raw) => parseRecord(flowDetailSchema, "flow detail", keyOf(raw), raw)).sort((a, b) => a.createdAt - b.createdAt);
  }

  async getFlowDetail(uuid: string): Promise<FlowDetail> {
    const raw: unknown = await this.#read((db) => db.get("flows", uuid));
    if (raw === undefined) throw new NotFound(`flow detail "${uuid}" is not stored`);
    return parseRecord(flowDetailSchema, "flow detail", uuid, raw);
  }

  async getAtomDetails(flowUuid: string): Promise<AtomDetail[]> {
    const db = await this.#database();
    const tx = db.transaction(["flows", "atoms"], "readonly");
    const [flow, atoms] = await Promise.all([tx.objectStore("flows").getKey(flowUuid), tx.objectStore("atoms").index("flowUuid").getAll(flowUuid)]);
    if (flow === undefined) throw new NotFound(`flow detail "${flowUuid}" is not stored`);
    return (atoms as unknown[]).map((raw) => parseRecord(atomDetailSchema, "atom detail", keyOf(raw), raw));
  }

  async destroyLogBook(uuid: string): Promise<void> {
    const db = await this.#database();
    const tx = db.transaction(STORES, "readwrite", { durability: this.options.durability ?? "strict" }) as Tx;
    try {
      if ((await tx.objectStore("books").getKey(uuid)) === undefined) throw new NotFound(`log book "${uuid}" is not stored`);
      const flowKeys = await tx.objectStore("flows").index("bookUuid").getAllKeys(uuid);
      for (const flowKey of flowKeys) {
        for (const atomKey of await tx.objectStore("atoms").index("flowUuid").getAllKeys(flowKey as string)) {
          await tx.objectStore("atoms").delete(atomKey);
        }
        await tx.objectStore("flows").delete(flowKey);
      }
      await tx.objectStore("books").delete(uuid);
      await tx.done;
    } catch (e) {
      abortQuietly(tx);
      throw storageError(e, "delete");
    }
  }

  /**
   * Log books whose every flow detail has finished (SUCCESS, REVERTED or FAILURE), oldest update
   * first: what a garbage collection may delete.
   */
  async listFinished(): Promise<LogBook[]> {
    const books = await this.listLogBooks();
    const finished: LogBook[] = [];
    for (const book of books) {
      const flows = await this.getFlowDetails(book.uuid);
      if (flows.length > 0 && flows.every((f) => FINISHED.has(f.state))) finished.push(book);
    }
    return finished.sort((a, b) => a.updatedAt - b.updatedAt);
  }

  /** Deletes finished log books last updated more than `olderThanMs` ago; returns their ids. */
  async expire(options: { olderThanMs: number; now?: number }): Promise<string[]> {
    const limit = (options.now ?? Date.now()) - options.olderThanMs;
    const old = (await this.listFinished()).filter((b) => b.updatedAt < limit);
    for (const book of old) await this.destroyLogBook(book.uuid);
    return old.map((b) => b.uuid);
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#db?.close();
    this.#db = undefined;
  }

  async #read<T>(read: (db: IDBPDatabase) => Promise<T>): Promise<T> {
    const db = await this.#database();
    try {
      return await read(db);
    } catch (e) {
      throw storageError(e, "read");
    }
  }
}

async function connect(name: string, onLost: () => void): Promise<IDBPDatabase> {
  if (!(globalThis as { indexedDB?: IDBFactory }).indexedDB) {
    throw new StorageFailure("IndexedDB is not available here (a private window, or storage blocked for this site); the flow cannot be saved in this browser");
  }
  try {
    return await openDB(name, IDB_SCHEMA_VERSION, {
      upgrade(db, oldVersion) {
        if (oldVersion < 1) {
          const books = db.createObjectStore("books", { keyPath: "uuid" });
          books.createIndex("updatedAt", "updatedAt");
          const flows = db.createObjectStore("flows", { keyPath: "uuid" });
          flows.createIndex("bookUuid", "bookUuid");
          flows.createIndex("state", "state");
          flows.createIndex("updatedAt", "updatedAt");
          const atoms = db.createObjectStore("atoms", { keyPath: "uuid" });
          atoms.createIndex("flowUuid", "flowUuid");
          atoms.createIndex("state", "state");
          atoms.createIndex("updatedAt", "updatedAt");
        }
        // Later versions add their migrations here, each guarded by `oldVersion < N`.
      },
      blocked() {
        // Another tab holds an older version open; it will be asked to close (its versionchange).
      },
      blocking() {
        onLost();
      },
      terminated() {
        onLost();
      },
    });
  } catch (e) {
    if ((e as { name?: string })?.name === "VersionError") {
      throw new StorageFailure(
        `IndexedDB "${name}" was written by a newer version of taskflow-ts (its schema is newer than version ${IDB_SCHEMA_VERSION}); update the app, nothing was changed`,
        { cause: e },
      );
    }
    throw storageError(e, "open");
  }
}

function abortQuietly(tx: Tx): void {
  try {
    tx.abort();
  } catch {
    // Already finished or aborted: nothing more to undo.
  }
  tx.done.catch(() => {});
}

/** The browser's errors, told in the log book's terms. */
function storageError(e: unknown, doing: string): Error {
  if (e instanceof NotFound || e instanceof StorageFailure) return e;
  const name = (e as { name?: string })?.name;
  const message = (e as Error)?.message ?? String(e);
  if (name === "QuotaExceededError") {
    return new StorageFailure(`the browser's storage quota for this site is full (${doing} refused, nothing half-written): free space or delete finished log books with expire()`, { cause: e });
  }
  if (name === "DataCloneError") {
    return new StorageFailure(`a record cannot be stored in IndexedDB (${message}); results must be structured-cloneable`, { cause: e });
  }
  if (name === "AbortError") return new StorageFailure(`the IndexedDB transaction was aborted (${doing}); nothing of it was written`, { cause: e });
  return new StorageFailure(`IndexedDB ${doing} failed: ${name ?? "Error"}: ${message}`, { cause: e });
}

function keyOf(raw: unknown): string {
  return String((raw as { uuid?: unknown } | null)?.uuid);
}
