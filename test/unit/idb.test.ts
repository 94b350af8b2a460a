// The IndexedDB adapter under fake-indexeddb: fast, in Node. The same suite runs in Chromium
// (test/browser/idb.test.ts); here are also the failures only a fake can stage on demand.
import "fake-indexeddb/auto";
import { afterEach, describe, expect, it } from "vitest";
import { IndexedDbBackend } from "../../adapters/idb/index.js";
import { NotFound, StorageFailure } from "../../src/index.js";
import { atom, book, flow } from "../contract/backend-contract.js";
import { idbHooks } from "../contract/idb-hooks.js";
import { describeIndexedDbBackend } from "../idb/suite.js";

/**
 * Makes the next readwrite transactions fail as a browser's do: the requests succeed, then the
 * transaction aborts with `error` (QuotaExceededError when the disk is full; none when the browser
 * aborts it for its own reasons) and rolls back. `when` picks the put after which it happens.
 */
function failTransactions(when: (value: unknown, storedInTx: number) => boolean, error: "QuotaExceededError" | null) {
  const proto = IDBObjectStore.prototype;
  const put = proto.put;
  const commit = IDBTransaction.prototype.commit;
  const sizes = new WeakMap<IDBTransaction, number>();
  const doomed = new WeakSet<IDBTransaction>();
  // A browser may fail a transaction after `commit()` (a full disk is found when writing); the
  // fake cannot abort one that is committing, so a doomed transaction's commit() is ignored and
  // it aborts in its put's success event instead.
  IDBTransaction.prototype.commit = function (this: IDBTransaction) {
    if (!doomed.has(this)) commit.call(this);
  };
  proto.put = function (this: IDBObjectStore, value: unknown, key?: IDBValidKey) {
    const request = put.call(this, value, key);
    const tx = this.transaction;
    const stored = (sizes.get(tx) ?? 0) + JSON.stringify(value).length;
    sizes.set(tx, stored);
    if (when(value, stored)) {
      doomed.add(tx);
      request.addEventListener("success", () => {
        if (tx.error !== null) return; // aborted already by an earlier put
        tx.abort();
        if (error) Object.defineProperty(tx, "error", { value: new DOMException("", error) });
      });
    }
    return request;
  };
  return () => {
    proto.put = put;
    IDBTransaction.prototype.commit = commit;
  };
}

let lift: (() => void) | undefined;
afterEach(() => {
  lift?.();
  lift = undefined;
});

const { fresh, reopen, cleanUp } = idbHooks("tf-node");
afterEach(cleanUp);

// Storage is "full" for any transaction storing more than 1 MB, until room is made.
describeIndexedDbBackend("fake-indexeddb", {
  open: async () => {
    lift = failTransactions((_, stored) => stored > 1_000_000, "QuotaExceededError");
    return fresh();
  },
  reopen,
  makeRoom: async () => {
    lift?.();
    lift = undefined;
  },
  smallWriteFitsAfterRefusal: true,
});

describe("IndexedDbBackend under failures staged in fake-indexeddb", () => {
  it("writes nothing of a batch whose transaction the browser aborts mid-way, and stays usable", async () => {
    const backend = await fresh();
    const lb = book();
    const fd = flow(lb.uuid);
    const atoms = [atom(fd.uuid), atom(fd.uuid), atom(fd.uuid)];
    const second = atoms[1]?.uuid;
    lift = failTransactions((value) => (value as { uuid?: string }).uuid === second, null);
    const error = await backend.commit({ logBooks: [lb], flows: [fd], atoms }).catch((e: unknown) => e);
    lift();
    expect(error).toBeInstanceOf(StorageFailure);
    expect((error as Error).message).toMatch(/commit aborted before it completed; nothing of it was written/);
    await expect(backend.getLogBook(lb.uuid)).rejects.toBeInstanceOf(NotFound);
    await expect(backend.getFlowDetail(fd.uuid)).rejects.toBeInstanceOf(NotFound);
    await backend.commit({ logBooks: [lb], flows: [fd], atoms });
    expect(await backend.getAtomDetails(fd.uuid)).toHaveLength(3);
  });

  it("says so at open when there is no IndexedDB at all", async () => {
    await withIndexedDb(undefined, async () => {
      await expect(IndexedDbBackend.open("nowhere")).rejects.toThrow(/IndexedDB is not available here .*use another backend such as MemoryBackend/);
    });
  });

  it("says so at open when the browser refuses storage to the site", async () => {
    const refusing = {
      open: () => {
        throw new DOMException("The user denied permission to access the database.", "SecurityError");
      },
    };
    await withIndexedDb(refusing, async () => {
      const error = await IndexedDbBackend.open("denied").catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StorageFailure);
      expect((error as Error).message).toMatch(/could not open IndexedDB "denied" \(SecurityError: The user denied.*\): storage may be blocked/);
    });
  });
});

async function withIndexedDb(factory: unknown, run: () => Promise<void>): Promise<void> {
  const g = globalThis as { indexedDB?: unknown };
  const saved = g.indexedDB;
  Object.defineProperty(g, "indexedDB", { value: factory, configurable: true, writable: true });
  try {
    await run();
  } finally {
    Object.defineProperty(g, "indexedDB", { value: saved, configurable: true, writable: true });
  }
}
