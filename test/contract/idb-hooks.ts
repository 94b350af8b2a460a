// What the IndexedDB tests share, in Node (fake-indexeddb) and in Chromium: fresh databases,
// raw corruption for the contract suite, and reopening through a new connection after a crash.
import { deleteDB, openDB } from "idb";
import { IndexedDbBackend, type IndexedDbOptions } from "../../adapters/idb/index.js";
import type { Backend } from "../../src/index.js";

export function idbHooks(prefix: string) {
  const names = new Set<string>();
  const opened: IndexedDbBackend[] = [];
  /** A database name that {@link cleanUp} deletes. */
  const newName = (): string => {
    const name = `${prefix}-${crypto.randomUUID()}`;
    names.add(name);
    return name;
  };
  const fresh = async (name = newName(), options: IndexedDbOptions = {}): Promise<IndexedDbBackend> => {
    names.add(name);
    const backend = await IndexedDbBackend.open(name, options);
    opened.push(backend);
    return backend;
  };
  /** Writes a raw record, as a foreign tool or a disk error would, then reads through a new connection. */
  const corrupt = async (backend: Backend, kind: "book" | "flow" | "atom", uuid: string, raw: unknown): Promise<Backend> => {
    const name = (backend as IndexedDbBackend).name;
    await backend.close();
    const db = await openDB(name);
    await db.put(kind === "book" ? "books" : kind === "flow" ? "flows" : "atoms", { ...(raw as object), uuid });
    db.close();
    return fresh(name);
  };
  /** Closes a backend and opens its database again: only what was committed is read back. */
  const reopen = async (backend: Backend): Promise<IndexedDbBackend> => {
    await backend.close();
    return fresh((backend as IndexedDbBackend).name);
  };
  /** Closes every connection and deletes the databases (call after each test). */
  const cleanUp = async (): Promise<void> => {
    for (const b of opened.splice(0)) await b.close();
    // Waits for the deletes: a test that leaked a connection times out here instead of leaving
    // its database to the next test or the browser profile.
    for (const name of names) await deleteDB(name);
    names.clear();
  };
  return { fresh, corrupt, reopen, newName, cleanUp };
}

/** `length` random hex characters: incompressible enough that a browser stores about as many bytes. */
export function noise(length: number): string {
  const bytes = new Uint8Array(Math.ceil(length / 2));
  // getRandomValues fills at most 64 KiB a call.
  for (let at = 0; at < bytes.length; at += 65_536) crypto.getRandomValues(bytes.subarray(at, at + 65_536));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("").slice(0, length);
}
