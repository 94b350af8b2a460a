import { MemoryBackend, type Backend } from "../../src/index.js";
import { memoryBackendFromDump } from "../../src/backend.js";
import { describeBackendContract } from "./backend-contract.js";
import { describeFencingContract } from "./fencing-contract.js";
import { describeTrailContract } from "./trail-contract.js";

// A memory backend is corrupted through its dump, as a foreign tool writing that JSON would.
async function corrupt(backend: Backend, kind: "book" | "flow" | "atom", uuid: string, raw: unknown): Promise<Backend> {
  const dump = (backend as MemoryBackend).dump();
  const list = kind === "book" ? dump.logBooks : kind === "flow" ? dump.flows : dump.atoms;
  list[list.findIndex((r) => (r as { uuid: string }).uuid === uuid)] = raw;
  return memoryBackendFromDump(dump);
}

describeBackendContract("memory", { make: () => new MemoryBackend(), corrupt });
describeFencingContract("memory", () => new MemoryBackend());
describeTrailContract("memory", () => new MemoryBackend());
describeTrailContract("memory, restored from its dump", async () => memoryBackendFromDump((new MemoryBackend()).dump()));
