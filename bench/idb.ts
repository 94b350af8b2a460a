// The IndexedDB section of `npm run bench`: measured in Debian's Chromium with playwright-core.
import { inChromium } from "./chromium.js";
import type { IdbFigure } from "./idb-page.js";

export async function measureIdb(n = 1000, rounds = 5): Promise<IdbFigure[][]> {
  return inChromium({ "/bench.js": "./idb-page.ts" }, async (page) => {
    await page.waitForFunction(() => "runIdbBench" in globalThis);
    return page.evaluate(([count, times]) => (globalThis as unknown as { runIdbBench: (n: number, rounds: number) => Promise<IdbFigure[][]> }).runIdbBench(count, times), [n, rounds] as const);
  });
}
