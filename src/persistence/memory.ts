import { NotFound, StorageFailure } from "../errors.js";
import { cloneRecord } from "./clone.js";
import type { Backend, ExpireOptions, ListOptions } from "../ports/backend.js";
import { systemClock } from "../ports/clock.js";
import type { AtomDetail, FlowDetail, LogBook, WriteBatch } from "./models.js";
import { decodeEach, decodeRecord, type StoredEntry } from "./validate.js";
import { expiryLimit, finishedAmong, type FinishedBook } from "./expiry.js";
import { checkParents } from "./parents.js";

/**
 * Everything a {@link MemoryBackend} holds, as plain data (JSON-compatible when results are).
 * @example const dump: MemoryDump = JSON.parse(localStorage.getItem("log-books") ?? "{\"logBooks\":[],\"flows\":[],\"atoms\":[]}")
 */
export interface MemoryDump {
  logBooks: unknown[];
  flows: unknown[];
  atoms: unknown[];
}

/**
 * Log books in memory, behaving like durable storage: records are stored as structured clones
 * and every read returns a fresh validated copy, so mutating a returned object never changes
 * what is stored. (To count its commits, wrap it: `countCommits(new MemoryBackend())`.)
 *
 * @example
 * const backend = new MemoryBackend();
 * await run(flow, { backend });
 * const saved = JSON.stringify(backend.dump()); // and later: MemoryBackend.fromDump(JSON.parse(saved))
 */
export class MemoryBackend implements Backend {
  #books = new Map<string, unknown>();
  #flows = new Map<string, unknown>();
  #atoms = new Map<string, unknown>();
  #flowsOfBook = new Map<string, Set<string>>();
  #atomsOfFlow = new Map<string, Set<string>>();
  #closed = false;

  /** A backend holding what {@link dump} returned (records are validated when read). */
  static fromDump(dump: MemoryDump): MemoryBackend {
    const backend = new MemoryBackend();
    for (const b of dump.logBooks) backend.#books.set(keyOf(b), cloneRecord(b));
    for (const f of dump.flows) backend.#putFlow(cloneRecord(f));
    for (const a of dump.atoms) backend.#putAtom(cloneRecord(a));
    return backend;
  }

  /** A copy of every stored record, as stored. */
  dump(): MemoryDump {
    return cloneRecord({
      logBooks: [...this.#books.values()],
      flows: [...this.#flows.values()],
      atoms: [...this.#atoms.values()],
    });
  }

  async commit(batch: WriteBatch): Promise<void> {
    this.#ensureOpen();
    checkParents(batch, { hasBook: (id) => this.#books.has(id), hasFlow: (id) => this.#flows.has(id) });
    // Clone everything before storing anything: a value that cannot be cloned throws here and
    // leaves the store as it was, as a failed transaction would.
    let copy: WriteBatch;
    try {
      copy = cloneRecord(batch);
    } catch (e) {
      throw new StorageFailure(`commit refused: a record is not structured-cloneable (${(e as Error).message})`, { cause: e });
    }
    for (const b of copy.logBooks) this.#books.set(b.uuid, b);
    for (const f of copy.flows) this.#putFlow(f);
    for (const a of copy.atoms) this.#putAtom(a);
  }

  async getLogBook(uuid: string): Promise<LogBook> {
    this.#ensureOpen();
    const raw = this.#books.get(uuid);
    if (raw === undefined) throw new NotFound(`log book "${uuid}" is not stored`);
    return decodeRecord("log book", cloneRecord(raw), { uuid });
  }

  async listLogBooks(options?: ListOptions): Promise<LogBook[]> {
    this.#ensureOpen();
    return decodeEach("log book", entries(this.#books), options?.onBadRecord);
  }

  async destroyLogBook(uuid: string): Promise<void> {
    this.#ensureOpen();
    if (!this.#deleteBook(uuid)) throw new NotFound(`log book "${uuid}" is not stored`);
  }

  async listFinished(options?: ListOptions): Promise<LogBook[]> {
    return this.#finished(options).map((f) => f.book);
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
    return finishedAmong(entries(this.#books), entries(this.#flows), options?.onBadRecord);
  }

  /** Deletes a log book with its flow and atom details; false when it is not stored. */
  #deleteBook(uuid: string): boolean {
    if (!this.#books.delete(uuid)) return false;
    for (const f of this.#flowsOfBook.get(uuid) ?? []) {
      for (const a of this.#atomsOfFlow.get(f) ?? []) this.#atoms.delete(a);
      this.#atomsOfFlow.delete(f);
      this.#flows.delete(f);
    }
    this.#flowsOfBook.delete(uuid);
    return true;
  }

  async getFlowDetails(bookUuid: string): Promise<FlowDetail[]> {
    this.#ensureOpen();
    if (!this.#books.has(bookUuid)) throw new NotFound(`log book "${bookUuid}" is not stored`);
    const details = [...(this.#flowsOfBook.get(bookUuid) ?? [])].map((id) => decodeRecord("flow detail", cloneRecord(this.#flows.get(id)), { uuid: id }));
    return details.sort((a, b) => a.createdAt - b.createdAt);
  }

  async getFlowDetail(uuid: string): Promise<FlowDetail> {
    this.#ensureOpen();
    const raw = this.#flows.get(uuid);
    if (raw === undefined) throw new NotFound(`flow detail "${uuid}" is not stored`);
    return decodeRecord("flow detail", cloneRecord(raw), { uuid });
  }

  async getAtomDetails(flowUuid: string): Promise<AtomDetail[]> {
    this.#ensureOpen();
    if (!this.#flows.has(flowUuid)) throw new NotFound(`flow detail "${flowUuid}" is not stored`);
    return [...(this.#atomsOfFlow.get(flowUuid) ?? [])].map((id) => decodeRecord("atom detail", cloneRecord(this.#atoms.get(id)), { uuid: id }));
  }

  async close(): Promise<void> {
    this.#closed = true;
  }

  #putFlow(f: unknown): void {
    const id = keyOf(f);
    this.#flows.set(id, f);
    index(this.#flowsOfBook, String((f as { bookUuid?: unknown }).bookUuid), id);
  }

  #putAtom(a: unknown): void {
    const id = keyOf(a);
    this.#atoms.set(id, a);
    index(this.#atomsOfFlow, String((a as { flowUuid?: unknown }).flowUuid), id);
  }

  #ensureOpen(): void {
    if (this.#closed) throw new StorageFailure("the memory backend is closed");
  }
}

/** Stored records as the shared decoders take them: copies, each under its uuid. */
function entries(map: Map<string, unknown>): StoredEntry[] {
  return [...map].map(([uuid, v]) => [uuid, cloneRecord(v), uuid]);
}

function keyOf(record: unknown): string {
  return String((record as { uuid?: unknown } | null)?.uuid);
}

function index(map: Map<string, Set<string>>, parent: string, child: string): void {
  let set = map.get(parent);
  if (!set) map.set(parent, (set = new Set()));
  set.add(child);
}
