// Runs a benchmark page in Debian's Chromium with playwright-core: each script is bundled with
// esbuild (tsconfig paths resolve `taskflow-ts/…` to the sources) and served from 127.0.0.1, the
// first as the page's module, the others at their paths (a worker's script, say).
import { build } from "esbuild";
import { createServer } from "node:http";
import { chromium, type Page } from "playwright-core";
import { fileURLToPath } from "node:url";
import { CHROMIUM_ARGS } from "../vitest.browser.config.js";

/** `scripts`: served path → entry file (relative to bench/); the first is the page's module. */
export async function inChromium<T>(scripts: Record<string, string>, use: (page: Page) => Promise<T>): Promise<T> {
  const bundles = new Map<string, string>();
  for (const [path, entry] of Object.entries(scripts)) {
    const bundle = await build({
      entryPoints: [fileURLToPath(new URL(entry, import.meta.url))],
      bundle: true, write: false, format: "esm", platform: "browser", target: "es2022", minify: true, logLevel: "silent",
    });
    bundles.set(path, bundle.outputFiles[0]?.text ?? "");
  }
  const page = Object.keys(scripts)[0];
  const server = createServer((req, res) => {
    const script = bundles.get(new URL(req.url ?? "/", "http://x").pathname);
    if (script !== undefined) res.writeHead(200, { "content-type": "text/javascript" }).end(script);
    else res.writeHead(200, { "content-type": "text/html" }).end(`<!doctype html><script type="module" src="${page}"></script>`);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium", headless: true, args: CHROMIUM_ARGS });
  try {
    const tab = await browser.newPage();
    await tab.goto(`http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}/`);
    return await use(tab);
  } finally {
    await browser.close();
    server.closeAllConnections();
    server.close();
  }
}
