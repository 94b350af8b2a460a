// What the wizard's steps did, counted in IndexedDB (a database of its own, beside the log
// books): the worker writes it before a step goes on, the page reads it, and a test can tell
// what ran across reloads, restarts and a tab that was killed. A worker has no localStorage.
import { openDB } from "idb";

const db = () => (opened ??= openDB("taskflow-wizard-ledger", 1, { upgrade: (d) => void d.createObjectStore("entries") }));
let opened: ReturnType<typeof openDB> | undefined;

// Flushed to disk before the step goes on ("strict"): a browser killed right after must still
// find the count (Chromium's default, "relaxed", may lose the last commits to a kill).
const write = async () => (await db()).transaction("entries", "readwrite", { durability: "strict" });

/** Adds one to the count `key`, in one transaction (two workers may count at once). */
export async function count(key: string): Promise<void> {
  const tx = await write();
  await tx.store.put(Number((await tx.store.get(key)) ?? 0) + 1, key);
  await tx.done;
}

/** Appends `value` to the list `key`, in one transaction. */
export async function append(key: string, value: unknown): Promise<void> {
  const tx = await write();
  await tx.store.put([...(((await tx.store.get(key)) as unknown[] | undefined) ?? []), value], key);
  await tx.done;
}

/** The entry `key` as text: a count as "2", a list as JSON, null when there is none (as localStorage reads). */
export async function read(key: string): Promise<string | null> {
  const value: unknown = await (await db()).get("entries", key);
  return value === undefined ? null : typeof value === "number" ? String(value) : JSON.stringify(value);
}
