// The Web Worker pool section of `npm run bench`: the Mandelbrot flow on 1, 2 and 4 workers and
// in the page, and a remote no-op's overhead, in Debian's Chromium with playwright-core.
import { inChromium } from "./chromium.js";
import type { PoolFigure } from "./pool-page.js";

export async function measurePool(rounds = 5): Promise<{ figures: PoolFigure[][]; cores: number }> {
  return inChromium({ "/bench.js": "./pool-page.ts", "/pool-worker.js": "./pool-worker.ts", "/pool-raw-worker.js": "./pool-raw-worker.ts" }, async (page) => {
    await page.waitForFunction(() => "runPoolBench" in globalThis);
    const cores = await page.evaluate(() => navigator.hardwareConcurrency);
    const figures = await page.evaluate((times) => (globalThis as unknown as { runPoolBench: (rounds: number) => Promise<PoolFigure[][]> }).runPoolBench(times), rounds);
    return { figures, cores };
  });
}
