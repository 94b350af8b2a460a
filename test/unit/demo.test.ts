// `npm run demo` is the first thing a new user runs, often piped (`| less`, a CI log): its output
// has colour codes only on a terminal, and says why a resumed flow goes RESUMING → SUSPENDED → RUNNING.
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../../", import.meta.url));
const tsx = fileURLToPath(new URL("../../node_modules/tsx/dist/cli.mjs", import.meta.url));

/** The demo's output, its stdout a pipe (not a terminal), with `env` on top of this process's. */
function demo(env: Record<string, string | undefined>): string {
  const { FORCE_COLOR: _force, NO_COLOR: _no, ...inherited } = process.env;
  const run = spawnSync(process.execPath, [tsx, "examples/demo/main.ts"], { cwd: root, encoding: "utf8", env: { ...inherited, ...env }, timeout: 60_000 });
  expect(run.status, run.stderr).toBe(0);
  return run.stdout;
}

describe("npm run demo", () => {
  it("prints no colour codes when piped, explains RESUMING → SUSPENDED → RUNNING, and colours when asked to (FORCE_COLOR)", () => {
    const piped = demo({});
    expect(piped).not.toContain("\x1b[");
    const explained = piped.indexOf("goes RESUMING → SUSPENDED → RUNNING");
    expect(explained).toBeGreaterThan(0);
    // The explanation comes before the transitions it explains.
    expect(piped.indexOf("flow checkout: RESUMING → SUSPENDED")).toBeGreaterThan(explained);
    expect(piped).toMatch(/flow checkout: RUNNING → SUCCESS/);
    // The audit trail keeps both runs of charge, the first by the host that died.
    expect(piped).toMatch(/host 1 {2}charge {3}PENDING → RUNNING \(attempt 1\)/);
    expect(piped).toMatch(/host 2 {2}charge {3}RUNNING → RUNNING \(attempt 2\)/);

    expect(demo({ FORCE_COLOR: "1" })).toMatch(/\x1b\[32mvalidate RUNNING → SUCCESS\x1b\[0m/);
  }, 120_000);
});
