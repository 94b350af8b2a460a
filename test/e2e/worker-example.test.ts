// The Web Worker example (examples/worker) in Debian's Chromium, driven from Node with
// playwright-core: the report is crunched in the worker, waits for its title across a reload,
// and is published; the README shows the example's two files word for word.
import { readFileSync } from "node:fs";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startWorkerExampleServer } from "../../examples/worker/serve.js";
import { CHROMIUM_ARGS } from "../../vitest.browser.config.js";

let server: { url: string; close: () => Promise<void> };
let browser: Browser;
beforeAll(async () => {
  server = await startWorkerExampleServer();
  browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium", headless: true, args: CHROMIUM_ARGS });
}, 60_000);
afterAll(async () => {
  await browser.close();
  await server.close();
});

const step = (page: Page) => page.textContent("#step");
async function ready(page: Page): Promise<void> {
  await page.waitForSelector("body[data-ready=true]");
}

describe("the Web Worker example", () => {
  it("is shown in the README word for word", () => {
    const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
    for (const file of ["flows.worker.ts", "main.ts"]) {
      expect(readme, file).toContain(readFileSync(new URL(`../../examples/worker/${file}`, import.meta.url), "utf8").trim());
    }
  });

  it("crunches in the worker, waits for a title across a reload, and publishes", async () => {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await page.goto(server.url);
      await ready(page);
      expect(await step(page)).toBe("A title for the report");
      expect(await page.$eval("#bar", (bar) => (bar as HTMLProgressElement).value)).toBe(1);
      const id = await page.evaluate(() => localStorage.getItem("report"));

      await page.reload();
      await ready(page);
      expect(await step(page)).toBe("A title for the report");
      expect(await page.evaluate(() => localStorage.getItem("report"))).toBe(id); // the same flow, resumed

      await page.fill("#title", "Sales");
      await page.click("#send");
      await page.waitForFunction(() => document.getElementById("step")?.textContent?.startsWith("Sales"));
      // The sum of i % 7 for i up to 30,000,000: 21 for each of its 4,285,714 full weeks, and 1 + 2.
      expect(await step(page)).toBe("Sales (2026): 89999997");
    } finally {
      await context.close();
    }
  }, 60_000);
});
