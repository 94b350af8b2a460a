// The page of bench/fence-variants.ts.
import { IndexedDbBackend } from "../adapters/idb/index.js";
import { linearFlow, load, task } from "../src/index.js";
const record = (i: number, flowUuid: string) => ({
  schemaVersion: 2, uuid: `r${i}`, flowUuid, name: `t${i}`, kind: "task", state: "SUCCESS", intention: "EXECUTE",
  result: 1, version: "1.0", timestamps: { RUNNING: 1, SUCCESS: 2 }, attempts: 1, progress: 1, meta: {}, updatedAt: 2,
});
/** U unfenced; P the backend's check; G a get, then abort() or commit() in its handler; C the same with a key cursor on the `fence` index; N a put to an index-free store (refuses nothing: the floor of one request). */
type Kind = "U" | "P" | "G" | "C" | "N";
(globalThis as { runFenceVariants?: (n: number) => Promise<Record<string, number>> }).runFenceVariants = async (n: number) => {
  const name = `exp-${crypto.randomUUID()}`;
  const backend = await IndexedDbBackend.open(name);
  const engine = load(linearFlow("fence", task({ name: "t", execute: () => 1 })), { backend, lock: false });
  await engine.save();
  const flowUuid = engine.flowDetailId;
  const epoch = await backend.claim(flowUuid);
  const db = await new Promise<IDBDatabase>((resolve) => {
    const r = indexedDB.open(name);
    r.onsuccess = () => resolve(r.result);
  });
  const kinds: Kind[] = ["U", "P", "G", "C", "N"];
  const ms: Record<string, number> = {};
  for (const k of kinds) ms[k] = 0;
  let i = 0;
  for (let round = 0; round < n; round++) {
    const order = round % 2 ? [...kinds].reverse() : kinds;
    for (const k of order) {
      const t0 = performance.now();
      const tx = db.transaction(["books", "flows", "atoms", "superseded"], "readwrite", { durability: "strict" });
      const done = new Promise<void>((res, rej) => { tx.oncomplete = () => res(); tx.onabort = () => rej(tx.error); });
      const check = (stored: number | undefined) => { if (stored !== undefined && stored > epoch) tx.abort(); else tx.commit(); };
      if (k === "P") tx.objectStore("superseded").put({ token: [flowUuid, epoch] }, [flowUuid]);
      if (k === "G") { const r = tx.objectStore("superseded").get([flowUuid]); r.onsuccess = () => check((r.result as { token: [string, number] } | undefined)?.token[1]); }
      if (k === "C") { const r = tx.objectStore("flows").index("fence").openKeyCursor(IDBKeyRange.bound([flowUuid], [flowUuid, Infinity])); r.onsuccess = () => check((r.result?.key as [string, number] | undefined)?.[1]); }
      tx.objectStore("atoms").put(record(i++, flowUuid));
      if (k === "N") tx.objectStore("books").put({ uuid: "zz" });
      if (k === "U" || k === "P" || k === "N") tx.commit();
      await done;
      ms[k] = (ms[k] ?? 0) + performance.now() - t0;
    }
  }
  db.close();
  await backend.close();
  await new Promise((resolve) => (indexedDB.deleteDatabase(name).onsuccess = resolve));
  const out: Record<string, number> = {};
  for (const k of kinds) out[k] = Math.round(((ms[k] ?? 0) * 1000) / n);
  return out;
};
