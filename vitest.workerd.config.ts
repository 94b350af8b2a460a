import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineProject } from "vitest/config";
import { packageAliases as alias } from "./vitest.aliases.js";

// examples/edge-jobs and the adapter import the package by its name, as a user's Worker would.
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
