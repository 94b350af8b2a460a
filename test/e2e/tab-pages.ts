// Pages of one origin as tabs, for the tests of what tabs share (IndexedDB, Web Locks,
// BroadcastChannel): a test page's script bundled once, served on 127.0.0.1, opened in Debian's
// Chromium driven with playwright-core.
import { build } from "esbuild";
import { createServer, type Server } from "node:http";
import { fileURLToPath } from "node:url";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { afterAll, afterEach, beforeAll } from "vitest";
import type { ServedPage } from "../../examples/serve-page.js";
import { CHROMIUM_ARGS } from "../../vitest.browser.config.js";

/**
 * Registers the file's hooks (bundle `entry` and serve it, launch Chromium; close the test's
 * context after each test, everything after all) and returns `openTabs(...names)`: the names as
 * tabs of one new context, each at `?tab=<name>&db=<one new database per call>`, once the page
 * has set `body[data-ready=true]`. `entry` may instead be an example's own server (`serve`):
 * its page is then the one opened.
 */
export function tabPages(entry: URL | { serve: () => Promise<ServedPage> }, dbPrefix: string): {
  (...names: string[]): Promise<Page[]>;
  /** The test's context, once tabs were opened (to take its network away, say). */
  context(): BrowserContext;
} {
  let server: Server | undefined;
  let served: ServedPage | undefined;
  let url = "";
  let browser: Browser;
  let context: BrowserContext | undefined;
  beforeAll(async () => {
    browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium", headless: true, args: CHROMIUM_ARGS });
    if (!(entry instanceof URL)) {
      served = await entry.serve();
      url = served.url;
      return;
    }
    const bundle = await build({
      entryPoints: [fileURLToPath(entry)],
      bundle: true, write: false, format: "esm", platform: "browser", target: "es2022", logLevel: "silent",
    });
    const script = bundle.outputFiles[0]?.text ?? "";
    const http = (server = createServer((req, res) => {
      if (req.url?.startsWith("/page.js")) res.writeHead(200, { "content-type": "text/javascript" }).end(script);
      else if (req.url === "/favicon.ico") res.writeHead(204).end();
      else res.writeHead(200, { "content-type": "text/html" }).end('<!doctype html><body><script type="module" src="/page.js"></script></body>');
    }));
    await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
    const address = http.address();
    url = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}/`;
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    server?.closeAllConnections();
    server?.close();
    await served?.close();
  });
  afterEach(async () => {
    await context?.close();
  });
  const open = async (...names: string[]): Promise<Page[]> => {
    context = await browser.newContext();
    const db = `${dbPrefix}-${crypto.randomUUID()}`;
    const pages: Page[] = [];
    for (const tab of names) {
      const page = await context.newPage();
      await page.goto(`${url}?tab=${tab}&db=${db}`);
      await page.waitForSelector("body[data-ready=true]", { state: "attached" });
      pages.push(page);
    }
    return pages;
  };
  return Object.assign(open, {
    context: () => {
      if (!context) throw new Error("open the tabs first");
      return context;
    },
  });
}
