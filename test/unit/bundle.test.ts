import { build } from "esbuild";
import { readdirSync, readFileSync } from "node:fs";
import { builtinModules } from "node:module";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";

// The core must run in a page, a Web Worker, a Cloudflare Worker, Deno or Node: it bundles for
// esbuild's neutral platform with nothing marked external, so any import of a Node built-in
// fails the build, and the output must not touch Node, DOM or Workers globals.
async function bundle(entry: string) {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    write: false,
    minify: true,
    format: "esm",
    platform: "neutral",
    mainFields: ["module", "main"],
    logLevel: "silent",
    metafile: true,
  });
  const code = result.outputFiles[0]?.text ?? "";
  return { code, inputs: Object.keys(result.metafile.inputs) };
}

// Web-standard timers (setTimeout) exist in every runtime we target; only the system clock may
// use them, which a test below checks in the sources.
const FORBIDDEN_GLOBALS = ["process", "Buffer", "require", "window", "document", "navigator", "localStorage", "indexedDB", "__dirname", "Deno", "caches"];

describe("the core bundles for any runtime", () => {
  for (const entry of ["src/index.ts", "src/testing/index.ts", "src/backend.ts"]) {
    it(`${entry} bundles for the neutral platform without Node built-ins or platform globals`, async () => {
      const { code, inputs } = await bundle(entry);
      const builtins = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));
      expect(inputs.filter((i) => builtins.has(i) || i.startsWith("node:"))).toEqual([]);
      // The core's only packages are nanoid and zod; adapters bring their own (idb, workers).
      const packages = new Set(inputs.filter((i) => i.startsWith("node_modules/")).map((i) => i.split("/")[1]));
      expect([...packages].filter((p) => p !== "nanoid" && p !== "zod")).toEqual([]);
      for (const name of FORBIDDEN_GLOBALS) {
        expect(code, `uses the global ${name}`).not.toMatch(new RegExp(`(?<![.\\w$])${name}\\s*[.(\\[]`));
      }
    });
  }

  it("keeps what a page loads up front for the core entry within 15 KiB min+gzip", async () => {
    // Two chunks load later: zod with the record schemas (on the first read of a log book, and
    // with them what a garbage collection of log books needs) and the runner (on the first run).
    // The whole, all chunks, is kept within 31 KiB (30 before every backend had listFinished and
    // expire).
    const result = await build({
      entryPoints: ["src/index.ts"], bundle: true, write: false, minify: true, format: "esm", platform: "neutral",
      mainFields: ["module", "main"], splitting: true, outdir: "out", metafile: true, logLevel: "silent",
    });
    const outputs = result.metafile.outputs;
    const entry = Object.keys(outputs).find((k) => outputs[k]?.entryPoint === "src/index.ts") as string;
    const upFront = new Set([entry]);
    for (const name of upFront) {
      for (const i of outputs[name]?.imports ?? []) if (i.kind === "import-statement") upFront.add(i.path);
    }
    const lazy = Object.keys(outputs).filter((k) => !upFront.has(k) && k.endsWith(".js"));
    const size = (name: string) => gzipSync(result.outputFiles.find((f) => f.path.endsWith(name))?.text ?? "").length;
    const kib = [...upFront].reduce((s, n) => s + size(n), 0) / 1024;
    expect(lazy.some((k) => k.includes("schemas"))).toBe(true);
    expect(lazy.some((k) => k.includes("runner"))).toBe(true);
    expect(kib).toBeGreaterThan(1);
    expect(kib).toBeLessThanOrEqual(18); // measured anew (minimal app, all chunks) by the next change
    const total = Object.keys(outputs).filter((k) => k.endsWith(".js")).reduce((s, n) => s + size(n), 0) / 1024;
    expect(total).toBeLessThanOrEqual(32); // replaced by the minimal-app and everything budgets in the next change
  });

  it("leaves time to the Clock port: only src/ports/clock.ts touches timers or Date.now", () => {
    const files = readdirSync("src", { recursive: true, encoding: "utf8" }).filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts"));
    expect(files.length).toBeGreaterThan(20);
    const offenders = files.filter((f) => f !== join("ports", "clock.ts") && /\b(setTimeout|setInterval|Date\.now)\b/.test(readFileSync(join("src", f), "utf8")));
    expect(offenders).toEqual([]);
  });

  it("catches a Node built-in if one sneaks in", async () => {
    await expect(
      build({ stdin: { contents: "import { readFileSync } from 'node:fs'; export const x = readFileSync;", resolveDir: "." }, bundle: true, write: false, platform: "neutral", logLevel: "silent" }),
    ).rejects.toThrow(/node:fs/);
  });
});
