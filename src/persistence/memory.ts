import { InvalidFormat, NotFound, StorageFailure } from "../errors.js";
import { cloneRecord, keptClone } from "./clone.js";
import type { Backend, ExpireOptions, ListOptions } from "../ports/backend.js";
import { systemClock } from "../ports/clock.js";
import type { AtomDetail, FlowDetail, LogBook, TrailEntry, Transition, WriteBatch } from "./models.js";
import { decodeTrail } from "./trail.js";
import { decodeEach, decodeRecord, type RecordKind, type RecordOf, type StoredEntry } from "./validate.js";
import { expiryLimit, finishedAmong, finishedBooks, unfinished, type FinishedBook } from "./expiry.js";
import { checkKeys } from "./keys.js";
import { checkParents } from "./parents.js";
import { fencedFlows, nextEpoch } from "./fence.js";
import { MemoryLockService } from "../locks/memory.js";
import type { LockService } from "../ports/lock.js";

/** The key of the method that fills a backend with a dump's records (not public). */
const RESTORE = Symbol("restore");

/**
 * Everything a {@link MemoryBackend} holds, as plain data (JSON-compatible when results are).
 * @example const dump: MemoryDump = JSON.parse(localStorage.getItem("log-books") ?? "{\"logBooks\":[],\"flows\":[],\"atoms\":[]}")
 */
export interface MemoryDump {
  logBooks: unknown[];
  flows: unknown[];
  atoms: unknown[];
  /** The audit trails: every transition (`Transition`), in commit order; none in a dump of an older version. */
  trail?: unknown[];
  /** User keys and the flow detail each points at (see `KeyBinding`); absent when there are none. */
  keys?: Array<[key: string, flowUuid: string]>;
}

/**
 * Log books in memory, behaving like durable storage: records are stored as structured clones
 * (the engine's own records, frozen, as they are) and every read returns a fresh copy, so
 * mutating a returned object never changes what is stored. (To count its commits, wrap it: `countCommits(new MemoryBackend())`.)
 *
 * @example
 * const backend = new MemoryBackend();
 * await run(flow, { backend });
 * const saved = JSON.stringify(backend.dump()); // and later: memoryBackendFromDump(JSON.parse(saved))
 */
export class MemoryBackend implements Backend {
  #books = new Map<string, unknown>();
  #flows = new Map<string, unknown>();
  #flowsOfBook = new Map<string, Set<string>>();
  /**
   * Atom details by flow, then by uuid: a commit stores an atom detail with one lookup in its
   * flow's map, rather than in a map of every atom stored plus an index of its flow's (at 100,000
   * atoms, each lookup in a table that size is a cache miss).
   */
  #atomsOfFlow = new Map<string, Map<string, unknown>>();
  /** The audit trail of each flow detail: its transitions in commit order (a list: a set of 200,000 costs several times its entries). */
  #trails = new Map<string, unknown[]>();
  /** User key → flow detail uuid. */
  #keys = new Map<string, string>();
  #closed = false;
  /** Engines on this backend take their flows' locks here (one process). */
  readonly locks: LockService = new MemoryLockService();

  /** How records are read back: as they are (its own), or checked (from a dump, see `memoryBackendFromDump` in `taskflow-ts/backend`). */
  #read: Reader = OWN;

  /** @internal fills a new backend with a dump's records, read back checked */
  [RESTORE](records: { [K in "logBooks" | "flows" | "atoms"]: Array<{ uuid: string }> } & { trail?: unknown[] }, keys: Array<[string, string]>, read: Reader): void {
    this.#keys = new Map(keys);
    for (const b of records.logBooks) this.#books.set(b.uuid, b);
    for (const f of records.flows) this.#putFlow(f);
    for (const a of records.atoms) this.#putAtom(a);
    for (const t of records.trail ?? []) this.#append(String((t as Transition | null)?.flowUuid), t);
    this.#read = read;
  }

