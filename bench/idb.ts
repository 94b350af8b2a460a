// The IndexedDB section of `npm run bench`: measured in Debian's Chromium with playwright-core.
import { build } from "esbuild";
import { createServer } from "node:http";
import { chromium } from "playwright-core";
import { fileURLToPath } from "node:url";
import { CHROMIUM_ARGS } from "../vitest.browser.config.js";
import type { IdbFigure } from "./idb-page.js";

export async function measureIdb(n = 1000, rounds = 5): Promise<IdbFigure[][]> {
  const bundle = await build({
    entryPoints: [fileURLToPath(new URL("./idb-page.ts", import.meta.url))],
    bundle: true, write: false, format: "esm", platform: "browser", target: "es2022", minify: true, logLevel: "silent",
  });
  const script = bundle.outputFiles[0]?.text ?? "";
  const server = createServer((req, res) => {
    if (req.url === "/bench.js") res.writeHead(200, { "content-type": "text/javascript" }).end(script);
    else res.writeHead(200, { "content-type": "text/html" }).end('<!doctype html><script type="module" src="/bench.js"></script>');
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium", headless: true, args: CHROMIUM_ARGS });
  try {
    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}/`);
    await page.waitForFunction(() => "runIdbBench" in globalThis);
    return await page.evaluate(([count, times]) => (globalThis as unknown as { runIdbBench: (n: number, rounds: number) => Promise<IdbFigure[][]> }).runIdbBench(count, times), [n, rounds] as const);
  } finally {
    await browser.close();
    server.closeAllConnections();
    server.close();
  }
}
