import { type DBSchema, type IDBPDatabase, type StoreNames, wrap } from "idb";
import { StorageFailure } from "taskflow-ts";

/**
 * The database layout. Values are `unknown` on purpose: whatever comes back from disk may have
 * been written by another version or another tool, and is typed only once the core's record checks
 * have validated it.
 */
export interface LogBookDb extends DBSchema {
  books: { key: string; value: unknown; indexes: { updatedAt: number } };
  flows: { key: string; value: unknown; indexes: { bookUuid: string; state: string; updatedAt: number; uuid: string; fence: [string, number] } };
  atoms: { key: string; value: unknown; indexes: { flowUuid: string; state: string; updatedAt: number } };
  /**
   * Fencing tokens (issue 12), `{ token: [flowUuid, epoch] }` under a unique index: at key
   * `[flowUuid, epoch]` every token a flow detail's stored token rose from, and at key
   * `[flowUuid]` the token of its latest raise or fenced commit (see `checkToken` in transactions.ts).
   */
  superseded: { key: [string] | [string, number]; value: { token: [string, number] }; indexes: { token: [string, number] } };
  /**
   * The audit trail (issue 15, item 3): one record per commit and flow detail, `{ flowUuid,
   * entries }` (`trailOf` in `taskflow-ts/backend`), under the key `[flowUuid, n]`, n = 1, 2… in
   * commit order; the key is also the fence of a commit (see trail.ts).
   */
  trail: { key: [string, number]; value: unknown };
  /** User keys (issue 15, item 2): the user's key → the uuid of the flow detail it points at (see `KeyBinding`). */
  keys: { key: string; value: string };
}
export type Db = IDBPDatabase<LogBookDb>;
export type StoreName = StoreNames<LogBookDb>;

/**
 * One step per database version, applied in order from the version found on disk: migration i
 * takes a database from version i to i + 1. A layout change appends a step here; never edit a
 * step that has shipped, since databases in the field were built by it.
 */
const MIGRATIONS: ReadonlyArray<(db: IDBDatabase, tx: IDBTransaction) => void> = [
  // 0 → 1. Indexes: flow details of a book and atoms of a flow (the engine's reads), by state
  // and by update time (what a viewer or a garbage collection asks).
  (db) => {
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
  },
  // 1 → 2. A key-only lookup of flow details, for the parent check of every commit: Chromium
  // reads the whole record to answer the store's getKey, and a flow detail carries the
  // definition's fingerprint (about 100 KB for 1,000 atoms); an index entry is a few bytes.
  (_db, tx) => {
    tx.objectStore("flows").createIndex("uuid", "uuid");
  },
  // 2 → 3. Fencing tokens (issue 12). The `fence` index, [uuid, epoch]: a key cursor on one
  // uuid gives a flow detail's stored token without reading the whole record (one without a
  // token is not in it). The `superseded` store: a key [flowUuid, epoch] for each token the
  // stored one rose from, so that a commit fenced with the token this connection knows checks
  // it with a request that fails (an `add` of that key), without waiting to read anything.
  (db, tx) => {
    tx.objectStore("flows").createIndex("fence", ["uuid", "epoch"]);
    db.createObjectStore("superseded");
  },
  // 3 → 4. A fenced commit checks its token with one request instead of two (an add of
  // `[flowUuid, epoch]` to `superseded`, which failed if that token had been superseded, then its
  // delete): a put at `[flowUuid]` of `{ token: [flowUuid, epoch] }`, which a unique index on
  // `token` refuses while a superseded token's entry holds the same value. Version 3's entries
  // (the epoch as value) become `{ token: key }`.
  (_db, tx) => {
    const superseded = tx.objectStore("superseded");
    superseded.createIndex("token", "token", { unique: true });
    superseded.openCursor().addEventListener("success", function (this: IDBRequest<IDBCursorWithValue | null>) {
      const cursor = this.result;
      if (!cursor) return;
      cursor.update({ token: cursor.key });
      cursor.continue();
    });
  },
  // 4 → 5. The audit trail (issue 15, item 3): every transition, appended in the transaction of
  // the commit that made it. One record per commit (not per transition): one put more per
  // commit. Flows stored before it have no trail until their next transition.
  (db) => {
    db.createObjectStore("trail", { autoIncrement: true }).createIndex("flowUuid", "flowUuid");
  },
  // 5 → 6. User keys (issue 15, item 2): `resumeOrStart` finds a flow by the user's key, bound in
  // the transaction of the flow's first write. Out-of-line keys, the flow detail's uuid as value.
  (db) => {
    db.createObjectStore("keys");
  },
  // 6 → 7. The trail's records under `[flowUuid, n]` instead of an auto-increment key with a
  // `flowUuid` index: a flow's next key is known to the runner that wrote the last one, and taken
  // by whatever raises the flow's token, so that a commit is fenced by its own trail append (one
  // request less per commit). The records are moved in their order; a record naming no flow
  // detail (never readable through the index) is kept under `["", n]`.
  (db, tx) => {
    const records: unknown[] = [];
    tx.objectStore("trail").openCursor().addEventListener("success", function (this: IDBRequest<IDBCursorWithValue | null>) {
      const cursor = this.result;
      if (cursor) {
        records.push(cursor.value);
        cursor.continue();
        return;
      }
      db.deleteObjectStore("trail");
      const trail = db.createObjectStore("trail");
      const seqs = new Map<string, number>();
      for (const record of records) {
        const flow = (record as { flowUuid?: unknown } | null)?.flowUuid;
        const id = typeof flow === "string" ? flow : "";
        const seq = (seqs.get(id) ?? 0) + 1;
        seqs.set(id, seq);
        trail.add(record, [id, seq]);
      }
    });
  },
];

