// A green run prints nothing but its results, so that a real failure does not hide in noise: the
// workerd project (run here on one file that refuses calls over RPC and kills a host on purpose)
// must print no warning of the test runner and no "uncaught exception" of an expected refusal.
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const vitest = fileURLToPath(new URL("../../node_modules/vitest/vitest.mjs", import.meta.url));

describe("a green workerd run", () => {
  it("prints its results only: no runner warnings, no uncaught exceptions of expected refusals", () => {
    const run = spawnSync(process.execPath, [vitest, "run", "--project", "workerd", "test/workerd/flow-runner.test.ts"], {
      encoding: "utf8",
      env: { ...process.env, NO_COLOR: "1", FORCE_COLOR: "0" },
      timeout: 180_000,
    });
    const output = `${run.stdout}\n${run.stderr}`;
    expect(output).toMatch(/Tests\s+\d+ passed/);
    expect(run.status, output).toBe(0);
    const noise = output.split("\n").filter((line) => /node:inspector|Fallback service|uncaught exception|host died/i.test(line));
    expect(noise).toEqual([]);
  }, 200_000);
});
