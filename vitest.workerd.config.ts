import { fileURLToPath } from "node:url";
import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineProject } from "vitest/config";

// The package's names, pointed at the sources as in vitest.config.ts (a project does not inherit
// the root's aliases): examples/edge-jobs imports them as a user's Worker would.
const source = (path: string) => fileURLToPath(new URL(path, import.meta.url));
const alias = {
  "taskflow-ts/durable-object": source("./adapters/durable-object/index.ts"),
  "taskflow-ts": source("./src/index.ts"),
};

// The Durable Objects adapter in workerd, the runtime it ships to: tests, Durable Objects and
// the core run in one Worker described by test/workerd/wrangler.jsonc (SQLite-backed objects,
// no nodejs_compat).
export default defineProject({
  plugins: [cloudflareTest({ wrangler: { configPath: "./test/workerd/wrangler.jsonc" } })],
  resolve: { alias },
  test: {
    name: "workerd",
    include: ["test/workerd/**/*.test.ts"],
  },
});
