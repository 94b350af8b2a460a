import { defineConfig } from "vitest/config";
import { packageAliases as alias } from "./vitest.aliases.js";

// One `vitest run` holds every project: node here, and each `vitest.<runtime>.config.ts` beside
// this file (Chromium for IndexedDB, workerd for Durable Objects).
export default defineConfig({
  resolve: { alias },
  test: {
    projects: [
      {
        resolve: { alias },
        test: {
          name: "node",
          include: ["test/unit/**/*.test.ts", "test/contract/**/*.test.ts", "test/e2e/**/*.test.ts"],
          environment: "node",
          // expect.poll waits for a real condition (a tab taking a lock): its default 1 s is less
          // than a loaded 2-core machine takes to get there, so a slow pass failed as a wrong one.
          expect: { poll: { timeout: 20_000 } },
        },
      },
      "./vitest.*.config.ts",
    ],
  },
});
