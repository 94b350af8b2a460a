// The Mandelbrot example (examples/mandelbrot) in Debian's Chromium, driven from Node with
// playwright-core (issue 14): the page's flow computes row bands on a pool of Web Workers and
// draws each as it arrives; reloaded mid-way, it computes only the bands not yet stored.
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bandNames, computeBand, IMAGE } from "../../examples/mandelbrot/bands.js";
import { startMandelbrotServer } from "../../examples/mandelbrot/serve.js";
import { CHROMIUM_ARGS } from "../../vitest.browser.config.js";

let server: { url: string; close: () => Promise<void> };
let browser: Browser;
beforeAll(async () => {
  server = await startMandelbrotServer();
  browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium", headless: true, args: CHROMIUM_ARGS });
}, 60_000);
afterAll(async () => {
  await browser.close();
  await server.close();
});

const data = (page: Page, key: string) => page.evaluate((k) => document.body.dataset[k] ?? "", key);
const words = (s: string) => s.split(" ").filter(Boolean);

/** The whole image as the bands compute it, in Node: what the canvas must show. */
function expectedImage(): Uint8ClampedArray {
  const rows = Math.ceil(IMAGE.height / IMAGE.bands);
  const out = new Uint8ClampedArray(IMAGE.width * IMAGE.height * 4);
  for (let i = 0; i < IMAGE.bands; i++) {
    const top = i * rows;
    out.set(computeBand({ top, rows: Math.min(rows, IMAGE.height - top), width: IMAGE.width, height: IMAGE.height, maxIter: IMAGE.maxIter }), top * IMAGE.width * 4);
  }
  return out;
}

/**
 * Runs in the page before its scripts, at each load: on the first, keeps the workers it creates
 * and terminates them once `data-done` reaches 3, then notes it in sessionStorage (kept across a
 * reload, so the reloaded page's workers run on).
 */
function stopWorkersAtThreeBands(): void {
  if (sessionStorage.getItem("workers-stopped")) return;
  const workers: Worker[] = [];
  const Native = Worker;
  window.Worker = class extends Native {
    constructor(url: string | URL, options?: WorkerOptions) {
      super(url, options);
      workers.push(this);
    }
  };
  new MutationObserver(() => {
    if (sessionStorage.getItem("workers-stopped") || Number(document.body?.dataset.done ?? 0) < 3) return;
    for (const w of workers) w.terminate();
    sessionStorage.setItem("workers-stopped", "1");
  }).observe(document, { attributes: true, subtree: true, attributeFilter: ["data-done"] });
}

describe("the Mandelbrot example", () => {
  it("reloaded mid-way, computes only the bands not yet stored, and draws the whole image", async () => {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      // Mid-way for sure: the first load's workers are stopped in the page itself as soon as it
      // shows 3 bands done (a mutation observer runs before the page handles another message),
      // not from here, where the reload raced the last bands on a busy machine (all 20 stored).
      await page.addInitScript(stopWorkersAtThreeBands);
      await page.goto(`${server.url}?workers=2`);
      await page.waitForFunction(() => sessionStorage.getItem("workers-stopped") === "1", undefined, { timeout: 60_000 });
      await page.reload();
      await page.waitForFunction(() => document.body.dataset.state === "SUCCESS", undefined, { timeout: 120_000 });

      const stored = words(await data(page, "stored"));
      const executed = words(await data(page, "executed"));
      expect(stored.length).toBeGreaterThanOrEqual(3);
      expect(stored.length).toBeLessThan(IMAGE.bands); // reloaded mid-way, not after the end
      // After the reload, each band not stored ran once, and no stored band ran again.
      expect([...executed].sort()).toEqual(bandNames().filter((n) => !stored.includes(n)).sort());
      const pixels = await page.evaluate(() => {
        const canvas = document.getElementById("image") as HTMLCanvasElement;
        return Array.from(canvas.getContext("2d")?.getImageData(0, 0, canvas.width, canvas.height).data ?? []);
      });
      expect(pixels.length).toBe(IMAGE.width * IMAGE.height * 4);
      const expected = expectedImage();
      const differ = pixels.findIndex((v, i) => v !== expected[i]);
      expect(differ).toBe(-1);
    } finally {
      await context.close();
    }
  }, 240_000);
});
