// checkParents: the parent rule every backend applies on commit, and what it asks of the store.
import { describe, expect, it } from "vitest";
import { checkParents } from "../../src/backend.js";
import { NotFound, SCHEMA_VERSION, type AtomDetail, type FlowDetail, type LogBook, type WriteBatch } from "../../src/index.js";

const book = (uuid: string): LogBook => ({ schemaVersion: SCHEMA_VERSION, uuid, name: uuid, createdAt: 0, updatedAt: 0, meta: {} });
const flow = (uuid: string, bookUuid: string): FlowDetail => ({ schemaVersion: SCHEMA_VERSION, uuid, bookUuid, name: uuid, state: "RUNNING", createdAt: 0, updatedAt: 0, meta: {} });
const atom = (flowUuid: string, name: string): AtomDetail => ({
  schemaVersion: SCHEMA_VERSION, uuid: `${flowUuid}:${name}`, flowUuid, name, kind: "task", state: "PENDING", intention: "EXECUTE", version: "1.0", meta: {}, updatedAt: 0,
});
const batch = (parts: Partial<WriteBatch>): WriteBatch => ({ logBooks: [], flows: [], atoms: [], ...parts });

/** A store holding these books and flows, recording what it is asked, in order. */
function store(books: string[], flows: string[]) {
  const asked: string[] = [];
  return {
    asked,
    stored: {
      hasBook: (id: string) => (asked.push(`book ${id}`), books.includes(id)),
      hasFlow: (id: string) => (asked.push(`flow ${id}`), flows.includes(id)),
    },
  };
}

describe("checkParents", () => {
  it("asks the store once about each parent outside the batch, in batch order, even when a batch interleaves flows", () => {
    const { asked, stored } = store(["b1"], ["f1", "f2", "f3"]);
    checkParents(batch({ atoms: [atom("f1", "a"), atom("f1", "b"), atom("f2", "a"), atom("f1", "c"), atom("f3", "a"), atom("f2", "b"), atom("f3", "b")] }), stored);
    expect(asked).toEqual(["flow f1", "flow f2", "flow f3"]);
  });

  it("asks nothing about parents in the batch or known stored", () => {
    const { asked, stored } = store([], []);
    checkParents(batch({ logBooks: [book("b1")], flows: [flow("f1", "b1")], atoms: [atom("f1", "a"), atom("f2", "a"), atom("f1", "b")] }), stored, new Set(["f2"]));
    expect(asked).toEqual([]);
  });

  it("refuses the first record whose parent is neither stored nor in the batch, naming both", () => {
    const { stored } = store(["b1"], ["f1"]);
    const refused = (b: WriteBatch) => {
      try {
        checkParents(b, stored);
      } catch (e) {
        return e;
      }
    };
    const e1 = refused(batch({ atoms: [atom("f1", "a"), atom("f9", "x"), atom("f8", "y")] }));
    expect(e1).toBeInstanceOf(NotFound);
    expect((e1 as Error).message).toBe('atom detail "f9:x": flow detail "f9" is not stored; save the flow detail first');
    const e2 = refused(batch({ flows: [flow("f2", "b7")], atoms: [atom("f2", "a")] }));
    expect((e2 as Error).message).toBe('flow detail "f2": log book "b7" is not stored; save the log book first');
  });
});
