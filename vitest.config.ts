import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

// Examples and tests import the package by its name, as users do; this points that name at
// the sources so nothing needs building first.
const alias = {
  "taskflow-ts/testing": fileURLToPath(new URL("./src/testing/index.ts", import.meta.url)),
  "taskflow-ts/schemas": fileURLToPath(new URL("./src/schemas.ts", import.meta.url)),
  "taskflow-ts": fileURLToPath(new URL("./src/index.ts", import.meta.url)),
};

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
        },
      },
      "./vitest.*.config.ts",
    ],
  },
});
