import { NotFound, StorageFailure } from "../errors.js";
import { cloneRecord } from "./clone.js";
import type { Backend } from "../ports/backend.js";
import type { AtomDetail, FlowDetail, LogBook, WriteBatch } from "./models.js";
import { readRecord } from "./validate.js";

/** Everything a {@link MemoryBackend} holds, as plain data (JSON-compatible when results are). */
export interface MemoryDump {
  logBooks: unknown[];
  flows: unknown[];
  atoms: unknown[];
}

/**
 * Log books in memory, behaving like durable storage: records are stored as structured clones
 * and every read returns a fresh validated copy, so mutating a returned object never changes
 * what is stored. Counts commits, so tests and benchmarks can report commits per atom.
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
  /** Number of successful commits. */
  commits = 0;

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
    const bookIds = new Set(batch.logBooks.map((b) => b.uuid));
    const flowIds = new Set(batch.flows.map((f) => f.uuid));
    for (const f of batch.flows) {
      if (!bookIds.has(f.bookUuid) && !this.#books.has(f.bookUuid)) {
        throw new NotFound(`flow detail "${f.uuid}": log book "${f.bookUuid}" is not stored; save the log book first`);
      }
    }
    for (const a of batch.atoms) {
      if (!flowIds.has(a.flowUuid) && !this.#flows.has(a.flowUuid)) {
        throw new NotFound(`atom detail "${a.uuid}": flow detail "${a.flowUuid}" is not stored; save the flow detail first`);
      }
    }
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
    this.commits++;
  }

  async getLogBook(uuid: string): Promise<LogBook> {
    this.#ensureOpen();
    const raw = this.#books.get(uuid);
    if (raw === undefined) throw new NotFound(`log book "${uuid}" is not stored`);
    return readRecord("log book", uuid, cloneRecord(raw));
  }

  async listLogBooks(): Promise<LogBook[]> {
    this.#ensureOpen();
    return [...this.#books.entries()].map(([k, v]) => readRecord("log book", k, cloneRecord(v)));
  }

  async destroyLogBook(uuid: string): Promise<void> {
    this.#ensureOpen();
    if (!this.#books.delete(uuid)) throw new NotFound(`log book "${uuid}" is not stored`);
    for (const f of this.#flowsOfBook.get(uuid) ?? []) {
      for (const a of this.#atomsOfFlow.get(f) ?? []) this.#atoms.delete(a);
      this.#atomsOfFlow.delete(f);
      this.#flows.delete(f);
    }
    this.#flowsOfBook.delete(uuid);
  }

  async getFlowDetails(bookUuid: string): Promise<FlowDetail[]> {
    this.#ensureOpen();
    if (!this.#books.has(bookUuid)) throw new NotFound(`log book "${bookUuid}" is not stored`);
    const details = [...(this.#flowsOfBook.get(bookUuid) ?? [])].map((id) => readRecord("flow detail", id, cloneRecord(this.#flows.get(id))));
    return details.sort((a, b) => a.createdAt - b.createdAt);
  }

  async getFlowDetail(uuid: string): Promise<FlowDetail> {
    this.#ensureOpen();
    const raw = this.#flows.get(uuid);
    if (raw === undefined) throw new NotFound(`flow detail "${uuid}" is not stored`);
    return readRecord("flow detail", uuid, cloneRecord(raw));
  }

  async getAtomDetails(flowUuid: string): Promise<AtomDetail[]> {
    this.#ensureOpen();
    if (!this.#flows.has(flowUuid)) throw new NotFound(`flow detail "${flowUuid}" is not stored`);
    return [...(this.#atomsOfFlow.get(flowUuid) ?? [])].map((id) =>
      readRecord("atom detail", id, cloneRecord(this.#atoms.get(id))),
    );
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

function keyOf(record: unknown): string {
  return String((record as { uuid?: unknown } | null)?.uuid);
}

function index(map: Map<string, Set<string>>, parent: string, child: string): void {
  let set = map.get(parent);
  if (!set) map.set(parent, (set = new Set()));
  set.add(child);
}
