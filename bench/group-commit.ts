// The group-commit section of `npm run bench`: measured in Debian's Chromium with playwright-core.
import { inChromium } from "./chromium.js";
import type { GroupCommitFigure } from "./group-commit-page.js";

export async function measureGroupCommit(jobs = 100, atoms = 10, rounds = 3): Promise<GroupCommitFigure[][]> {
  return inChromium({ "/bench.js": "./group-commit-page.ts" }, async (page) => {
    await page.waitForFunction(() => "runGroupCommitBench" in globalThis);
    return page.evaluate(([j, a, r]) => (globalThis as unknown as { runGroupCommitBench: (j: number, a: number, r: number) => Promise<GroupCommitFigure[][]> }).runGroupCommitBench(j, a, r), [jobs, atoms, rounds] as const);
  });
}
