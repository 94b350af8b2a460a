import { playwright } from "@vitest/browser-playwright";
import { defineConfig } from "vitest/config";
import { packageAliases } from "./vitest.aliases.js";

// Real Chromium (Debian's, nothing is downloaded): IndexedDB and navigator.locks as a page has them.
export const CHROMIUM_ARGS = [
  "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync",
];

export default defineConfig({
  resolve: { alias: packageAliases },
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
