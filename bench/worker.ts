// The Web Worker section of `npm run bench`: the same flow on IndexedDB in the page and in a
// Worker, in Debian's Chromium with playwright-core.
import { inChromium } from "./chromium.js";
import type { WorkerFigure } from "./worker-page.js";

export async function measureWorker(n = 1000, rounds = 5): Promise<WorkerFigure[][]> {
  return inChromium({ "/bench.js": "./worker-page.ts", "/worker.js": "./worker-runner.ts" }, async (page) => {
    await page.waitForFunction(() => "runWorkerBench" in globalThis);
    return page.evaluate(([count, times]) => (globalThis as unknown as { runWorkerBench: (n: number, rounds: number) => Promise<WorkerFigure[][]> }).runWorkerBench(count, times), [n, rounds] as const);
  });
}
