// One flow, several tabs of one origin (pages of one browser context share its IndexedDB and Web
// Locks), in Debian's Chromium driven with playwright-core: each step executes once, a closed
// tab's flow is finished by another, a tab that does not run the flow shows its progress from
// the runner's broadcast transitions, and a frozen tab whose lock was stolen cannot write when it
// thaws (issue 12).
import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { tabPages } from "./tab-pages.js";

type Tabs = {
  create(): Promise<string>;
  block(name: string): void;
  reached(): Promise<void>;
  status(): "idle" | "waiting" | "running" | "gate";
  release(): void;
  run(id: string, steal?: boolean): Promise<{ state: string } | { error: string; message: string }>;
  executed(): string[];
  stored(id: string): Promise<{ state: string; epoch?: number; atoms: Record<string, [string, unknown]> }>;
  write(id: string, epoch: number): Promise<string>;
  observe(id: string): void;
  view(): { flow?: string; atoms: Record<string, string> };
  heard(): string[];
};
declare const tabs: Tabs;

const openTabs = tabPages(new URL("./tabs-page.ts", import.meta.url), "tabs");
const executed = (page: Page) => page.evaluate(() => JSON.parse(localStorage.getItem(`executed:${new URLSearchParams(location.search).get("tab")}`) ?? "[]") as string[]);

