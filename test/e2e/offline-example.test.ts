// The offline-first example (examples/offline) in Debian's Chromium, two tabs of one context,
// driven with playwright-core: submissions sent while the network is off stay UNCLAIMED on the
// IndexedDB job board; when it is back, the tabs' conductors drain the queue, each task of each
// job executed once (the tabs' counts added up, and the server's), and both tabs show all done
// (issue 13, the offline-first page).
import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { startOfflineServer, type OfflineServer } from "../../examples/offline/serve.js";
import { tabPages } from "./tab-pages.js";

declare const offline: {
  executed: Array<{ task: string; key: string }>;
  states(): Promise<string[]>;
  dispatching(): boolean;
};

let server: OfflineServer;
const openTabs = tabPages({ serve: async () => (server = await startOfflineServer()) }, "offline");

async function send(page: Page, name: string): Promise<void> {
  await page.fill("#name", name);
  await page.fill("#message", `hello from ${name}`);
  await page.click("#send");
}

describe("the offline-first example", { timeout: 60_000 }, () => {
  it("queues submissions in both tabs while offline, UNCLAIMED; back online, they all run once and both tabs show them done", async () => {
    const [a, b] = (await openTabs("A", "B")) as [Page, Page];
    const context = openTabs.context();
    await context.setOffline(true);
    for (const page of [a, b]) await page.waitForSelector("body[data-network=offline][data-conductor=stopped]", { state: "attached" });

    const names = ["A0", "A1", "A2", "B0", "B1", "B2"];
    for (const name of names) await send(name.startsWith("A") ? a : b, name);
    for (const page of [a, b]) await page.waitForFunction((n) => document.querySelectorAll("#jobs li").length === n, names.length);
    expect(await a.evaluate(() => offline.states())).toEqual(names.map(() => "UNCLAIMED"));
    expect(await Promise.all([a, b].map((page) => page.evaluate(() => offline.dispatching())))).toEqual([false, false]);
    expect(server.uploads).toEqual([]);
    // Tab B lists A's submissions too (in posting order, unless two fell in one millisecond).
    expect((await b.$$eval("#jobs li", (items) => items.map((li) => li.textContent?.split(":")[0]))).sort()).toEqual(names);

    await context.setOffline(false);
    for (const page of [a, b]) await page.waitForSelector(`body[data-done="${names.length}"]`, { state: "attached" });

    expect(await b.evaluate(() => offline.states())).toEqual(names.map(() => "COMPLETE"));
    for (const page of [a, b]) {
      expect(await page.$$eval("#jobs li progress", (bars) => bars.map((bar) => (bar as HTMLProgressElement).value))).toEqual(names.map(() => 1));
    }
    // Every task of every job executed exactly once, in one tab or the other.
    const executed = (await Promise.all([a, b].map((page) => page.evaluate(() => offline.executed)))).flat();
    for (const task of ["sign", "send"]) {
      const keys = executed.filter((e) => e.task === task).map((e) => e.key);
      expect(keys.length, task).toBe(names.length);
      expect(new Set(keys).size, task).toBe(names.length);
    }
    // And the server received each submission once.
    expect(server.uploads.map((u) => u.name).sort()).toEqual(names);
    expect(new Set(server.uploads.map((u) => u.idempotencyKey)).size).toBe(names.length);
  });
});
