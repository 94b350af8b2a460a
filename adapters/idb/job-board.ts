import { type IDBPDatabase, type IDBPTransaction, wrap } from "idb";
import { InvalidFormat, JobFailure, NotFound, StorageFailure, defaultIds, systemClock, type Clock, type Duration, type IdGenerator } from "taskflow-ts";
import {
  byPriority, checkClaim, checkJobDetails, checkOwner, checkUpdates, claimJob, claimJobs, heldJob, jobAt, leaseOf, matches, newJob, nextExpiry, settleJob, updateJobs, waitForJobs,
  type ClaimOptions, type ClaimUpdate, type Job, type JobBoard, type JobClaim, type JobDetails, type JobFilter, type WaitOptions,
} from "taskflow-ts/jobs";
import { storageError } from "./errors.js";

/**
 * Options of {@link IndexedDbJobBoard.open}.
 * @example const board = await IndexedDbJobBoard.open("uploads", { leaseMs: 30_000 });
 */
export interface IndexedDbJobBoardOptions {
  /** Where leases read the time (tests: `ManualClock`). */
  clock?: Clock;
  /** A claim's lease unless the claim asks for another (ms; default 30 s). */
  leaseMs?: Duration;
  /** Makes job ids (and the ids of their new log books). */
  ids?: IdGenerator;
  /**
   * How often a waiting tab looks at the jobs even if it heard nothing (ms; default 5 s): news
   * of a post or an abandon comes over a BroadcastChannel, but a tab that was frozen, or a
   * context without one, still sees the board move within this.
   */
  pollMs?: number;
  /** The IndexedDB to use; the global `indexedDB` by default (tests: fake-indexeddb's). */
  indexedDB?: IDBFactory;
}

interface JobsDb {
  jobs: { key: string; value: Job; indexes: { state: string } };
}

/**
 * One step per version of the board's own database (it is not the log books' database, whose
 * layout and upgrade path stay their own): migration i takes it from version i to i + 1. Append;
 * never edit a step that has shipped.
 */
const MIGRATIONS: ReadonlyArray<(db: IDBDatabase) => void> = [
  // 0 → 1. Jobs by uuid, and by state: listing what is to do skips the finished ones.
  (db) => db.createObjectStore("jobs", { keyPath: "uuid" }).createIndex("state", "state"),
];

/**
 * The version of the job board's database layout this build writes.
 * @example IDB_JOBS_SCHEMA_VERSION // 1
 */
export const IDB_JOBS_SCHEMA_VERSION = MIGRATIONS.length;

type News = { type: "posted" | "abandoned" | "expired" };
const TO_DO = ["UNCLAIMED", "CLAIMED"] as const;

/**
 * A job board in the browser's IndexedDB, shared by the tabs and workers of an origin: an
 * offline-first queue. Jobs posted while offline stay on it; a conductor in any tab claims them.
 *
 * A claim reads and writes the job in one readwrite transaction, and IndexedDB runs the readwrite
 * transactions of one store one after another across tabs: two tabs racing for a job never both
 * get it. Leases are read on the {@link Clock}: a tab that is closed or frozen stops renewing,
 * and its claim runs out. A waiting tab hears posts and abandons from the other tabs over a
 * BroadcastChannel, wakes itself when the next lease runs out, and looks again every `pollMs`.
 * @example
 * const board = await IndexedDbJobBoard.open("uploads");
 * await board.post({ flow: "upload", args: [file.name] });
 * const [job] = await board.wait();
 */
export class IndexedDbJobBoard implements JobBoard {
  #db: IDBPDatabase<JobsDb> | undefined;
  #opening: Promise<IDBPDatabase<JobsDb>> | undefined;
  readonly #clock: Clock;
  readonly #leaseMs: number;
  readonly #ids: IdGenerator;
  readonly #pollMs: number;
  readonly #waiters = new Set<() => void>();
  #channel: BroadcastChannel | undefined;
  #closed = false;

