import { execFileSync, spawnSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
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

      // A new user's project (issue 15, item 1, "Must show"): the tarball installed by npm, then a
      // file using every subpath type-checked as they would, under both resolutions.
      expect(checkConsumer(tarball)).toEqual({ bundler: "", nodenext: "" });
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }, 900_000); // a build, publint, attw, an npm install and two type checks: minutes on a loaded 2-core machine
});

// The consumer's file: every subpath imported by name, and a typed flow whose results must have
// the flow's types, never `any`: \`exactly<T>()(value)\` fails to compile otherwise, as "Expected 2
// arguments" (the value is any) or "Expected 3 arguments" (its type differs; the error names it).
const CONSUMER = `
import * as z from "zod/mini";
import { linearFlow, load, run, task, waitFor, type Engine, type Provided, type Results } from "taskflow-ts";
import { ManualClock } from "taskflow-ts/testing";
import { parseRecord } from "taskflow-ts/schemas";
import { countCommits } from "taskflow-ts/backend";
import { MemoryJobBoard } from "taskflow-ts/jobs";
import { IndexedDbBackend } from "taskflow-ts/idb";
import { DurableObjectBackend } from "taskflow-ts/durable-object";
import { connectRunner } from "taskflow-ts/worker";
import { defineViewer } from "taskflow-ts/viewer";

type IsAny<T> = 0 extends 1 & T ? true : false;
type Equal<A, B> = (<G>() => G extends A ? 1 : 2) extends <G>() => G extends B ? 1 : 2 ? true : false;
function exactly<Expected>() {
  return <Actual>(_value: Actual, ..._typed: IsAny<Actual> extends true ? ["is any"] : Equal<Actual, Expected> extends true ? [] : ["differs", Actual]) => {};
}

interface Receipt { id: string; amount: number }
const book = task({ name: "book", requires: ["guest"], provides: "booking", execute: ({ guest }: { guest: string }) => ({ id: "B-1", guest }) });
const pay = task({
  name: "pay", requires: ["booking", "price"], provides: "receipt",
  execute: async ({ booking, price }: { booking: { id: string }; price: number }): Promise<Receipt> => ({ id: booking.id, amount: price }),
});
const flow = linearFlow("trip", waitFor("nights", { schema: z.number() }), book, pay);

export async function main(): Promise<void> {
  const engine = load(flow, { backend: countCommits(await IndexedDbBackend.open("trips")), clock: new ManualClock(0), store: { guest: "ada", price: 90 } });
  await engine.run();
  exactly<Receipt>()(engine.storage.fetch("receipt"));
  exactly<number>()(engine.storage.fetch("nights"));
  exactly<string>()(engine.storage.fetch("guest"));
  exactly<{ id: string; guest: string }>()(engine.storage.getResult("book"));
  exactly<unknown>()(engine.storage.fetch("not provided"));
  const all = await run(flow, { store: { guest: "bob", price: 1 } });
  exactly<Receipt>()(all.receipt);
  exactly<number>()(all.nights);
  exactly<{ nights: number; booking: { id: string; guest: string }; receipt: Receipt }>()({} as Provided<typeof flow>);
  exactly<{ "wait:nights": number; book: { id: string; guest: string }; pay: Receipt }>()({} as Results<typeof flow>);
  const untyped: Engine = engine;
  void untyped;
}

export function others(storage: DurableObjectStorage, worker: Worker): void {
  void new DurableObjectBackend(storage);
  void connectRunner(worker);
  void new MemoryJobBoard();
  void parseRecord;
  defineViewer();
}
`;

/**
 * Installs \`tarball\` into a new project outside the repository with npm (offline: its
 * dependencies, and the Workers types a Worker project adds, are packed from our node_modules and
 * installed beside it, as the registry would give them), writes {@link CONSUMER} and type-checks
 * it with our TypeScript under \`moduleResolution\` bundler and nodenext. Returns each one's errors.
 */
function checkConsumer(tarball: string): Record<"bundler" | "nodenext", string> {
  const dir = mkdtempSync(join(tmpdir(), "taskflow-consumer-"));
  try {
    const deps = join(dir, "deps");
    mkdirSync(deps);
    const wanted = new Set<string>(["@cloudflare/workers-types", ...Object.keys(pkg.dependencies)]);
    for (const name of wanted) {
      const own = JSON.parse(readFileSync(join(root, "node_modules", name, "package.json"), "utf8")) as { dependencies?: Record<string, string> };
      for (const dep of Object.keys(own.dependencies ?? {})) wanted.add(dep);
      execFileSync("npm", ["pack", join(root, "node_modules", name), "--ignore-scripts", "--silent", "--pack-destination", deps], { stdio: "pipe" });
    }
    writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "consumer", private: true, type: "module" }));
    const tarballs = readdirSync(deps).map((f) => `./deps/${f}`);
    execFileSync("npm", ["install", tarball, ...tarballs, "--offline", "--no-audit", "--no-fund", "--ignore-scripts"], { cwd: dir, stdio: "pipe" });
    writeFileSync(join(dir, "consumer.ts"), CONSUMER);
    const tsc = join(root, "node_modules", "typescript", "bin", "tsc");
    const result = { bundler: "", nodenext: "" };
    for (const mode of ["bundler", "nodenext"] as const) {
      const compilerOptions = {
        strict: true,
        target: "ES2022",
        module: mode === "bundler" ? "preserve" : "nodenext",
        moduleResolution: mode,
        // A page's and a Worker's globals in one program (the file uses both); the two libraries
        // declare a few globals differently, which skipLibCheck (tsc --init's default) leaves be.
        lib: ["ES2022", "DOM", "DOM.Iterable"],
        types: ["@cloudflare/workers-types"],
        skipLibCheck: true,
        noEmit: true,
      };
      writeFileSync(join(dir, `tsconfig.${mode}.json`), JSON.stringify({ compilerOptions, files: ["consumer.ts"] }));
      const check = spawnSync(process.execPath, [tsc, "-p", `tsconfig.${mode}.json`], { cwd: dir, encoding: "utf8" });
      result[mode] = `${check.stdout}${check.stderr}`.trim();
    }
    return result;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
