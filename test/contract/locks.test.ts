import { MemoryLockService } from "../../src/index.js";
import { describeLockContract } from "./lock-contract.js";

// One process: every engine of a MemoryBackend shares one MemoryLockService.
describeLockContract("MemoryLockService", () => {
  const locks = new MemoryLockService();
  return {
    service: () => locks,
    settle: async () => {
      for (let i = 0; i < 5; i++) await Promise.resolve();
    },
    notice: async () => {},
    leases: { kind: "until-released" },
    breakLock: async (name) => locks.breakLock(name),
  };
});