/**
 * Version of the database layout this build writes: the number of migrations.
 * @example
 * reportBug({ app: APP_VERSION, idbLayout: IDB_SCHEMA_VERSION }); // which database layout this build writes
 */
export const IDB_SCHEMA_VERSION = MIGRATIONS.length;

/** What the browser may do to an open connection behind our back. */
export interface ConnectionEvents {
  /** Another tab opens a newer version (`newVersion`) or deletes the database (`null`). */
  versionChange: (newVersion: number | null) => void;
  /** The browser closed the connection (site data cleared, disk error). */
  terminated: () => void;
}

/**
 * Opens the database in `factory` (the global `indexedDB` by default), creating or migrating
 * it. A database of a newer version is refused (opening it at our version fails with
 * VersionError before any change), so data written by a newer app is never wiped by an older
 * one still open in some tab.
 */
export async function connect(name: string, factory: IDBFactory | undefined, events: ConnectionEvents): Promise<Db> {
  const indexedDb = factory ?? globalIndexedDb();
  let db: Db;
  try {
    const request = indexedDb.open(name, IDB_SCHEMA_VERSION);
    request.addEventListener("upgradeneeded", (event) => {
      // A migration that throws aborts the upgrade: the open fails and the old layout stays.
      const upgrade = request.transaction as IDBTransaction;
      for (const migrate of MIGRATIONS.slice(event.oldVersion)) migrate(request.result, upgrade);
    });
    // `blocked` (another tab holds an older version open) needs nothing: that tab's connection
    // hears `versionchange` and closes (below), then this open proceeds.
    db = (await wrap(request)) as unknown as Db;
  } catch (e) {
    throw openFailure(name, e);
  }
  db.addEventListener("versionchange", (event) => {
    // Holding on would block the other tab's upgrade (or delete) until this tab is closed.
    db.close();
    events.versionChange(event.newVersion);
  });
  db.addEventListener("close", () => events.terminated());
  return db;
}

/** The global `indexedDB`, read only now: the module can load where there is none. */
function globalIndexedDb(): IDBFactory {
  let factory: IDBFactory | undefined;
  try {
    factory = (globalThis as { indexedDB?: IDBFactory }).indexedDB;
  } catch (e) {
    // Reading the global itself throws SecurityError in some sandboxed frames.
    throw unavailable(e);
  }
  if (!factory) throw unavailable(undefined);
  return factory;
}

function unavailable(cause: unknown): StorageFailure {
  return new StorageFailure(
    "IndexedDB is not available here (a private window, storage blocked for this site, or not a browser): " +
      "the flow cannot be saved; allow site data, or use another backend such as MemoryBackend",
    { cause },
  );
}

function openFailure(name: string, e: unknown): StorageFailure {
  const { name: kind, message } = e as { name?: string; message?: string };
  if (kind === "VersionError") {
    return new StorageFailure(
      `IndexedDB "${name}" was written by a newer version of taskflow-ts (database version newer than ${IDB_SCHEMA_VERSION}): ` +
        "nothing was changed; update or reload the app",
      { cause: e },
    );
  }
  // Browsers refuse storage in their own ways: Firefox's private windows (InvalidStateError),
  // blocked site data (SecurityError, UnknownError), a full disk (QuotaExceededError).
  return new StorageFailure(
    `could not open IndexedDB "${name}" (${kind ?? "Error"}: ${message ?? String(e)}): storage may be blocked for this site ` +
      "(a private window, site data not allowed) or the disk may be full; the flow cannot be saved until it opens",
    { cause: e },
  );
}
