// The IndexedDB adapter against Chromium's real IndexedDB.
import { afterEach, describe, expect, it } from "vitest";
import { linearFlow, task, unorderedFlow } from "../../src/index.js";
import { assertCrashSafe } from "../../src/testing/index.js";
import { describeBackendContract } from "../contract/backend-contract.js";
import { idbHooks } from "../contract/idb-hooks.js";

const { fresh, corrupt, reopen, cleanUp } = idbHooks("tf-browser");
afterEach(cleanUp);

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
        reopen,
      });
      expect(report.points).toBeGreaterThan(3);
    });
  }
});
