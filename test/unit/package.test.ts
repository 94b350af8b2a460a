import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const root = new URL("../../", import.meta.url).pathname;
const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));

describe("the package", () => {
  it("depends at run time on nanoid and zod (and idb for its IndexedDB adapter), and has no side effects", () => {
    expect(Object.keys(pkg.dependencies).sort()).toEqual(["idb", "nanoid", "zod"]);
    expect(pkg.sideEffects).toBe(false);
    expect(pkg.type).toBe("module");
  });

  it("resolves every entry of its exports map, with types, once built", () => {
    // Inside the repository, so that the build finds its dependencies as an installed package would.
    const out = mkdtempSync(join(root, ".build-test-"));
    try {
      for (const config of ["tsconfig.build.json", "adapters/idb/tsconfig.build.json", "adapters/durable-object/tsconfig.build.json"]) {
        execFileSync("npx", ["tsc", "-p", config, "--outDir", join(out, "dist")], { cwd: root, stdio: "pipe" });
      }
      for (const [subpath, target] of Object.entries(pkg.exports as Record<string, { types: string; default: string }>)) {
        expect(Object.keys(target)[0], `${subpath}: types must come first`).toBe("types");
        for (const file of [target.types, target.default]) {
          expect(() => readFileSync(join(out, file)), `${subpath} → ${file}`).not.toThrow();
        }
      }
      const core = execFileSync(process.execPath, ["--input-type=module", "-e", `const m = await import(${JSON.stringify(join(out, pkg.exports["."].default))}); const r = await m.run(m.linearFlow("f", m.task({ name: "a", provides: "x", execute: () => 41 }))); console.log(r.x + 1)`], { cwd: root }).toString().trim();
      expect(core).toBe("42");
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }, 60_000);
});