  private constructor(
    /** The name of the board's IndexedDB database. */
    readonly name: string,
    private readonly options: IndexedDbJobBoardOptions,
  ) {
    this.#clock = options.clock ?? systemClock;
    this.#leaseMs = leaseOf(options.leaseMs ?? 30_000);
    this.#ids = options.ids ?? defaultIds;
    const pollMs = options.pollMs ?? 5_000;
    if (!Number.isFinite(pollMs) || pollMs <= 0) throw new InvalidFormat(`IndexedDbJobBoard: pollMs must be a finite number of ms > 0, got ${String(pollMs)}`);
    this.#pollMs = pollMs;
  }

  /**
   * Opens (or creates) the board's database, so that a browser refusing storage is known at once.
   * @throws StorageFailure when IndexedDB is unavailable or the database is of a newer layout
   */
  static async open(name = "taskflow-jobs", options: IndexedDbJobBoardOptions = {}): Promise<IndexedDbJobBoard> {
    const board = new IndexedDbJobBoard(name, options);
    await board.#database();
    if (typeof BroadcastChannel === "function") {
      board.#channel = new BroadcastChannel(`taskflow-ts/jobs/${name}`);
      board.#channel.onmessage = () => board.#wake();
    }
    return board;
  }

  async post(details: JobDetails): Promise<Job> {
    this.#open();
    const job = newJob(checkJobDetails(details), this.#ids(), this.#clock.now(), this.#ids);
    await this.#write("commit", async (tx) => {
      await tx.store.add(job);
    });
    this.#tell({ type: "posted" });
    return structuredClone(job); // what the caller gave stays the caller's
  }

  async get(uuid: string): Promise<Job> {
    const job = await this.#read((db) => db.get("jobs", uuid));
    if (!job) throw new NotFound(`job "${uuid}" is not on the board`);
    return jobAt(job, this.#clock.now());
  }

  async *iterate(filter: JobFilter = {}): AsyncGenerator<Job> {
    for (const job of await this.#list(filter)) yield job;
  }

  async claim(uuid: string, owner: string, options: ClaimOptions = {}): Promise<JobClaim> {
    this.#open();
    checkOwner(owner);
    const leaseMs = leaseOf(options.leaseMs ?? this.#leaseMs);
    return this.#write("commit", async (tx) => {
      // Read and written in one transaction: no other tab's claim can come in between.
      const { job, claim } = claimJob(await tx.store.get(uuid), uuid, owner, leaseMs, this.#clock.now());
      await tx.store.put(job);
      return claim;
    });
  }

  /** See {@link JobBoard.claimMany}: the jobs read and written in one readwrite transaction. */
  async claimMany(uuids: string[], owner: string, options: ClaimOptions = {}): Promise<JobClaim[]> {
    this.#open();
    checkOwner(owner);
    const leaseMs = leaseOf(options.leaseMs ?? this.#leaseMs);
    claimJobs(() => undefined, uuids, owner, leaseMs, 0); // refuses what is not an array of uuids before a transaction
    if (uuids.length === 0) return [];
    return this.#write("commit", async (tx) => {
      const stored = await this.#getAll(tx, uuids);
      const { jobs, claims } = claimJobs((uuid) => stored.get(uuid), uuids, owner, leaseMs, this.#clock.now());
      await Promise.all(jobs.map((job) => tx.store.put(job)));
      return claims;
    });
  }

  /** See {@link JobBoard.updateMany}: the jobs read and written in one readwrite transaction. */
  async updateMany(updates: ClaimUpdate[], options: ClaimOptions = {}): Promise<Array<JobClaim | undefined>> {
    this.#open();
    const leaseMs = leaseOf(options.leaseMs ?? this.#leaseMs);
    const checked = checkUpdates(updates);
    if (checked.length === 0) return [];
    const { results, abandoned } = await this.#write("commit", async (tx) => {
      const stored = await this.#getAll(tx, checked.map((u) => u.claim.jobUuid));
      const { jobs, results } = updateJobs((uuid) => stored.get(uuid), checked, leaseMs, this.#clock.now());
      await Promise.all(jobs.map((job) => tx.store.put(job)));
      return { results, abandoned: jobs.some((j) => j.state === "UNCLAIMED") };
    });
    if (abandoned) this.#tell({ type: "abandoned" });
    return results;
  }

  /** The jobs `uuids` name, as stored, read in `tx` (all requests queued at once). */
  async #getAll(tx: IDBPTransaction<JobsDb, ["jobs"], "readwrite">, uuids: string[]): Promise<Map<string, Job>> {
    const unique = [...new Set(uuids)];
    const jobs = await Promise.all(unique.map((uuid) => tx.store.get(uuid)));
    return new Map(unique.flatMap((uuid, i) => (jobs[i] ? [[uuid, jobs[i]] as const] : [])));
  }

  async renew(claim: JobClaim, options: ClaimOptions = {}): Promise<JobClaim> {
    const leaseMs = leaseOf(options.leaseMs ?? this.#leaseMs);
    return this.#change(claim, "renew", (job, now) => {
      const expiresAt = now + leaseMs;
      return [{ ...job, expiresAt, updatedAt: now }, { ...claim, expiresAt }];
    });
  }

  async consume(claim: JobClaim): Promise<void> {
    await this.#change(claim, "consume", (job, now) => [settleJob(job, "COMPLETE", now), undefined]);
  }

  async abandon(claim: JobClaim): Promise<void> {
    await this.#change(claim, "abandon", (job, now) => [settleJob(job, "UNCLAIMED", now), undefined]);
    this.#tell({ type: "abandoned" });
  }

  async trash(claim: JobClaim): Promise<void> {
    await this.#change(claim, "trash", (job, now) => [settleJob(job, "TRASHED", now), undefined]);
  }

  async wait(options: WaitOptions = {}): Promise<Job[]> {
    this.#open();
    let expiry: number | undefined;
    const jobs = await waitForJobs(
      {
        clock: this.#clock,
        look: async () => {
          const open = await this.#read((db) => this.#toDo(db));
          const now = this.#clock.now();
          const unclaimed = open.map((j) => jobAt(j, now)).filter((j) => j.state === "UNCLAIMED").sort(byPriority);
          // A claim that ran out while this tab waited: the other tabs hear it too (theirs may be asleep).
          if (expiry !== undefined && now >= expiry && unclaimed.some((j) => j.claims > 0)) this.#tell({ type: "expired" });
          expiry = nextExpiry(open);
          return { unclaimed, nextExpiry: expiry };
        },
        listen: (wake) => {
          this.#waiters.add(wake);
          return () => this.#waiters.delete(wake);
        },
        closed: () => this.#closed,
        pollMs: this.#pollMs,
      },
      options,
    );
    return jobs;
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#channel?.close();
    this.#channel = undefined;
    this.#db?.close();
    this.#db = undefined;
    this.#wake();
  }

  #open(): void {
    if (this.#closed) throw new JobFailure(`the IndexedDB job board "${this.name}" is closed; open a new one`);
  }

  #database(): Promise<IDBPDatabase<JobsDb>> {
    this.#open();
    if (this.#db) return Promise.resolve(this.#db);
    this.#opening ??= this.#connect().finally(() => (this.#opening = undefined));
    return this.#opening;
  }

  async #connect(): Promise<IDBPDatabase<JobsDb>> {
    let factory: IDBFactory | undefined = this.options.indexedDB;
    try {
      factory ??= (globalThis as { indexedDB?: IDBFactory }).indexedDB;
    } catch {
      // A sandboxed frame: said below.
    }
    if (!factory) throw new StorageFailure(`IndexedDB is not available here (a private window, storage blocked for this site, or not a browser): the job board "${this.name}" cannot open; allow site data, or use MemoryJobBoard`);
    let db: IDBPDatabase<JobsDb>;
    try {
      const request = factory.open(this.name, IDB_JOBS_SCHEMA_VERSION);
      request.addEventListener("upgradeneeded", (event) => {
        for (const migrate of MIGRATIONS.slice(event.oldVersion)) migrate(request.result);
      });
      db = (await wrap(request)) as unknown as IDBPDatabase<JobsDb>;
    } catch (e) {
      const kind = (e as { name?: string } | null)?.name;
      throw new StorageFailure(
        kind === "VersionError"
          ? `the job board "${this.name}" was written by a newer version of taskflow-ts (layout newer than ${IDB_JOBS_SCHEMA_VERSION}): nothing was changed; update or reload the app`
          : `could not open the job board "${this.name}" in IndexedDB (${kind ?? "Error"}): storage may be blocked for this site or the disk full`,
        { cause: e },
      );
    }
    // Another tab upgrading the layout (or deleting the database) must not wait for this one:
    // close, and open again on the next call.
    db.addEventListener("versionchange", () => {
      db.close();
      if (this.#db === db) this.#db = undefined;
    });
    db.addEventListener("close", () => {
      if (this.#db === db) this.#db = undefined;
    });
    this.#db = db;
    return db;
  }

  async #read<T>(fn: (db: IDBPDatabase<JobsDb>) => Promise<T>): Promise<T> {
    const db = await this.#database();
    try {
      return await fn(db);
    } catch (e) {
      throw storageError(e, "read");
    }
  }

  /** One readwrite transaction: all of `fn`'s writes or none (a throw aborts it). */
  async #write<T>(doing: "commit", fn: (tx: IDBPTransaction<JobsDb, ["jobs"], "readwrite">) => Promise<T>): Promise<T> {
    const db = await this.#database();
    const tx = db.transaction("jobs", "readwrite", { durability: "strict" });
    const done = tx.done.catch((e: unknown) => e);
    let result: T;
    try {
      result = await fn(tx);
    } catch (e) {
      try {
        tx.abort();
      } catch {
        // already ending
      }
      await done;
      throw storageError(e, doing);
    }
    const failed = await done;
    if (failed !== undefined) throw storageError(failed, doing);
    return result;
  }

  /** Changes the job `claim` holds, in one transaction with the check that it still holds it. */
  async #change<T>(claim: JobClaim, action: string, fn: (job: Job, now: number) => [Job, T]): Promise<T> {
    this.#open();
    const checked = checkClaim(claim);
    return this.#write("commit", async (tx) => {
      const now = this.#clock.now();
      const [job, out] = fn(heldJob(await tx.store.get(checked.jobUuid), checked, action, now), now);
      await tx.store.put(job);
      return out;
    });
  }

  /** The jobs stored UNCLAIMED or CLAIMED (through the state index: finished jobs are not read). */
  async #toDo(db: IDBPDatabase<JobsDb>): Promise<Job[]> {
    const tx = db.transaction("jobs", "readonly");
    const [unclaimed, claimed] = await Promise.all(TO_DO.map((state) => tx.store.index("state").getAll(state)));
    return [...(unclaimed ?? []), ...(claimed ?? [])];
  }

  async #list(filter: JobFilter): Promise<Job[]> {
    this.#open();
    const jobs = await this.#read((db) => {
      switch (filter.only) {
        case undefined:
        case "unclaimed":
        case "claimed":
          return this.#toDo(db);
        case "complete":
        case "trashed":
          return db.getAllFromIndex("jobs", "state", filter.only.toUpperCase());
        default:
          return db.getAll("jobs");
      }
    });
    const now = this.#clock.now();
    return jobs.map((j) => jobAt(j, now)).filter((j) => matches(j, filter)).sort(byPriority);
  }

  /** Wakes this tab's waiters and tells the other tabs' boards. */
  #tell(news: News): void {
    this.#wake();
    try {
      this.#channel?.postMessage(news);
    } catch {
      // a closed channel: this board is closing
    }
  }

  #wake(): void {
    for (const wake of [...this.#waiters]) wake();
  }
}
