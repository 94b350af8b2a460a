// The IndexedDB job board across tabs: pages of one browser context share its IndexedDB, in
// Debian's Chromium driven with playwright-core. Two tabs racing for the same jobs each win some,
// never the same one; a wait in one tab is woken by a post or an abandon in another (issue 13).
import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { tabPages } from "./tab-pages.js";

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

const openTabs = tabPages(new URL("./jobboard-page.ts", import.meta.url), "jobs");
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
