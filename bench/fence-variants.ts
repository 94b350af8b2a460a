// Prices zero-wait fence checks against the backend's (issue 12): `npx tsx bench/fence-variants.ts`.
// Raw IndexedDB on a database the backend made (its layout), one atom per commit, the kinds
// interleaved commit by commit, in alternating order; µs per commit, mean of each kind.
import { inChromium } from "./chromium.js";

const rounds = await inChromium({ "/bench.js": "./fence-variants-page.ts" }, async (page) => {
  await page.waitForFunction(() => "runFenceVariants" in globalThis);
  const out: Record<string, number>[] = [];
  for (let r = 0; r < 3; r++) out.push(await page.evaluate((n) => (globalThis as unknown as { runFenceVariants: (n: number) => Promise<Record<string, number>> }).runFenceVariants(n), 500));
  return out;
});
console.log("µs per commit: unfenced | put to `superseded` (the backend's check) | get + abort/commit in its handler | fence-index key cursor + same | put to an index-free store");
for (const r of rounds) console.log(JSON.stringify(r));
