// The IndexedDB adapter against Chromium's own IndexedDB: the suite that runs under fake-indexeddb
// in Node, here with a real QuotaExceededError. Full storage is a Storage Bucket with a 10 MB
// quota, 8 MB of it taken by an old finished log book.
//
// Why a bucket and these sizes: Chromium approves writes from a cached "space left" for up to
// 30 s (kBucketSpaceCacheTimeLimit in content/browser/indexed_db), so lowering the origin's
// quota through DevTools does not stop writes right away, while a new bucket has no cache yet.
// And a value over 64 KB is written as a blob file before the quota check, which may count it
// twice; the filler is therefore made of small records, and the 3 MB write that must fail, then
// fit, leaves room for that.
import { afterEach } from "vitest";
import { IndexedDbBackend } from "../../adapters/idb/index.js";
import { atom, book, flow } from "../contract/backend-contract.js";
import { noise } from "../contract/idb-hooks.js";
import { describeIndexedDbBackend } from "../idb/suite.js";

// The Storage Buckets API (Chromium 122+), not yet in TypeScript's DOM types.
interface StorageBucketManager {
  open(name: string, options?: { quota?: number }): Promise<{ indexedDB: IDBFactory }>;
  delete(name: string): Promise<void>;
}
const buckets = (navigator as unknown as { storageBuckets: StorageBucketManager }).storageBuckets;

const bucketOf = new Map<IndexedDbBackend, string>();
afterEach(async () => {
  for (const backend of bucketOf.keys()) await backend.close();
  for (const name of new Set(bucketOf.values())) await buckets.delete(name);
  bucketOf.clear();
});

async function openIn(bucket: string, name: string): Promise<IndexedDbBackend> {
  const { indexedDB } = await buckets.open(bucket, { quota: 10_000_000 });
  const backend = await IndexedDbBackend.open(name, { indexedDB });
  bucketOf.set(backend, bucket);
  return backend;
}

describeIndexedDbBackend("Chromium", {
  open: async () => {
    const backend = await openIn(`tf-full-${crypto.randomUUID()}`, "log-books");
    const old = book({ name: "old", createdAt: 0, updatedAt: 0 });
    const done = flow(old.uuid, { state: "SUCCESS", updatedAt: 0 });
    const filler = Array.from({ length: 160 }, () => atom(done.uuid, { state: "SUCCESS", result: noise(50_000) }));
    await backend.commit({ logBooks: [old], flows: [done], atoms: filler });
    return backend;
  },
  reopen: async (backend) => {
    await backend.close();
    return openIn(bucketOf.get(backend) as string, backend.name);
  },
  // What the StorageFailure advises: expire finished log books.
  makeRoom: async (backend) => {
    const expired = await backend.expire({ olderThanMs: 86_400_000 });
    if (expired.length !== 1) throw new Error(`expected to expire the old log book, expired ${JSON.stringify(expired)}`);
  },
  smallWriteFitsAfterRefusal: false,
});
