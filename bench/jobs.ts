// The IndexedDB job board's section of `npm run bench` (`--jobs-only` runs it alone): jobs per
// second with 1 and 3 tabs of one Chromium context draining one board (bench/jobs-page.ts).
import { build } from "esbuild";
import { createServer } from "node:http";
import { fileURLToPath } from "node:url";
import { chromium, type Page } from "playwright-core";
import { CHROMIUM_ARGS } from "../vitest.browser.config.js";
import type { JobsFigure } from "./jobs-page.js";

/** One case's figures. */
export interface JobsLine {
  board: "idb";
  tabs: number;
  jobs: number;
  ms: number;
  jobs_per_s: number;
  claim_ms_median: number;
  board_share: number;
  consumed_per_tab: number[];
}

type Bench = {
  post(n: number): Promise<void>;
  start(n: number): Promise<number>;
  conduct(): Promise<void>;
  stop(): Promise<JobsFigure>;
};
declare const jobsBench: Bench;

const round = (x: number, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits;

/** Drains `n` invoice jobs with 1 tab, then with 3, in one Chromium; each case on new databases. */
export async function measureJobs(n = 200, tabCounts: number[] = [1, 3]): Promise<JobsLine[]> {
  const bundle = await build({
    entryPoints: [fileURLToPath(new URL("./jobs-page.ts", import.meta.url))],
    bundle: true, write: false, format: "esm", platform: "browser", target: "es2022", minify: true, logLevel: "silent",
  });
  const script = bundle.outputFiles[0]?.text ?? "";
  const server = createServer((req, res) => {
    if (req.url?.startsWith("/page.js")) res.writeHead(200, { "content-type": "text/javascript" }).end(script);
    else res.writeHead(200, { "content-type": "text/html" }).end('<!doctype html><body><script type="module" src="/page.js"></script></body>');
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const url = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}/`;
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium", headless: true, args: CHROMIUM_ARGS });
  const lines: JobsLine[] = [];
  try {
    for (const tabs of [tabCounts[0] ?? 1, ...tabCounts]) { // the first case twice: the first is a warm-up
      const context = await browser.newContext();
      const db = `bench-${crypto.randomUUID()}`;
      const pages: Page[] = [];
      for (let t = 0; t < tabs; t++) {
        const page = await context.newPage();
        await page.goto(`${url}?tab=${t}&db=${db}`);
        await page.waitForSelector("body[data-ready=true]", { state: "attached" });
        pages.push(page);
      }
      const first = pages[0] as Page;
      await first.evaluate((count) => jobsBench.post(count), n);
      const conducting = pages.map((p) => p.evaluate(() => jobsBench.conduct()));
      const ms = await first.evaluate((count) => jobsBench.start(count), n);
      const figures = await Promise.all(pages.map((p) => p.evaluate(() => jobsBench.stop())));
      await Promise.all(conducting);
      await context.close();
      const boardMs = figures.reduce((s, f) => s + f.boardMs, 0);
      const flowMs = figures.reduce((s, f) => s + f.flowMs, 0);
      const claims = figures.flatMap((f) => f.claims).sort((a, b) => a - b);
      lines.push({
        board: "idb", tabs, jobs: n, ms: round(ms, 1), jobs_per_s: round((n * 1000) / ms, 1),
        claim_ms_median: round(claims[Math.floor(claims.length / 2)] ?? 0), board_share: round(boardMs / (boardMs + flowMs)),
        consumed_per_tab: figures.map((f) => f.consumed),
      });
    }
  } finally {
    await browser.close();
    server.closeAllConnections();
    server.close();
  }
  return lines.slice(1);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  for (const line of await measureJobs(Number(process.argv[2] ?? 200))) console.log(JSON.stringify(line));
}
