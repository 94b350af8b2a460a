import { execFileSync } from "node:child_process";
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const root = new URL("../../", import.meta.url).pathname;
const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
const BUILD_CONFIGS = ["tsconfig.build.json", "adapters/idb/tsconfig.build.json", "adapters/durable-object/tsconfig.build.json", "adapters/worker/tsconfig.build.json", "adapters/viewer/tsconfig.build.json"];

describe("the package", () => {
  it("depends at run time on nanoid and zod (idb for its IndexedDB adapter, comlink for its Web Worker adapter, dagre for its viewer), and has no side effects", () => {
    expect(Object.keys(pkg.dependencies).sort()).toEqual(["@dagrejs/dagre", "comlink", "idb", "nanoid", "zod"]);
    expect(pkg.sideEffects).toBe(false);
    expect(pkg.type).toBe("module");
  });

  it("builds with project references and resolves every entry of its exports map by name, with types", () => {
    expect(pkg.scripts.build).toBe(`tsc -b ${BUILD_CONFIGS.join(" ")}`);
    // A copy of the package inside the repository, so that the build finds its dependencies as an
    // installed package would, and `taskflow-ts/…` resolves to the copy's own build (Node's
    // self-reference): what a user's import finds, not the sources.
    const out = mkdtempSync(join(root, ".build-test-"));
    try {
      for (const path of ["package.json", "tsconfig.json", "tsconfig.build.json", "src", "adapters"]) cpSync(join(root, path), join(out, path), { recursive: true });
      execFileSync("npx", ["tsc", "-b", ...BUILD_CONFIGS], { cwd: out, stdio: "pipe" });
      for (const [subpath, target] of Object.entries(pkg.exports as Record<string, { types: string; default: string }>)) {
        expect(Object.keys(target)[0], `${subpath}: types must come first`).toBe("types");
        for (const file of [target.types, target.default]) {
          expect(() => readFileSync(join(out, file)), `${subpath} → ${file}`).not.toThrow();
        }
      }
      // Adapters reach the core through the package's name only: nothing of src/ is compiled
      // into their build, and their output imports `taskflow-ts` and its public subpaths.
      for (const adapter of ["idb", "durable-object", "worker", "viewer"]) {
        const dir = join(out, "dist", "adapters", adapter);
        for (const file of readdirSync(dir).filter((f) => f.endsWith(".js") || f.endsWith(".d.ts"))) {
          expect(readFileSync(join(dir, file), "utf8"), `dist/adapters/${adapter}/${file}`).not.toMatch(/from "(\.\.\/)+src\//);
        }
      }
      // Every subpath by name, from the copy (the Durable Object adapter needs workerd's
      // `cloudflare:workers`: its files were checked above, and it runs in test/workerd).
      const names = Object.keys(pkg.exports).filter((s) => s !== "./durable-object").map((s) => `taskflow-ts${s.slice(1)}`);
      const script = `
        for (const name of ${JSON.stringify(names)}) {
          const m = await import(name);
          if (Object.keys(m).length === 0) throw new Error(name + " exports nothing");
        }
        const m = await import("taskflow-ts");
        const b = await import("taskflow-ts/backend");
        const backend = b.countCommits(new m.MemoryBackend());
        const r = await m.run(m.linearFlow("f", m.task({ name: "a", provides: "x", execute: () => 41 })), { backend });
        const j = await import("taskflow-ts/jobs");
        const board = new j.MemoryJobBoard();
        await board.claim((await board.post({ flow: "f" })).uuid, "c1");
        const [claimed] = await Array.fromAsync(board.iterate({ owner: "c1" }));
        console.log(r.x + 1, backend.commits, claimed.state);`;
      const printed = execFileSync(process.execPath, ["--input-type=module", "-e", script], { cwd: out }).toString().trim();
      expect(printed).toBe("42 2 CLAIMED");
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }, 120_000);
});
