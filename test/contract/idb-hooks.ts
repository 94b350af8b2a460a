// What the IndexedDB tests share, in Node (fake-indexeddb) and in Chromium: fresh databases,
// raw corruption for the contract suite, and reopening through a new connection after a crash.
import { openDB } from "idb";
import { IndexedDbBackend } from "../../adapters/idb/index.js";
import type { Backend } from "../../src/index.js";

export function idbHooks(prefix: string) {
  const names = new Set<string>();
  const opened: IndexedDbBackend[] = [];
  const fresh = async (name = `${prefix}-${crypto.randomUUID()}`): Promise<IndexedDbBackend> => {
    names.add(name);
    const backend = await IndexedDbBackend.open(name);
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
  const reopen = async (backend: Backend): Promise<Backend> => {
    const name = (backend as IndexedDbBackend).name;
    await backend.close();
    return fresh(name);
  };
  /** Closes every connection and deletes the databases (call after each test). */
  const cleanUp = async (): Promise<void> => {
    for (const b of opened.splice(0)) await b.close();
    for (const name of names) indexedDB.deleteDatabase(name);
    names.clear();
  };
  return { fresh, corrupt, reopen, cleanUp };
}
