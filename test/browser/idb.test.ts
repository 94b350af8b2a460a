// The IndexedDB adapter against Chromium's real IndexedDB.
import { openDB } from "idb";
import { afterEach, describe, expect, it } from "vitest";
import { IndexedDbBackend } from "../../adapters/idb/index.js";
import { linearFlow, task, unorderedFlow, type Backend } from "../../src/index.js";
import { assertCrashSafe } from "../../src/testing/index.js";
import { describeBackendContract } from "../contract/backend-contract.js";

const names: string[] = [];
const opened: IndexedDbBackend[] = [];
const fresh = async (name = `tf-browser-${crypto.randomUUID()}`) => {
  if (!names.includes(name)) names.push(name);
  const b = await IndexedDbBackend.open(name);
  opened.push(b);
  return b;
};
afterEach(async () => {
  for (const b of opened.splice(0)) await b.close();
  for (const name of names.splice(0)) indexedDB.deleteDatabase(name);
});

async function corrupt(backend: Backend, kind: "book" | "flow" | "atom", uuid: string, raw: unknown): Promise<Backend> {
  const name = (backend as IndexedDbBackend).name;
  await backend.close();
  const db = await openDB(name);
  await db.put(kind === "book" ? "books" : kind === "flow" ? "flows" : "atoms", { ...(raw as object), uuid });
  db.close();
  return fresh(name);
}

describeBackendContract("IndexedDB (Chromium)", { make: () => fresh(), corrupt });

const add = (name: string, requires: string[], provides: string) =>
  task({ name, requires, provides, execute: (a: Record<string, number>) => requires.reduce((s, r) => s + (a[r] as number), 1), revert: () => `undo ${name}` });

describe("IndexedDbBackend in Chromium", () => {
  for (const engine of ["serial", "parallel"] as const) {
    it(`survives a crash at every write (${engine}), resumed through a new connection`, async () => {
      const report = await assertCrashSafe({
        makeFlow: () =>
          linearFlow(
            "l",
            add("a", ["x"], "a"),
            unorderedFlow("fan", add("u1", ["a"], "u1"), add("u2", ["a"], "u2")),
            task({ name: "boom", requires: ["u1", "u2"], execute: () => { throw new Error("Woot!"); }, revert: () => "undo boom" }),
          ),
        store: { x: 1 },
        engine: { engine },
        makeBackend: () => fresh(),
        reopen: async (b) => {
          const name = (b as IndexedDbBackend).name;
          await b.close();
          return fresh(name);
        },
      });
      expect(report.points).toBeGreaterThan(3);
    });
  }
});
