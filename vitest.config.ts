import { defineConfig } from "vitest/config";

// One `vitest run` holds every project; the browser (Chromium) and workerd projects join it
// with the IndexedDB and Durable Object adapters.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "node",
          include: ["test/unit/**/*.test.ts", "test/contract/**/*.test.ts"],
          environment: "node",
        },
      },
    ],
  },
});
