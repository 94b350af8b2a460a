import { fileURLToPath } from "node:url";
import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";
import { packageAliases } from "../../vitest.aliases.js";

// The Durable Object benchmark runs in workerd like the tests, but only when asked for:
//   npx vitest run --config bench/durable-object/vitest.config.ts
// Its JSON lines go straight to stdout, without vitest's per-test console headers.
const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

export default defineConfig({
  root: here("../.."),
  plugins: [cloudflareTest({ wrangler: { configPath: here("./wrangler.jsonc") } })],
  resolve: { alias: packageAliases },
  test: {
    name: "bench-durable-object",
    include: ["bench/durable-object/bench.test.ts", "bench/durable-object/jobs.test.ts"],
    onConsoleLog(log) {
      if (!log.startsWith('{"backend":"durable-object"') && !log.startsWith('{"board":')) return undefined;
      process.stdout.write(log.endsWith("\n") ? log : `${log}\n`);
      return false;
    },
  },
});