describe("one flow in several tabs (IndexedDB + Web Locks)", { timeout: 30_000 }, () => {
  it("two tabs running one flow at once: each step executes exactly once, both end SUCCESS", async () => {
    const [a, b] = (await openTabs("A", "B")) as [Page, Page];
    const id = await a.evaluate(() => tabs.create());
    for (const p of [a, b]) await p.evaluate(() => tabs.block("t2"));
    const runs = [a, b].map((p) => p.evaluate((flow) => tabs.run(flow), id));
    // One tab holds the flow (stopped at t2), the other waits for its lock.
    const statuses = () => Promise.all([a, b].map((p) => p.evaluate(() => tabs.status())));
    await expect.poll(async () => (await statuses()).sort()).toEqual(["gate", "waiting"]);
    for (const p of [a, b]) await p.evaluate(() => tabs.release());
    expect(await Promise.all(runs)).toEqual([{ state: "SUCCESS" }, { state: "SUCCESS" }]);
    const all = [...(await executed(a)), ...(await executed(b))].sort();
    expect(all).toEqual(["t1", "t2", "t3", "t4"]);
    expect((await a.evaluate((flow) => tabs.stored(flow), id)).state).toBe("SUCCESS");
  });

  it("closing the running tab lets the waiting one finish the flow; steps that succeeded are not run again", async () => {
    const [a, b] = (await openTabs("A", "B")) as [Page, Page];
    const id = await a.evaluate(() => tabs.create());
    await a.evaluate(() => tabs.block("t3"));
    void a.evaluate((flow) => tabs.run(flow), id).catch(() => {}); // ends with the page
    await a.evaluate(() => tabs.reached());
    const other = b.evaluate((flow) => tabs.run(flow), id);
    await expect.poll(() => b.evaluate(() => tabs.status())).toBe("waiting"); // for A's lock
    await a.close();
    expect(await other).toEqual({ state: "SUCCESS" });
    expect(await executed(b)).toEqual(["t3", "t4"]); // t3 was RUNNING when A went: it runs again
    const stored = await b.evaluate((flow) => tabs.stored(flow), id);
    expect(stored.atoms).toEqual({ t1: ["SUCCESS", "t1@A"], t2: ["SUCCESS", "t2@A"], t3: ["SUCCESS", "t3@B"], t4: ["SUCCESS", "t4@B"] });
  });

  it("a tab that does not hold the flow shows its progress (BroadcastChannel); when the holder closes, it takes the lock and finishes from IndexedDB", async () => {
    const [a, b] = (await openTabs("A", "B")) as [Page, Page];
    const id = await a.evaluate(() => tabs.create());
    await b.evaluate((flow) => tabs.observe(flow), id);
    await a.evaluate(() => tabs.block("t3"));
    void a.evaluate((flow) => tabs.run(flow), id).catch(() => {}); // ends with the page
    await a.evaluate(() => tabs.reached());
    // B runs nothing yet: what it shows came from A, and is what A stored.
    const progress = { flow: "RUNNING", atoms: { t1: "SUCCESS", t2: "SUCCESS", t3: "RUNNING" } };
    await expect.poll(() => b.evaluate(() => tabs.view())).toEqual(progress);
    const stored = await b.evaluate((flow) => tabs.stored(flow), id);
    expect({ flow: stored.state, atoms: Object.fromEntries(Object.entries(stored.atoms).filter(([, [state]]) => state !== "PENDING").map(([name, [state]]) => [name, state])) }).toEqual(progress);
    expect(await b.evaluate(() => tabs.heard())).toEqual(["tabs RUNNING", "t1 RUNNING", "t1 SUCCESS", "t2 RUNNING", "t2 SUCCESS", "t3 RUNNING"]);
    expect(await b.evaluate(() => tabs.executed())).toEqual([]);

    const takeOver = b.evaluate((flow) => tabs.run(flow), id);
    await expect.poll(() => b.evaluate(() => tabs.status())).toBe("waiting"); // for A's lock
    await a.close();
    expect(await takeOver).toEqual({ state: "SUCCESS" });
    expect(await b.evaluate(() => tabs.executed())).toEqual(["t3", "t4"]); // t1 and t2 stay A's
    await expect.poll(() => b.evaluate(() => tabs.view())).toEqual({ flow: "SUCCESS", atoms: { t1: "SUCCESS", t2: "SUCCESS", t3: "SUCCESS", t4: "SUCCESS" } });
    expect((await b.evaluate((flow) => tabs.stored(flow), id)).atoms).toEqual({ t1: ["SUCCESS", "t1@A"], t2: ["SUCCESS", "t2@A"], t3: ["SUCCESS", "t3@B"], t4: ["SUCCESS", "t4@B"] });
  });

  it("a frozen tab whose lock another tab stole cannot write when it thaws: LockLost, nothing of it stored", async () => {
    const [a, b] = (await openTabs("A", "B")) as [Page, Page];
    const id = await a.evaluate(() => tabs.create());
    await a.evaluate(() => tabs.block("t2"));
    const first = a.evaluate((flow) => tabs.run(flow), id);
    await a.evaluate(() => tabs.reached());
    const cdp = await a.context().newCDPSession(a);
    await cdp.send("Page.setWebLifecycleState", { state: "frozen" });
    // B takes the flow over (WebLockService with steal: true): A, frozen, hears nothing of it.
    expect(await b.evaluate((flow) => tabs.run(flow, true), id)).toEqual({ state: "SUCCESS" });
    const afterB = await b.evaluate((flow) => tabs.stored(flow), id);
    expect(afterB).toMatchObject({ state: "SUCCESS", epoch: 2 });
    await cdp.send("Page.setWebLifecycleState", { state: "active" });
    await a.evaluate(() => tabs.release()); // A's t2 ends: its result must not land
    expect(await first).toMatchObject({ error: "LockLost" });
    // A write under A's token (1), as its writer would have sent, is refused by the backend itself.
    expect(await a.evaluate((flow) => tabs.write(flow, 1), id)).toBe("LockLost");
    expect(await a.evaluate((flow) => tabs.stored(flow), id)).toEqual(afterB);
    expect(afterB.atoms).toEqual({ t1: ["SUCCESS", "t1@A"], t2: ["SUCCESS", "t2@B"], t3: ["SUCCESS", "t3@B"], t4: ["SUCCESS", "t4@B"] });
    expect(await executed(a)).toEqual(["t1", "t2"]);
  });
});
