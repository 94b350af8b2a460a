import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineProject } from "vitest/config";
import { packageAliases as alias } from "./vitest.aliases.js";

// examples/edge-jobs and the adapter import the package by its name, as a user's Worker would.
// The Durable Objects adapter in workerd, the runtime it ships to: tests, Durable Objects and
// the core run in one Worker described by test/workerd/wrangler.jsonc (SQLite-backed objects,
// no nodejs_compat).
//
// `verbose: false`: workerd's verbose log prints every exception an RPC method throws as an
// "uncaught exception", and these tests make the runner refuse calls (and kill hosts) on purpose,
// so a green run printed dozens of them. What matters still shows: a failed assertion, an
// unhandled rejection inside an object (vitest reports it and fails the run), console output.
// test/unit/quiet-output.test.ts keeps a green run quiet.
export default defineProject({
  plugins: [cloudflareTest({ wrangler: { configPath: "./test/workerd/wrangler.jsonc" }, verbose: false })],
  resolve: { alias },
  test: {
    name: "workerd",
    include: ["test/workerd/**/*.test.ts"],
  },
});
