// The API reference (issue 15, item 7): `npm run docs` renders the doc comments of every public
// entry with typedoc into docs/api/ (not committed). A warning (a type referenced but not
// documented, a broken {@link}) is an error, so what a user reads there has no dead ends.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../../", import.meta.url));
const pkg = JSON.parse(readFileSync(`${root}package.json`, "utf8")) as { scripts: Record<string, string>; exports: Record<string, { types: string }> };
const config = JSON.parse(readFileSync(`${root}typedoc.json`, "utf8")) as { entryPoints: string[]; out: string; treatWarningsAsErrors: boolean };

describe("the API reference", () => {
  it("covers every subpath of the exports map, each named as users import it", () => {
    // dist/src/index.d.ts is built from src/index.ts, dist/adapters/idb/index.d.ts from adapters/idb/index.ts.
    const sources = Object.values(pkg.exports).map((e) => e.types.replace(/^\.\/dist\//, "").replace(/\.d\.ts$/, ".ts"));
    expect([...config.entryPoints].sort()).toEqual(sources.sort());
    for (const [subpath, entry] of Object.entries(pkg.exports)) {
      const file = entry.types.replace(/^\.\/dist\//, "").replace(/\.d\.ts$/, ".ts");
      expect(readFileSync(`${root}${file}`, "utf8"), `${file} names its module`).toContain(`@module taskflow-ts${subpath.slice(1)}\n`);
    }
    expect(pkg.scripts.docs).toBe("typedoc");
    expect(config.out).toBe("docs/api");
    expect(readFileSync(`${root}.gitignore`, "utf8").split("\n")).toContain("docs/api/");
  });

  it("builds without a warning (typedoc --emit none: the same checks, nothing written)", () => {
    expect(config.treatWarningsAsErrors).toBe(true);
    const typedoc = fileURLToPath(new URL("../../node_modules/typedoc/bin/typedoc", import.meta.url));
    const run = spawnSync(process.execPath, [typedoc, "--emit", "none"], { cwd: root, encoding: "utf8", env: { ...process.env, NO_COLOR: "1" }, timeout: 170_000 });
    const output = `${run.stdout}${run.stderr}`;
    expect(output.split("\n").filter((line) => /warning|error/i.test(line))).toEqual([]);
    expect(run.status, output).toBe(0);
  }, 180_000);
});
