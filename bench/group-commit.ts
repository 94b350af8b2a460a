// The group-commit section of `npm run bench`: measured in Debian's Chromium with playwright-core.
import { inChromium } from "./chromium.js";
import type { GroupCommitFigure, RawCeiling } from "./group-commit-page.js";

export async function measureGroupCommit(jobs = 100, atoms = 10, rounds = 3): Promise<{ rounds: GroupCommitFigure[][]; raw: RawCeiling[] }> {
  return inChromium({ "/bench.js": "./group-commit-page.ts" }, async (page) => {
    await page.waitForFunction(() => "runGroupCommitBench" in globalThis);
    const figures = await page.evaluate(([j, a, r]) => (globalThis as unknown as { runGroupCommitBench: (j: number, a: number, r: number) => Promise<GroupCommitFigure[][]> }).runGroupCommitBench(j, a, r), [jobs, atoms, rounds] as const);
    // The same number of batches as the engines commit (a commit per atom and one to finish), `jobs` a transaction.
    const raw: RawCeiling[] = [];
    for (let r = 0; r < rounds; r++) raw.push(await page.evaluate(([b, p]) => (globalThis as unknown as { runRawCeiling: (b: number, p: number) => Promise<RawCeiling> }).runRawCeiling(b, p), [jobs * (atoms + 1), jobs] as const));
    return { rounds: figures, raw };
  });
}
