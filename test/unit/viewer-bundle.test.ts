import { build } from "esbuild";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";

// taskflow-ts/viewer's cost to a page (issue 15, item 4), measured as the core's budget is
// (test/unit/bundle.test.ts): esbuild, minified, gzip. Its own code is small; most of it is dagre,
// which only a page that imports the viewer pays for: the core never imports it (the core's
// bundle test allows no package but nanoid and zod).
async function measure(external: string[]) {
  const result = await build({
    stdin: { contents: `export * from "./adapters/viewer/index.ts";`, resolveDir: ".", loader: "ts" },
    bundle: true, write: false, minify: true, format: "esm", platform: "browser", external, metafile: true, logLevel: "silent",
    alias: { "taskflow-ts": "./src/index.ts" },
  });
  const code = result.outputFiles[0]?.text ?? "";
  return { kib: gzipSync(code).length / 1024, inputs: Object.keys(result.metafile.inputs) };
}

// Measured at 5.4 KiB without dagre, 21.5 KiB with it.
const BUDGET_OWN = 6.5;
const BUDGET_WITH_DAGRE = 23;

describe("taskflow-ts/viewer's size", () => {
  it(`its own code is within ${BUDGET_OWN} KiB min+gzip, and takes nothing but types from the core`, async () => {
    const { kib, inputs } = await measure(["@dagrejs/dagre"]);
    expect(inputs.some((i) => i.startsWith("adapters/viewer/element.ts"))).toBe(true);
    // A page that only shows log books bundles no engine.
    expect(inputs.filter((i) => i.startsWith("src/"))).toEqual([]);
    expect(kib).toBeGreaterThan(1);
    expect(kib).toBeLessThanOrEqual(BUDGET_OWN);
  });

  it(`with dagre, within ${BUDGET_WITH_DAGRE} KiB min+gzip`, async () => {
    const { kib, inputs } = await measure([]);
    expect(inputs.some((i) => i.includes("node_modules/@dagrejs/dagre/"))).toBe(true);
    expect(kib).toBeLessThanOrEqual(BUDGET_WITH_DAGRE);
  });
});
