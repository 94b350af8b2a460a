// A job handed between runtimes (issue 13): a tab and the edge cannot share one test, so each
// runtime's test exports what it half-ran into a fixture (fixed ids and clock: the same bytes
// every run) and imports the fixture the other runtime wrote. Here, Chromium's half:
// - the invoice flow, half-run in a tab's IndexedDB, exports as test/fixtures/handoff/tab-half-run.json
//   (and, run by another definition of the flow, as tab-half-run-other-definition.json), which
//   test/workerd/edge-handoff.test.ts posts to the edge and finishes there, or refuses;
// - edge-half-run.json, exported at the edge by that test, is imported here and finished by a
//   tab's conductor over the IndexedDB job board; another definition is refused (the job trashed).
// The fixtures are compared with toMatchFileSnapshot: run with -u to write them anew.
import { readFileSync } from "node:fs";
import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import type { PortableLogBook } from "../../src/jobs/index.js";
import { tabPages } from "./tab-pages.js";

type Finished = { job: string; executed: string[]; trashed?: { name: string; message: string }; flow: string; results: Record<string, unknown> };
declare const handoff: {
  halfRun(prefix: string, definition: "same" | "other"): Promise<PortableLogBook>;
  finish(logBook: PortableLogBook, definition: "same" | "other"): Promise<Finished>;
};

const fixture = (name: string) => new URL(`../fixtures/handoff/${name}`, import.meta.url);
const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;
const openTabs = tabPages(new URL("./handoff-page.ts", import.meta.url), "handoff");

describe("a job handed between a tab and the edge", { timeout: 60_000 }, () => {
  it("a tab half-runs the invoice and exports its log book: the fixture the edge finishes", async () => {
    const [tab] = (await openTabs("A")) as [Page];
    const exported = await tab.evaluate(() => handoff.halfRun("tab", "same"));
    expect(exported.flows[0]?.atoms.map((a) => [a.name, a.state])).toEqual([["total", "SUCCESS"]]);
    expect(exported.flows[0]?.detail.state).toBe("SUSPENDED");
    await expect(json(exported)).toMatchFileSnapshot(fixture("tab-half-run.json").pathname);
    const other = await tab.evaluate(() => handoff.halfRun("tab-other", "other"));
    await expect(json(other)).toMatchFileSnapshot(fixture("tab-half-run-other-definition.json").pathname);
  });

  it("a tab finishes the invoice the edge half-ran: the step done at the edge is not run again", async () => {
    const [tab] = (await openTabs("A")) as [Page];
    const edge = JSON.parse(readFileSync(fixture("edge-half-run.json"), "utf8")) as PortableLogBook;
    const done = await tab.evaluate((book) => handoff.finish(book, "same"), edge);
    expect(done).toMatchObject({ job: "COMPLETE", flow: "SUCCESS", executed: ["sign", "file"] });
    expect(done.results["total"]).toBe(1400); // the edge's result
    expect(done.results["file"]).toMatch(/^globex\/1400\/[0-9a-f]{8}$/);
  });

  it("a tab with another definition of the flow refuses the edge's log book: the job is trashed, nothing runs", async () => {
    const [tab] = (await openTabs("A")) as [Page];
    const edge = JSON.parse(readFileSync(fixture("edge-half-run.json"), "utf8")) as PortableLogBook;
    const refused = await tab.evaluate((book) => handoff.finish(book, "other"), edge);
    expect(refused).toMatchObject({ job: "TRASHED", flow: "SUSPENDED", executed: [] });
    expect(refused.trashed?.name).toBe("IncompatibleVersion");
    expect(refused.trashed?.message).toContain('atom "sign": provides changed from [signature] to [seal]');
  });
});
