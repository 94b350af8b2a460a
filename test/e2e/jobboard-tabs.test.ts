// The IndexedDB job board across tabs: pages of one browser context share its IndexedDB, in
// Debian's Chromium driven with playwright-core. Two tabs racing for the same jobs each win some,
// never the same one; a wait in one tab is woken by a post or an abandon in another (issue 13).
import { build } from "esbuild";
import { createServer, type Server } from "node:http";
import { fileURLToPath } from "node:url";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { CHROMIUM_ARGS } from "../../vitest.browser.config.js";

type Claim = { jobUuid: string; owner: string; token: number; expiresAt: number };
type Jobs = {
  post(count: number): Promise<string[]>;
  race(): Promise<{ won: string[]; refused: number }>;
  go(): void;
  wait(): Promise<string[]>;
  claim(uuid: string): Promise<Claim>;
  abandon(claim: Claim): Promise<void>;
  states(): Promise<string[]>;
};
declare const jobs: Jobs;

let server: Server;
let url = "";
let browser: Browser;
let context: BrowserContext;
beforeAll(async () => {
  const bundle = await build({
    entryPoints: [fileURLToPath(new URL("./jobboard-page.ts", import.meta.url))],
    bundle: true, write: false, format: "esm", platform: "browser", target: "es2022", logLevel: "silent",
  });
  const script = bundle.outputFiles[0]?.text ?? "";
  server = createServer((req, res) => {
    if (req.url?.startsWith("/jobs.js")) res.writeHead(200, { "content-type": "text/javascript" }).end(script);
    else if (req.url === "/favicon.ico") res.writeHead(204).end();
    else res.writeHead(200, { "content-type": "text/html" }).end('<!doctype html><body><script type="module" src="/jobs.js"></script></body>');
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  url = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}/`;
  browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium", headless: true, args: CHROMIUM_ARGS });
}, 60_000);
afterAll(async () => {
  await browser?.close();
  server?.closeAllConnections();
  server?.close();
});
afterEach(async () => {
  await context?.close();
});

/** Opens `names` as tabs of one new context, on one new board database. */
async function openTabs(...names: string[]): Promise<Page[]> {
  context = await browser.newContext();
  const db = `jobs-${crypto.randomUUID()}`;
  const pages: Page[] = [];
  for (const tab of names) {
    const page = await context.newPage();
    await page.goto(`${url}?tab=${tab}&db=${db}`);
    await page.waitForSelector("body[data-ready=true]", { state: "attached" });
    pages.push(page);
  }
  return pages;
}

describe("the IndexedDB job board in several tabs", { timeout: 60_000 }, () => {
  it("two tabs race to claim the same 50 jobs: each job is won by exactly one tab, none lost", async () => {
    const [a, b] = (await openTabs("A", "B")) as [Page, Page];
    const posted = await a.evaluate(() => jobs.post(50));
    const races = [a, b].map((p) => p.evaluate(() => jobs.race()));
    await a.evaluate(() => jobs.go());
    const [ra, rb] = await Promise.all(races);
    if (!ra || !rb) throw new Error("a tab did not answer");
    expect(ra.won.filter((uuid) => rb.won.includes(uuid))).toEqual([]); // never both
    expect([...ra.won, ...rb.won].sort()).toEqual([...posted].sort()); // none lost
    expect(ra.refused + rb.refused).toBeGreaterThan(0); // they did race for the same jobs
    expect(new Set(await b.evaluate(() => jobs.states()))).toEqual(new Set(["COMPLETE"]));
  });

  it("a tab waiting for jobs is woken by another tab's post, and by its abandon", async () => {
    const [a, b] = (await openTabs("A", "B")) as [Page, Page];
    const first = b.evaluate(() => jobs.wait());
    const [uuid] = await a.evaluate(() => jobs.post(1));
    expect(await first).toEqual([uuid]);

    const claim = await a.evaluate((u) => jobs.claim(u), uuid as string);
    const second = b.evaluate(() => jobs.wait()); // nothing unclaimed now: it waits
    await a.evaluate((c) => jobs.abandon(c), claim);
    expect(await second).toEqual([uuid]);
  });
});
