// The wizard in Debian's Chromium with a persistent profile: reloads, a browser restart, a page
// killed mid-step and a cancel, driven from Node with playwright-core; what the person sees at
// each point (issue 15, item 5), with the screenshots of the README (docs/screenshots/wizard-*.png).
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startWizardServer } from "../../examples/wizard/serve.js";
import { CHROMIUM_ARGS } from "../../vitest.browser.config.js";

let server: { url: string; close: () => Promise<void> };
const profiles: string[] = [];
beforeAll(async () => {
  server = await startWizardServer();
}, 60_000);
afterAll(async () => {
  await server.close();
  for (const p of profiles) rmSync(p, { recursive: true, force: true });
});

const profile = () => {
  const dir = mkdtempSync(join(tmpdir(), "taskflow-wizard-"));
  profiles.push(dir);
  return dir;
};
const launch = (dir: string) =>
  chromium.launchPersistentContext(dir, { executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium", headless: true, args: CHROMIUM_ARGS });

async function open(context: BrowserContext, query = ""): Promise<Page> {
  const page = context.pages()[0] ?? (await context.newPage());
  await page.goto(server.url + query);
  await page.waitForSelector("body[data-ready=true]");
  return page;
}
const stepIs = (page: Page, text: string) => page.waitForFunction((t) => document.getElementById("step")?.textContent === t, text);
/** Answers the question asked: types it, or picks it among the choices offered. */
async function answer(page: Page, value: string, next: string): Promise<void> {
  await type(page, value);
  await page.click("#next");
  await stepIs(page, next);
}
async function type(page: Page, value: string): Promise<void> {
  if (await page.isVisible("#answer")) await page.fill("#answer", value);
  else await page.check(`#choice-${value}`);
}
const SHOTS = new URL("../../docs/screenshots/", import.meta.url);
/** The wizard and its viewer, as the README shows them. */
async function shoot(page: Page, name: string): Promise<void> {
  mkdirSync(SHOTS, { recursive: true });
  await page.evaluate(() => (document.getElementById("viewer") as HTMLElement & { updateComplete: Promise<void> }).updateComplete);
  // From the title to the end of the viewer, the width of the page's column.
  const column = await page.locator("h1").boundingBox();
  const viewer = await page.locator("#viewer").boundingBox();
  const x = Math.max(0, (column?.x ?? 0) - 16);
  const width = (viewer?.width ?? 960) + 2 * 32;
  await page.screenshot({ path: new URL(`wizard-${name}.png`, SHOTS).pathname, fullPage: true, clip: { x, y: 0, width, height: Math.ceil((viewer?.y ?? 0) + (viewer?.height ?? 600)) + 24 } });
}
/** The viewer's graph: each drawn atom's state. */
const drawn = (page: Page) =>
  page.evaluate(() =>
    Object.fromEntries([...(document.getElementById("viewer")?.shadowRoot?.querySelectorAll("g.atom") ?? [])].map((g) => [g.getAttribute("data-atom"), g.getAttribute("data-state")])),
  );
const results = async (page: Page) => JSON.parse((await page.textContent("#results")) ?? "{}") as Record<string, unknown>;
declare const ledger: { read(key: string): Promise<string | null> };
/** What the worker counted (examples/wizard/ledger.ts, in IndexedDB). */
const stored = (page: Page, key: string) => page.evaluate((k) => ledger.read(k), key);

describe("the booking wizard survives refresh", () => {
  it("resumes after a reload and after a browser restart; a cancel reverts in reverse order", async () => {
    const dir = profile();
    let context = await launch(dir);
    let page = await open(context);
    await stepIs(page, "Your name:");
    await answer(page, "Ada", "Nights:");
    await answer(page, "2", "Room:");

    await page.reload();
    await page.waitForSelector("body[data-ready=true]");
    await stepIs(page, "Room:");
    expect(await results(page)).toMatchObject({ name: "Ada", greeting: "Welcome, Ada", nights: 2 });
    // The viewer, reading the log book back: its graph drawn, steps not started yet (no stored
    // detail) PENDING from the flow's fingerprint.
    await page.waitForFunction(() => (document.getElementById("viewer")?.shadowRoot?.querySelectorAll("g.atom").length ?? 0) > 0);
    const viewer = await drawn(page);
    expect(viewer).toMatchObject({ greet: "SUCCESS", quote: "PENDING", reserve: "PENDING", pay: "PENDING" });
    expect(Object.keys(viewer)).toHaveLength(8);

    await context.close(); // the whole browser goes away; the profile stays
    context = await launch(dir);
    page = await open(context);
    await stepIs(page, "Room:");
    await answer(page, "double", "Confirm and pay:");
    expect(await results(page)).toMatchObject({ price: 240, reservation: "R-ADA-240" });
    expect([await stored(page, "executed:greet"), await stored(page, "executed:quote"), await stored(page, "executed:reserve")]).toEqual(["1", "1", "1"]);

    await page.click("#cancel");
    await page.waitForFunction(() => document.getElementById("state")?.textContent === "REVERTED");
    expect(JSON.parse((await stored(page, "reverted")) ?? "[]")).toEqual(["reserve", "quote", "greet"]);
    const log = await page.$$eval("#log li", (items) => items.map((li) => li.textContent?.replace(/^\+\d+ ms\s+/, "")));
    const at = (line: string) => log.indexOf(line);
    expect(at("reserve REVERTED")).toBeGreaterThan(-1);
    expect(at("reserve REVERTED")).toBeLessThan(at("quote REVERTED"));
    expect(at("quote REVERTED")).toBeLessThan(at("greet REVERTED"));
    await context.close();
  }, 90_000);

  it("a page killed while a step runs: after a reload the step runs again, no finished step runs twice", async () => {
    const dir = profile();
    let context = await launch(dir);
    let page = await open(context, "?slow=reserve");
    await answer(page, "Grace", "Nights:");
    await answer(page, "3", "Room:");
    await type(page, "single");
    await page.click("#next");
    await page.waitForFunction(async () => (await ledger.read("executed:reserve")) === "1", undefined, { polling: 50 });
    // The count is committed, but a browser closed within milliseconds of a commit was seen to
    // lose it (3 runs in 4 here), and the test would then count the rerun as the first run. The
    // step waits 60 s, so after half a second it is still running when the browser goes.
    await page.waitForTimeout(500);
    await context.close(); // killed while "reserve" is running

    context = await launch(dir);
    page = await open(context);
    await stepIs(page, "Confirm and pay:");
    expect(await stored(page, "executed:reserve")).toBe("2");
    expect(await stored(page, "executed:quote")).toBe("1");
    expect(await stored(page, "executed:greet")).toBe("1");
    expect(await results(page)).toMatchObject({ price: 240, reservation: "R-GRA-240" });
    await context.close();
  }, 90_000);

  it("changing an earlier answer redoes only what depends on it", async () => {
    const context = await launch(profile());
    const page = await open(context);
    await answer(page, "Lin", "Nights:");
    await answer(page, "1", "Room:");
    await answer(page, "double", "Confirm and pay:");
    await page.fill("#change-nights", "4");
    await page.click("#revise-nights");
    await page.waitForFunction(() => document.getElementById("results")?.textContent?.includes('"price": 480'));
    await stepIs(page, "Confirm and pay:");
    expect([await stored(page, "executed:greet"), await stored(page, "executed:quote"), await stored(page, "executed:reserve")]).toEqual(["1", "2", "2"]);
    await context.close();
  }, 90_000);
});

describe("the booking wizard, finished (issue 15, item 5)", () => {
  it("offers choices, speaks the schemas' English, shows a refused change beside it, follows the booking in the viewer, and leaves nothing to do once booked", async () => {
    const context = await launch(profile());
    const page = await open(context);
    // Every label the flow's state ever had: never a reason beside a running flow.
    await page.evaluate(() => {
      const seen: string[] = ((globalThis as unknown as { labels: string[] }).labels = []);
      const state = document.getElementById("state") as HTMLElement;
      new MutationObserver(() => seen.push(state.textContent ?? "")).observe(state, { childList: true, characterData: true, subtree: true });
    });
    await stepIs(page, "Your name:");
    await answer(page, "Ada", "Nights:");
    // A refused answer: the schema's own sentence, in English.
    await page.fill("#answer", "0");
    await page.click("#next");
    await page.waitForFunction(() => document.getElementById("error")?.textContent === "Please book at least one night.");
    expect(await page.textContent("#step")).toBe("Nights:");
    await answer(page, "2", "Room:");
    // An enumerated answer is chosen, not typed.
    expect(await page.isVisible("#answer")).toBe(false);
    expect(await page.$$eval('input[name="choice"]', (inputs) => inputs.map((i) => (i as HTMLInputElement).value))).toEqual(["single", "double"]);
    await page.check("#choice-double");
    await shoot(page, "choices");
    await page.click("#next");
    await stepIs(page, "Confirm and pay:");
    expect(await page.textContent("#next")).toBe("Confirm and pay");
    expect(await page.isChecked("#choice-yes")).toBe(true);

    // A refused change: its message beside that answer, the answer as it was.
    await page.fill("#change-nights", "0");
    await page.click("#revise-nights");
    await page.waitForFunction(() => document.getElementById("change-error-nights")?.textContent === "Please book at least one night.");
    expect(await page.textContent("#error")).toBe("");
    expect(await results(page)).toMatchObject({ nights: 2, price: 240 });
    await shoot(page, "change-refused");

    // The viewer follows the current booking: its graph drawn, every step in its state now.
    await page.waitForFunction(() => document.getElementById("viewer")?.shadowRoot?.querySelector('g.atom[data-atom="reserve"]')?.getAttribute("data-state") === "SUCCESS");
    expect(await drawn(page)).toEqual({
      "wait:name": "SUCCESS", greet: "SUCCESS", "wait:nights": "SUCCESS", "wait:room": "SUCCESS", quote: "SUCCESS", reserve: "SUCCESS", "wait:confirm": "PENDING", pay: "PENDING",
    });

    await page.click("#next"); // yes, pay now
    await stepIs(page, "Booked.");
    // Nothing left to answer or to cancel: it is paid.
    expect(await page.isVisible("#step")).toBe(true);
    for (const id of ["#answer", "#next", 'input[name="choice"]']) expect(await page.isVisible(id), id).toBe(false);
    // The refused draft is gone with its message: the answers as booked.
    expect(await page.inputValue("#change-nights")).toBe("2");
    expect(await page.textContent("#change-error-nights")).toBe("");
    expect(await page.isDisabled("#cancel")).toBe(true);
    expect(await page.isDisabled("#revise-nights")).toBe(true);
    await page.waitForFunction(() => document.getElementById("viewer")?.shadowRoot?.querySelector('g.atom[data-atom="pay"]')?.getAttribute("data-state") === "SUCCESS");
    await shoot(page, "booked");
    const labels = await page.evaluate(() => (globalThis as unknown as { labels: string[] }).labels);
    expect(labels).toContain("SUSPENDED (input)");
    expect(labels.filter((l) => /^(RUNNING|SUCCESS) \(/.test(l))).toEqual([]);

    // A new booking: listed first (newest first), and the viewer follows it.
    const firstBook = await page.evaluate(() => document.querySelector<HTMLOptionElement>("#books option:nth-child(2)")?.value);
    await page.click("#restart");
    await stepIs(page, "Your name:");
    await answer(page, "Bo", "Nights:");
    await page.waitForFunction(() => document.querySelectorAll("#books option").length === 3);
    const options = await page.$$eval("#books option", (o) => o.map((x) => ({ value: (x as HTMLOptionElement).value, text: x.textContent })));
    expect(options[0]).toEqual({ value: "", text: "the current booking" });
    expect(options[1]?.text).toMatch(/\(current\)$/);
    expect(options[2]?.value).toBe(firstBook);
    expect(await drawn(page)).toMatchObject({ "wait:name": "SUCCESS", greet: "SUCCESS", pay: "PENDING" });
    // Another booking chosen: the viewer shows it, done.
    await page.selectOption("#books", firstBook ?? "");
    await page.waitForFunction(() => document.getElementById("viewer")?.shadowRoot?.querySelector('g.atom[data-atom="pay"]')?.getAttribute("data-state") === "SUCCESS");
    await context.close();
  }, 120_000);

  it("offline: the page says what waits for the network, and the payment goes on once back online", async () => {
    const context = await launch(profile());
    const page = await open(context);
    await answer(page, "Ada", "Nights:");
    await answer(page, "1", "Room:");
    await answer(page, "single", "Confirm and pay:");
    await context.setOffline(true);
    await page.waitForFunction(() => document.getElementById("offline")?.textContent?.startsWith("You are offline."));
    expect(await page.textContent("#offline")).toContain("paying waits for the network");
    await page.click("#next");
    // The answer is taken; the payment waits (it is never started offline).
    await page.waitForFunction(() => document.getElementById("viewer")?.shadowRoot?.querySelector('g.atom[data-atom="wait:confirm"]')?.getAttribute("data-state") === "SUCCESS");
    expect(await stored(page, "executed:pay")).toBeNull();
    expect(await page.textContent("#step")).not.toBe("Booked.");
    await shoot(page, "offline");
    await context.setOffline(false);
    await stepIs(page, "Booked.");
    expect(await page.textContent("#offline")).toBe("");
    expect(await stored(page, "executed:pay")).toBe("1");
    await context.close();
  }, 90_000);
});

// With a SharedWorker (Chromium's, and the default) both tabs talk to one runner; with a Worker
// per tab (?worker=dedicated, what a browser without SharedWorker gets) the flow's Web Lock keeps
// the two workers apart and the one that runs broadcasts its transitions to the other tab.
describe.each([
  ["a SharedWorker", "", "shared"],
  ["a Worker per tab", "?worker=dedicated", "dedicated"],
])("the booking wizard in two tabs, its engine in %s", (_, query, kind) => {
  it('each tab shows the other\'s progress; "Confirm and pay" answered in both pays once (issue 12: the flow\'s lock across tabs)', async () => {
    const context = await launch(profile());
    const a = await open(context, query);
    const b = await context.newPage(); // the same flow, found by its key (resumeOrStart)
    await b.goto(server.url + query);
    await b.waitForSelector("body[data-ready=true]");
    expect(await Promise.all([a, b].map((p) => p.evaluate(() => document.body.dataset.worker)))).toEqual([kind, kind]);
    await stepIs(b, "Your name:");
    await answer(a, "Ada", "Nights:");
    await stepIs(b, "Nights:"); // B sent nothing: it shows what A's answer did
    await answer(b, "2", "Room:");
    await stepIs(a, "Room:");
    await answer(a, "double", "Confirm and pay:");
    await stepIs(b, "Confirm and pay:");
    // "yes" is the one choice offered, checked already.
    for (const page of [a, b]) expect(await page.isChecked("#choice-yes")).toBe(true);
    // Both submitted at once, before either tab shows the other's answer: each tab submits on
    // one BroadcastChannel message, which reaches both within a task (two calls from here, one
    // per tab, arrive far apart on a loaded machine, and the second tab then has no question left).
    const arm = (page: Page) =>
      page.evaluate(() => {
        const go = new BroadcastChannel("wizard-test-go");
        (globalThis as unknown as { asked: Promise<string | undefined> }).asked = new Promise((resolve) => {
          go.onmessage = () => {
            const asked = document.getElementById("step")?.dataset.input;
            (document.getElementById("step-form") as HTMLFormElement).requestSubmit();
            go.close();
            resolve(asked);
          };
        });
      });
    await Promise.all([arm(a), arm(b)]);
    await a.evaluate(() => {
      const go = new BroadcastChannel("wizard-test-go");
      go.postMessage("go");
      go.close();
    });
    const asked = (page: Page) => page.evaluate(() => (globalThis as unknown as { asked: Promise<string | undefined> }).asked);
    expect(await Promise.all([asked(a), asked(b)])).toEqual(["confirm", "confirm"]);
    // Both show the booking done, whichever tab's answer was taken.
    for (const page of [a, b]) await stepIs(page, "Booked.");
    expect(await stored(a, "executed:pay")).toBe("1");
    for (const page of [a, b]) expect(await results(page)).toMatchObject({ receipt: "paid 240 for R-ADA-240" });
    expect([await stored(a, "executed:greet"), await stored(a, "executed:quote"), await stored(a, "executed:reserve")]).toEqual(["1", "1", "1"]);
    await context.close();
  }, 90_000);
});

describe("a Worker per tab, the tab running a step closed", () => {
  it("the other tab takes the flow over as soon as the closed tab's lock is released, and the step runs again there (issue 12)", async () => {
    const context = await launch(profile());
    const a = await open(context, "?worker=dedicated&slow=reserve");
    const b = await context.newPage();
    await b.goto(server.url + "?worker=dedicated&slow=reserve");
    await b.waitForSelector("body[data-ready=true]");
    await answer(a, "Grace", "Nights:");
    await answer(a, "3", "Room:");
    await type(a, "single");
    await a.click("#next");
    await a.waitForFunction(async () => (await ledger.read("executed:reserve")) === "1", undefined, { polling: 50 });
    // B shows the step running in A's worker, and waits.
    await b.waitForFunction(() => document.getElementById("viewer")?.shadowRoot?.querySelector('g.atom[data-atom="reserve"]')?.getAttribute("data-state") === "RUNNING");
    expect(await b.textContent("#state")).toBe("RUNNING");
    expect(await b.isVisible("#next")).toBe(false);
    expect(await b.textContent("#working")).toBe("Working on it: reserve…");
    await shoot(b, "waiting");
    await a.close(); // its worker goes with it, and the flow's Web Lock with the worker
    // Nothing is asked of B: it takes over, and the step (60 s on its first run only) runs again.
    await stepIs(b, "Confirm and pay:");
    expect(await stored(b, "executed:reserve")).toBe("2");
    expect(await b.textContent("#working")).toBe("");
    expect(await stored(b, "executed:quote")).toBe("1");
    expect(await results(b)).toMatchObject({ price: 240, reservation: "R-GRA-240" });
    await context.close();
  }, 90_000);
});

describe("a CPU-heavy step", () => {
  it("runs in the worker: the page's event loop stays free while it computes", async () => {
    const BUSY_MS = 1_500;
    const context = await launch(profile());
    const page = await open(context, `?busy=quote&busyMs=${BUSY_MS}`);
    await answer(page, "Ada", "Nights:");
    await answer(page, "2", "Room:");
    // A 10 ms timer chain in the page, on the workers' time line, until the step is done.
    await page.evaluate(() => {
      const ticks: number[] = ((globalThis as unknown as { ticks: number[] }).ticks = []);
      const tick = () => (ticks.push(performance.timeOrigin + performance.now()), setTimeout(tick, 10));
      tick();
    });
    await answer(page, "double", "Confirm and pay:");
    const busy = JSON.parse((await stored(page, "busy:quote")) ?? "[]") as Array<{ from: number; to: number }>;
    expect(busy).toHaveLength(1);
    const [{ from, to }] = busy as [{ from: number; to: number }];
    expect(to - from).toBeGreaterThanOrEqual(BUSY_MS);
    const ticks = await page.evaluate(() => (globalThis as unknown as { ticks: number[] }).ticks);
    const inside = ticks.filter((t) => t > from && t < to);
    const edges = [from, ...inside, to];
    const longestGap = Math.max(...edges.slice(1).map((t, i) => t - (edges[i] as number)));
    console.info(`the page during the worker's ${(to - from).toFixed(0)} ms step: ${inside.length} timer ticks, longest gap ${longestGap.toFixed(1)} ms`);
    // A page that ran the step itself would not tick once in the window (see the contrast in
    // test/browser/worker.test.ts). It ticks throughout: in both halves of it, and at least a
    // third as often as a page left alone (one tick each 10 ms). Not a bound on the longest gap,
    // which a 2-core machine shared with other tests stretches (the page's thread starved while
    // the worker spins) without the worker blocking anything.
    const middle = (from + to) / 2;
    expect([inside.some((t) => t < middle), inside.some((t) => t >= middle)]).toEqual([true, true]);
    expect(inside.length).toBeGreaterThanOrEqual(BUSY_MS / 30);
    await context.close();
  }, 90_000);
});
