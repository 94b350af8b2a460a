// What the Durable Object backend promises beyond the shared contract: one transaction per
// batch, structured clones, keys that cannot collide, a cascade that leaves nothing behind,
// storage that outlives the object's memory, and a clear refusal of the legacy storage.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { atomKey } from "../../adapters/durable-object/keys.js";
import { InvalidFormat, NotFound, StorageFailure, type WriteBatch } from "../../src/index.js";
import { atom, book, flow } from "../contract/backend-contract.js";
import { HostedBackend } from "./hosted-backend.js";

const batch = (b: Partial<WriteBatch>): WriteBatch => ({ logBooks: [], flows: [], atoms: [], ...b });
const storedKeys = (backend: HostedBackend) => backend.inside((_, storage) => [...storage.kv.list()].map(([k]) => k));

describe("DurableObjectBackend", () => {
  it("commits a batch in one transaction: a record that cannot be stored refuses all of it, naming its key", async () => {
    const backend = HostedBackend.fresh();
    const lb = book();
    const fd = flow(lb.uuid);
    const good = atom(fd.uuid, { state: "SUCCESS", result: 1 });
    const bad = atom(fd.uuid, { state: "SUCCESS", result: { callback: () => "not data" } });
    const error = await backend.commit(batch({ logBooks: [lb], flows: [fd], atoms: [good, bad] })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StorageFailure);
    expect((error as Error).message).toContain(atomKey(fd.uuid, bad.uuid));
    // The book, the flow and the good atom were written before the failing put: rolled back.
    expect(await storedKeys(backend)).toEqual([]);
    expect(await backend.commits()).toBe(0);
  });

  it("stores structured clones: a Date, a Map and bytes in a result come back as such", async () => {
    const backend = HostedBackend.fresh();
    const lb = book();
    const fd = flow(lb.uuid);
    const result = { at: new Date(86_400_000), seen: new Map([["a", 1]]), bytes: new Uint8Array([1, 2, 3]) };
    await backend.commit(batch({ logBooks: [lb], flows: [fd], atoms: [atom(fd.uuid, { state: "SUCCESS", result })] }));
    const [stored] = await (await backend.evict()).getAtomDetails(fd.uuid);
    const back = stored?.result as typeof result;
    expect(back.at).toBeInstanceOf(Date);
    expect(back.at.getTime()).toBe(86_400_000);
    expect(back.seen).toBeInstanceOf(Map);
    expect([...back.seen]).toEqual([["a", 1]]);
    expect([...back.bytes]).toEqual([1, 2, 3]);
  });

  it("keeps records whose uuids contain the key separator apart from their neighbours", async () => {
    const backend = HostedBackend.fresh();
    const b = book({ uuid: "b" });
    const bColon = book({ uuid: "b:1" });
    const x = flow("b", { uuid: "x" });
    const xy = flow("b:1", { uuid: "x:y" });
    const percent = flow("b:1", { uuid: "x%3Ay" }); // what "x:y" encodes to, taken literally
    await backend.commit(batch({
      logBooks: [b, bColon],
      flows: [x, xy, percent],
      atoms: [atom("x", { uuid: "a" }), atom("x:y", { uuid: "a" }), atom("x:y", { uuid: "z" }), atom("x%3Ay", { uuid: "p" })],
    }));
    expect((await backend.getAtomDetails("x")).map((a) => `${a.flowUuid}/${a.uuid}`)).toEqual(["x/a"]);
    expect((await backend.getAtomDetails("x:y")).map((a) => `${a.flowUuid}/${a.uuid}`).sort()).toEqual(["x:y/a", "x:y/z"]);
    expect((await backend.getAtomDetails("x%3Ay")).map((a) => a.uuid)).toEqual(["p"]);
    expect((await backend.getFlowDetails("b")).map((f) => f.uuid)).toEqual(["x"]);
    await backend.destroyLogBook("b");
    expect((await backend.getFlowDetails("b:1")).map((f) => f.uuid).sort()).toEqual(["x%3Ay", "x:y"]);
    expect(await backend.getAtomDetails("x:y")).toHaveLength(2);
  });

  it("destroys a log book's flow details, atom details and parent pointers, and nothing else", async () => {
    const backend = HostedBackend.fresh();
    const doomed = book();
    const kept = book();
    const f1 = flow(doomed.uuid);
    const f2 = flow(doomed.uuid);
    const f3 = flow(kept.uuid);
    await backend.commit(batch({
      logBooks: [doomed, kept],
      flows: [f1, f2, f3],
      atoms: [atom(f1.uuid), atom(f1.uuid), atom(f2.uuid), atom(f3.uuid)],
    }));
    const before = await storedKeys(backend);
    await backend.destroyLogBook(doomed.uuid);
    const after = await storedKeys(backend);
    expect(after).toEqual(before.filter((k) => !k.includes(doomed.uuid) && !k.includes(f1.uuid) && !k.includes(f2.uuid)));
    expect(after).toHaveLength(4); // kept's book, flow detail, flow's parent pointer and atom
    expect(await backend.getAtomDetails(f3.uuid)).toHaveLength(1);
  });

  it("refuses a whole batch whose last atom names a missing flow: nothing of it is stored", async () => {
    const backend = HostedBackend.fresh();
    const lb = book();
    const fd = flow(lb.uuid);
    const error = await backend.commit(batch({ logBooks: [lb], flows: [fd], atoms: [atom(fd.uuid), atom("elsewhere")] })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NotFound);
    expect((error as Error).message).toMatch(/flow detail "elsewhere" is not stored/);
    expect(await storedKeys(backend)).toEqual([]);
  });

  it("reads back what was committed after the object is evicted, and goes on committing", async () => {
    let backend = HostedBackend.fresh();
    const lb = book();
    const fd = flow(lb.uuid);
    const ad = atom(fd.uuid, { state: "RUNNING" });
    await backend.commit(batch({ logBooks: [lb], flows: [fd], atoms: [ad] }));
    backend = await backend.evict();
    expect(await backend.commits()).toBe(0); // a new instance of the object, and of the backend
    expect(await backend.getFlowDetails(lb.uuid)).toEqual([fd]);
    await backend.commit(batch({ atoms: [{ ...ad, state: "SUCCESS", result: 42 }] }));
    expect((await backend.getAtomDetails(fd.uuid))[0]?.result).toBe(42);
  });

  it("moves a flow detail whose log book changed, leaving nothing under the old book", async () => {
    const backend = HostedBackend.fresh();
    const from = book();
    const to = book();
    const fd = flow(from.uuid);
    await backend.commit(batch({ logBooks: [from, to], flows: [fd] }));
    await backend.commit(batch({ flows: [{ ...fd, bookUuid: to.uuid }] }));
    expect(await backend.getFlowDetails(from.uuid)).toEqual([]);
    expect((await backend.getFlowDetails(to.uuid)).map((f) => f.uuid)).toEqual([fd.uuid]);
    expect((await backend.getFlowDetail(fd.uuid)).bookUuid).toBe(to.uuid);
  });

  it("reports a record stored under another record's key as foreign", async () => {
    const backend = HostedBackend.fresh();
    const lb = book();
    const fd = flow(lb.uuid);
    const a = atom(fd.uuid);
    const b = atom(fd.uuid);
    await backend.commit(batch({ logBooks: [lb], flows: [fd], atoms: [a, b] }));
    await backend.inside((_, storage) => storage.kv.put(atomKey(fd.uuid, b.uuid), a));
    const error = await backend.getAtomDetails(fd.uuid).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidFormat);
    expect((error as Error).message).toContain(`stored under "${b.uuid}" but says its uuid is "${a.uuid}"`);
  });

  it("skips and reports a foreign write under a key that does not decode, when listing and expiring", async () => {
    const backend = HostedBackend.fresh();
    const lb = book({ updatedAt: 1 });
    await backend.commit(batch({ logBooks: [lb], flows: [flow(lb.uuid, { state: "SUCCESS", updatedAt: 1 })] }));
    await backend.inside((_, storage) => {
      storage.kv.put("lb:%E0%A4%A", { ...lb, uuid: "%E0%A4%A" });
      storage.kv.put("fd:x:%E0%A4%A", { ...flow(lb.uuid), uuid: "%E0%A4%A" });
    });
    const reported: string[] = [];
    const onBadRecord = (key: string) => void reported.push(key);
    expect((await backend.listLogBooks({ onBadRecord })).map((b) => b.uuid)).toEqual([lb.uuid]);
    expect(await backend.expire({ olderThanMs: 0, now: 10, onBadRecord })).toEqual([lb.uuid]);
    expect(reported).toEqual(["lb:%E0%A4%A", "fd:x:%E0%A4%A", "lb:%E0%A4%A"]);
  });

  it("fails every call once closed", async () => {
    const backend = HostedBackend.fresh();
    const lb = book();
    await backend.commit(batch({ logBooks: [lb] }));
    await backend.close();
    await expect(backend.getLogBook(lb.uuid)).rejects.toThrow(StorageFailure);
    await expect(backend.commit(batch({ logBooks: [book()] }))).rejects.toThrow(/closed/);
  });

  it("refuses the storage of a legacy key-value Durable Object, saying what to change", async () => {
    const legacy = env.LEGACY_KV_HOST.get(env.LEGACY_KV_HOST.newUniqueId());
    const outcome = await legacy.makeBackend();
    expect(outcome).toMatch(/^StorageFailure: .*SQLite-backed.*new_sqlite_classes/);
  });
});
