import { playwright } from "@vitest/browser-playwright";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

// Real Chromium (Debian's, nothing is downloaded): IndexedDB and navigator.locks as a page has them.
export const CHROMIUM_ARGS = [
  "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync",
];

export default defineConfig({
  resolve: {
    alias: {
      "taskflow-ts/testing": fileURLToPath(new URL("./src/testing/index.ts", import.meta.url)),
      "taskflow-ts/schemas": fileURLToPath(new URL("./src/schemas.ts", import.meta.url)),
      "taskflow-ts": fileURLToPath(new URL("./src/index.ts", import.meta.url)),
    },
  },
  test: {
    name: "browser",
    include: ["test/browser/**/*.test.ts"],
    browser: {
      enabled: true,
      headless: true,
      provider: playwright({ launchOptions: { executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium", args: CHROMIUM_ARGS } }),
      instances: [{ browser: "chromium" }],
    },
  },
});
