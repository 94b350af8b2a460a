import { build } from "esbuild";
import { builtinModules } from "node:module";
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

const FORBIDDEN_GLOBALS = ["process", "Buffer", "require", "window", "document", "navigator", "localStorage", "indexedDB", "setTimeout", "setInterval", "__dirname"];

describe("the core bundles for any runtime", () => {
  for (const entry of ["src/index.ts", "src/testing/index.ts"]) {
    it(`${entry} bundles for the neutral platform without Node built-ins or platform globals`, async () => {
      const { code, inputs } = await bundle(entry);
      const builtins = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));
      expect(inputs.filter((i) => builtins.has(i) || i.startsWith("node:"))).toEqual([]);
      for (const name of FORBIDDEN_GLOBALS) {
        expect(code, `uses the global ${name}`).not.toMatch(new RegExp(`(?<![.\\w$])${name}\\s*[.(\\[]`));
      }
    });
  }

  it("catches a Node built-in if one sneaks in", async () => {
    await expect(
      build({ stdin: { contents: "import { readFileSync } from 'node:fs'; export const x = readFileSync;", resolveDir: "." }, bundle: true, write: false, platform: "neutral", logLevel: "silent" }),
    ).rejects.toThrow(/node:fs/);
  });
});
