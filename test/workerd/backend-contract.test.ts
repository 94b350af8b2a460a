import { atomKey, bookKey, flowKey, flowParentKey } from "../../adapters/durable-object/keys.js";
import type { Backend } from "../../src/index.js";
import { describeBackendContract } from "../contract/backend-contract.js";
import { describeFencingContract } from "../contract/fencing-contract.js";
import { describeTrailContract } from "../contract/trail-contract.js";
import { HostedBackend } from "./hosted-backend.js";

// A record is corrupted by writing raw data under its key, as a foreign tool sharing the object's
// storage would; it is then read back through a fresh instance of the object (evicted first).
async function corrupt(backend: Backend, kind: "book" | "flow" | "atom", uuid: string, raw: unknown): Promise<Backend> {
  const hosted = backend as HostedBackend;
  await hosted.inside((_, storage) => {
    const key = kind === "book" ? bookKey(uuid) : kind === "flow" ? flowKey(storage.kv.get<string>(flowParentKey(uuid)) ?? "", uuid) : atomKeyOf(storage, uuid);
    storage.kv.put(key, raw);
  });
  return hosted.evict();
}

// An atom's key holds its flow's uuid too: find the one stored key that ends with this atom's.
function atomKeyOf(storage: DurableObjectStorage, uuid: string): string {
  const suffix = atomKey("", uuid).slice("ad::".length);
  const keys = [...storage.kv.list({ prefix: "ad:" })].map(([k]) => k).filter((k) => k.endsWith(`:${suffix}`));
  if (keys.length !== 1) throw new Error(`expected one stored key for atom detail "${uuid}", found ${JSON.stringify(keys)}`);
  return keys[0] as string;
}

describeBackendContract("durable-object", { make: () => HostedBackend.fresh(), corrupt });
describeFencingContract("durable-object", () => HostedBackend.fresh());
describeTrailContract("durable-object", () => HostedBackend.fresh());