  /**
   * A copy of every stored record, as stored (see `memoryBackendFromDump` in `taskflow-ts/backend`
   * to restore it); yours to change, as every read.
   */
  dump(): MemoryDump {
    return cloneRecord({
      logBooks: [...this.#books.values()],
      flows: [...this.#flows.values()],
      atoms: [...this.#atomsOfFlow.values()].flatMap((m) => [...m.values()]),
      trail: [...this.#trails.values()].flat(),
      ...(this.#keys.size > 0 && { keys: [...this.#keys] }),
    });
  }

  /** What the commit checks ask of the store, made once: a commit is on every atom's path. */
  readonly #parents = { hasBook: (id: string) => this.#books.has(id), hasFlow: (id: string) => this.#flows.has(id) };
  readonly #flowOf = (id: string) => this.#flows.get(id) as FlowDetail | undefined;

  async commit(batch: WriteBatch): Promise<void> {
    this.#ensureOpen();
    checkParents(batch, this.#parents);
    const flows = fencedFlows(batch, this.#flowOf);
    checkKeys(batch, this.#keys);
    // Clone everything before storing anything: a value that cannot be cloned throws here and
    // leaves the store as it was, as a failed transaction would. The lists are the caller's, read
    // only before this returns (no await above): records are stored, not lists.
    let books: LogBook[], copied: FlowDetail[], atoms: AtomDetail[], trail: Transition[];
    try {
      books = clonedItems(batch.logBooks);
      copied = clonedItems(flows);
      atoms = clonedItems(batch.atoms);
      trail = clonedItems(batch.transitions ?? []);
    } catch (e) {
      throw new StorageFailure(`commit refused: a record is not structured-cloneable (${(e as Error).message})`, { cause: e });
    }
    // Index loops, not destructuring or for…of: this async function runs once per commit, and
    // V8 leaves it an iterator per loop (about 0.3 KB a commit).
    for (let i = 0; i < books.length; i++) this.#books.set(books[i]!.uuid, books[i]!);
    for (let i = 0; i < copied.length; i++) this.#putFlow(copied[i]!);
    for (let i = 0; i < atoms.length; i++) this.#putAtom(atoms[i]!);
    for (let i = 0; i < trail.length; i++) this.#append(trail[i]!.flowUuid, trail[i]);
    if (batch.keys) for (const k of batch.keys) this.#keys.set(k.key, k.flowUuid);
  }

  async getTrail(flowUuid: string): Promise<TrailEntry[]> {
    this.#ensureOpen();
    if (!this.#flows.has(flowUuid)) throw new NotFound(`flow detail "${flowUuid}" is not stored`);
    // Kept as stored (frozen entries of primitives): the reader makes each entry a new object.
    return this.#read.trail(flowUuid, keptClone(this.#trails.get(flowUuid) ?? []));
  }

  async getKeyedFlow(key: string): Promise<string | undefined> {
    return this.#keys.get(key);
  }

  async deleteKey(key: string): Promise<boolean> {
    return this.#keys.delete(key);
  }

  async claim(flowUuid: string): Promise<number> {
    this.#ensureOpen();
    const { flow, epoch } = nextEpoch(this.#flows.get(flowUuid) as FlowDetail | undefined);
    if (flow) this.#flows.set(flowUuid, flow);
    return epoch;
  }

  async getLogBook(uuid: string): Promise<LogBook> {
    this.#ensureOpen();
    const raw = this.#books.get(uuid);
    if (raw === undefined) throw new NotFound(`log book "${uuid}" is not stored`);
    return this.#read.one("log book", cloneRecord(raw), uuid);
  }

  async listLogBooks(options?: ListOptions): Promise<LogBook[]> {
    this.#ensureOpen();
    return this.#read.each("log book", entries(this.#books), options?.onBadRecord);
  }

  async destroyLogBook(uuid: string): Promise<void> {
    this.#ensureOpen();
    if (!this.#deleteBook(uuid)) throw new NotFound(`log book "${uuid}" is not stored`);
  }

  async listFinished(options?: ListOptions): Promise<LogBook[]> {
    return this.#finished(options).map((f) => f.book);
  }

  async listUnfinished(options?: ListOptions): Promise<FlowDetail[]> {
    this.#ensureOpen();
    return unfinished(this.#read.each("flow detail", entries(this.#flows), options?.onBadRecord));
  }

  async expire(options: ExpireOptions): Promise<string[]> {
    const limit = expiryLimit(options, systemClock);
    // No await between judging and deleting: nothing can change a book in between.
    const expired = this.#finished(options).filter((f) => f.lastActive < limit).map((f) => f.book.uuid);
    for (const uuid of expired) this.#deleteBook(uuid);
    return expired;
  }

  #finished(options?: ListOptions): FinishedBook[] {
    this.#ensureOpen();
    return this.#read.finished(entries(this.#books), entries(this.#flows), options?.onBadRecord);
  }

  /** Deletes a log book with its flow and atom details; false when it is not stored. */
  #deleteBook(uuid: string): boolean {
    if (!this.#books.delete(uuid)) return false;
    for (const f of this.#flowsOfBook.get(uuid) ?? []) {
      this.#atomsOfFlow.delete(f);
      this.#flows.delete(f);
      this.#trails.delete(f);
    }
    this.#flowsOfBook.delete(uuid);
    return true;
  }

  async getFlowDetails(bookUuid: string): Promise<FlowDetail[]> {
    this.#ensureOpen();
    if (!this.#books.has(bookUuid)) throw new NotFound(`log book "${bookUuid}" is not stored`);
    const details = [...(this.#flowsOfBook.get(bookUuid) ?? [])].map((id) => this.#read.one("flow detail", cloneRecord(this.#flows.get(id)), id));
    return details.sort((a, b) => a.createdAt - b.createdAt);
  }

  async getFlowDetail(uuid: string): Promise<FlowDetail> {
    this.#ensureOpen();
    const raw = this.#flows.get(uuid);
    if (raw === undefined) throw new NotFound(`flow detail "${uuid}" is not stored`);
    return this.#read.one("flow detail", cloneRecord(raw), uuid);
  }

  async getAtomDetails(flowUuid: string): Promise<AtomDetail[]> {
    this.#ensureOpen();
    if (!this.#flows.has(flowUuid)) throw new NotFound(`flow detail "${flowUuid}" is not stored`);
    return [...(this.#atomsOfFlow.get(flowUuid) ?? [])].map(([id, raw]) => this.#read.one("atom detail", cloneRecord(raw), id));
  }

  async close(): Promise<void> {
    this.#closed = true;
  }

  // A record from a dump may lack its parent's id: it is indexed under "undefined" and refused
  // when read, naming it.
  #putFlow(f: { uuid: string; bookUuid?: unknown }): void {
    this.#flows.set(f.uuid, f);
    index(this.#flowsOfBook, String(f.bookUuid), f.uuid);
  }

  #putAtom(a: { uuid: string; flowUuid?: unknown }): void {
    const flow = String(a.flowUuid);
    const atoms = this.#atomsOfFlow.get(flow);
    if (atoms) atoms.set(a.uuid, a);
    else this.#atomsOfFlow.set(flow, new Map([[a.uuid, a]]));
  }

  #append(flowUuid: string, entry: unknown): void {
    const trail = this.#trails.get(flowUuid);
    if (trail) trail.push(entry);
    else this.#trails.set(flowUuid, [entry]);
  }

  #ensureOpen(): void {
    if (this.#closed) throw new StorageFailure("the memory backend is closed");
  }
}

/**
 * How a memory backend reads its records back. Its own are structured clones of what the engine
 * committed (the engine checks what it writes), so they are read as they are; records restored
 * from a dump may come from anywhere, and are decoded as every other backend decodes what it
 * reads (validate.ts). Kept apart so that an app that never restores a dump does not bundle the
 * record check.
 */
interface Reader {
  one<K extends RecordKind>(kind: K, raw: unknown, uuid: string): RecordOf[K];
  each<K extends RecordKind>(kind: K, entries: StoredEntry[], onBadRecord: ListOptions["onBadRecord"]): Array<RecordOf[K]>;
  finished(books: StoredEntry[], flows: StoredEntry[], onBadRecord: ListOptions["onBadRecord"]): FinishedBook[];
  trail(flowUuid: string, transitions: unknown[]): TrailEntry[];
}

const OWN: Reader = {
  one: (_kind, raw) => raw as never,
  each: (_kind, list) => list.map((e) => e[1] as never),
  finished: (books, flows) => finishedBooks(books.map((e) => e[1] as LogBook), flows.map((e) => e[1] as FlowDetail)),
  trail: (_flow, list) => list.map((t, i) => ({ ...(t as Transition), seq: i + 1 })),
};

const CHECKED: Reader = {
  one: (kind, raw, uuid) => decodeRecord(kind, raw, { uuid }),
  each: decodeEach,
  finished: finishedAmong,
  trail: decodeTrail,
};

/**
 * A {@link MemoryBackend} holding what `dump()` returned. Records are validated when read (a
 * corrupt one is refused then, naming it, and the others stay readable; one of an older schema
 * version is migrated); here only that each is an object with a string uuid, which the store is
 * keyed by. A function of its own, not a method, so that an app that never restores a dump does
 * not bundle the record check.
 * @throws InvalidFormat naming a list that is missing or a record that has no uuid
 * @example const backend = memoryBackendFromDump(JSON.parse(localStorage.getItem("log-books") ?? "null") ?? { logBooks: [], flows: [], atoms: [] });
 */
export function memoryBackendFromDump(dump: MemoryDump): MemoryBackend {
  const records = (list: "logBooks" | "flows" | "atoms"): Array<{ uuid: string }> => {
    const all: unknown = (dump as MemoryDump | null)?.[list];
    if (!Array.isArray(all)) throw new InvalidFormat(`memory dump: "${list}" is not a list of records`);
    return all.map((r: { uuid?: unknown } | null, i) => {
      if (typeof r?.uuid !== "string") throw new InvalidFormat(`memory dump: ${list}[${i}] is not a record with a uuid`);
      return cloneRecord(r as { uuid: string });
    });
  };
  const keys: unknown = (dump as MemoryDump | null)?.keys ?? [];
  if (!Array.isArray(keys) || keys.some((k) => typeof k?.[0] !== "string" || typeof k[1] !== "string")) throw new InvalidFormat('memory dump: "keys" is not a list of [key, flowUuid]');
  const backend = new MemoryBackend();
  const trail: unknown = (dump as MemoryDump | null)?.trail;
  if (trail !== undefined && !Array.isArray(trail)) throw new InvalidFormat(`memory dump: "trail" is not a list of records`);
  backend[RESTORE]({ logBooks: records("logBooks"), flows: records("flows"), atoms: records("atoms"), trail: cloneRecord(trail) }, keys as Array<[string, string]>, CHECKED);
  return backend;
}

/**
 * The records of a list, cloned: the list itself when every record comes back as it is (the
 * engine's frozen ones), so a commit makes no list of its own.
 */
function clonedItems<T>(list: readonly T[]): T[] {
  let out: T[] | undefined;
  for (let i = 0; i < list.length; i++) {
    const c = keptClone(list[i] as T);
    if (c !== list[i]) (out ??= list.slice())[i] = c;
  }
  return out ?? (list as T[]);
}

/** Stored records as the shared decoders take them: copies, each under its uuid. */
function entries(map: Map<string, unknown>): StoredEntry[] {
  return [...map].map(([uuid, v]) => [uuid, cloneRecord(v), uuid]);
}

function index<T>(map: Map<string, Set<T>>, parent: string, child: T): void {
  let set = map.get(parent);
  if (!set) map.set(parent, (set = new Set()));
  set.add(child);
}
