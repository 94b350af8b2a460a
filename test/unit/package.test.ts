import { execFileSync, spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { publint } from "publint";
import { formatMessage } from "publint/utils";
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

  it("says where it comes from and what it needs: license file, repository, top-level entry for older resolvers, an optional peer for the Workers types", () => {
    expect(pkg.license).toBe("Apache-2.0");
    expect(readFileSync(join(root, "LICENSE"), "utf8")).toMatch(/^\s*Apache License\s+Version 2\.0, January 2004/);
    expect(pkg.repository.url).toMatch(/^git\+https:\/\/github\.com\/.+\.git$/);
    // Resolvers that do not read `exports` (TypeScript's node10, old bundlers) find the core entry.
    expect([pkg.main, pkg.types]).toEqual([pkg.exports["."].default, pkg.exports["."].types]);
    // taskflow-ts/durable-object's declarations name DurableObjectStorage, DurableObjectState and
    // import "cloudflare:workers": a Worker project has those types (this package or `wrangler
    // types`), a page or a Node app never needs them.
    expect(pkg.peerDependencies["@cloudflare/workers-types"]).toBe(pkg.devDependencies["@cloudflare/workers-types"]);
    expect(pkg.peerDependenciesMeta["@cloudflare/workers-types"]).toEqual({ optional: true });
  });

  it("builds with project references, resolves every entry of its exports map by name, with types, and packs clean (publint, attw)", async () => {
    expect(pkg.scripts.build).toBe(`tsc -b ${BUILD_CONFIGS.join(" ")}`);
    // A copy of the package inside the repository, so that the build finds its dependencies as an
    // installed package would, and `taskflow-ts/…` resolves to the copy's own build (Node's
    // self-reference): what a user's import finds, not the sources.
    const out = mkdtempSync(join(root, ".build-test-"));
    try {
      for (const path of ["package.json", "README.md", "LICENSE", "tsconfig.json", "tsconfig.build.json", "src", "adapters"]) cpSync(join(root, path), join(out, path), { recursive: true });
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

      // Source maps carry their sources: the tarball has no .ts files for a map to point to, so
      // a stack trace or a debugger shows the TypeScript only if each map holds it.
      const maps = readdirSync(join(out, "dist"), { recursive: true, encoding: "utf8" }).filter((f) => f.endsWith(".js.map"));
      expect(maps.length).toBeGreaterThan(0);
      for (const file of maps) {
        const map = JSON.parse(readFileSync(join(out, "dist", file), "utf8")) as { sources: string[]; sourcesContent?: Array<string | null> };
        expect(map.sourcesContent?.filter((c) => typeof c === "string").length, `dist/${file} carries its sources`).toBe(map.sources.length);
      }

      // The tarball a user installs, packed once (no prepack: it was built above), checked by
      // publint (every message, suggestions too) and by Are the Types Wrong.
      const tarball = join(out, execFileSync("npm", ["pack", "--ignore-scripts", "--silent"], { cwd: out }).toString().trim().split("\n").at(-1) as string);
      const packed = readFileSync(tarball);
      const { messages } = await publint({ pack: { tarball: packed.buffer.slice(packed.byteOffset, packed.byteOffset + packed.byteLength) as ArrayBuffer }, level: "suggestion", strict: true });
      expect(messages.map((m) => `${m.type}: ${formatMessage(m, pkg) ?? m.code}`)).toEqual([]);
      // ESM only, on purpose (idb and nanoid are ESM only too): the esm-only profile leaves out
      // node10 (it reads no `exports`, so only the top-level entry resolves there) and `require`
      // from CommonJS under node16 (Node 20.19+ can require ESM; TypeScript still reports it as
      // "CJS resolves to ESM"). Everything else (node16 from ESM, bundler) must be clean.
      const attw = spawnSync("npx", ["attw", "--profile", "esm-only", "--format", "ascii", "--no-color", tarball], { cwd: out, encoding: "utf8" });
      expect(attw.status, `attw --profile esm-only:\n${attw.stdout}${attw.stderr}`).toBe(0);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }, 240_000);
});
