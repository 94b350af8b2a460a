// <taskflow-viewer> in Chromium: one screenshot per state of the booking flow (pending, running,
// waiting for input, reverted, failed), written to docs/screenshots/ for the README, and what a
// real browser can tell that happy-dom cannot: the computed fill of each atom's node, and that
// every label fits its node with real fonts. The running case is followed live, from the
// engine's BroadcastChannel (taskflow-ts/idb), as another tab would.
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { page } from "vitest/browser";
import { broadcastTransitions, observeTransitions } from "taskflow-ts/idb";
import { readSnapshot } from "taskflow-ts";
import { defineViewer, STATE_COLOURS, tabsSource, type TaskflowViewer } from "taskflow-ts/viewer";
import { showCase, type ViewerCase } from "../fixtures/viewer-flows.js";

defineViewer();
// The test page's iframe is narrower than the viewer: make room for 800 px.
beforeAll(() => page.viewport(900, 700));
const cleanup: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanup.splice(0)) c();
});

function mount(): TaskflowViewer {
  const viewer = document.createElement("taskflow-viewer");
  // The screenshot's size: small PNGs for the README.
  viewer.style.cssText = "width: 800px; height: 500px; overflow: hidden; padding: 8px; box-sizing: border-box;";
  document.body.append(viewer);
  cleanup.push(() => viewer.remove());
  return viewer;
}

const root = (v: TaskflowViewer) => v.shadowRoot as ShadowRoot;
const nodeOf = (v: TaskflowViewer, atom: string) => [...root(v).querySelectorAll("g.atom")].find((g) => g.getAttribute("data-atom") === atom);
/** The computed fill of an atom's node, as Chromium paints it. */
const fillOf = (v: TaskflowViewer, atom: string) => getComputedStyle(nodeOf(v, atom)?.querySelector("rect") as Element).fill;
const rgb = (hex: string) => `rgb(${[1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16)).join(", ")})`;

async function shoot(viewer: TaskflowViewer, which: ViewerCase): Promise<void> {
  await viewer.updateComplete;
  await page.screenshot({ element: viewer, path: `../../docs/screenshots/viewer-${which}.png` });
}

/** Bounded polling: a BroadcastChannel delivers in a later task, and the viewer fires no event for it. */
async function until(done: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (done()) return;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Every label fits inside its node's box, with the fonts Chromium really uses. */
function labelsFit(viewer: TaskflowViewer): void {
  for (const g of root(viewer).querySelectorAll("g.atom")) {
    const width = Number(g.querySelector("rect")?.getAttribute("width"));
    for (const text of g.querySelectorAll("text")) {
      expect((text as SVGTextElement).getComputedTextLength(), `"${text.textContent}" in ${g.getAttribute("data-atom")}`).toBeLessThanOrEqual(width - 4);
    }
  }
}

describe("<taskflow-viewer> in Chromium, one screenshot per state", () => {
  it("pending: five grey atoms in two subflows", async () => {
    const { graph, snapshot } = await showCase("pending");
    const viewer = mount();
    Object.assign(viewer, { graph, snapshot });
    await viewer.updateComplete;
    expect(root(viewer).querySelectorAll("g.atom")).toHaveLength(5);
    expect(root(viewer).querySelectorAll("g.group")).toHaveLength(2);
    for (const atom of ["wait:nights", "reserve", "quote", "charge", "confirm"]) expect(fillOf(viewer, atom)).toBe(rgb(STATE_COLOURS.PENDING));
    labelsFit(viewer);
    await shoot(viewer, "pending");
    // A page's own colours, through a custom property on the element.
    viewer.style.setProperty("--tf-pending", "#102030");
    expect(fillOf(viewer, "quote")).toBe("rgb(16, 32, 48)");
  });

  it("waiting for input, then running: followed live from the runner's broadcast", async () => {
    const viewer = mount();
    let stopBroadcast: (() => void) | undefined;
    const shown = await showCase("running", {
      onPrepared: ({ graph, snapshot, engine, backend }) => {
        stopBroadcast = broadcastTransitions(engine);
        // The timeline stamps live transitions with the viewer's clock: a steady one here, so the
        // screenshot is the same on every run.
        let time = 0;
        Object.assign(viewer, { now: () => (time += 120), graph, snapshot, source: tabsSource(observeTransitions, engine.flowDetailId, { read: () => readSnapshot(backend, engine.flowDetailId) }) });
      },
    });
    cleanup.push(() => stopBroadcast?.());
    await until(() => nodeOf(viewer, "charge")?.getAttribute("data-state") === "RUNNING", "charge to be drawn RUNNING");
    await viewer.updateComplete;
    expect(fillOf(viewer, "charge")).toBe(rgb(STATE_COLOURS.RUNNING));
    for (const atom of ["wait:nights", "reserve", "quote"]) expect(fillOf(viewer, atom)).toBe(rgb(STATE_COLOURS.SUCCESS));
    expect(root(viewer).querySelector(".badge")?.textContent).toBe("RUNNING");
    labelsFit(viewer);
    await shoot(viewer, "running");
    shown.release?.();
    await shown.run;
    await until(() => viewer.flowState === "SUCCESS", "the flow's end");

    // Waiting for input: the snapshot of a flow suspended at its wait.
    const waiting = await showCase("waiting");
    Object.assign(viewer, { source: undefined, graph: waiting.graph, snapshot: waiting.snapshot });
    await viewer.updateComplete;
    const waits = [...root(viewer).querySelectorAll("g.atom[data-waiting]")].map((g) => g.getAttribute("data-atom"));
    expect(waits).toEqual(["wait:nights"]);
    expect(fillOf(viewer, "wait:nights")).toBe(rgb(STATE_COLOURS.waiting));
    expect(getComputedStyle(nodeOf(viewer, "wait:nights")?.querySelector("rect") as Element).strokeDasharray).not.toBe("none");
    await shoot(viewer, "waiting");
  });

  it("reverted: every atom that ran is undone, the one that failed has a red border", async () => {
    const { graph, snapshot } = await showCase("reverted");
    const viewer = mount();
    Object.assign(viewer, { graph, snapshot });
    await viewer.updateComplete;
    for (const atom of ["wait:nights", "reserve", "quote", "charge"]) expect(fillOf(viewer, atom)).toBe(rgb(STATE_COLOURS.REVERTED));
    expect(fillOf(viewer, "confirm")).toBe(rgb(STATE_COLOURS.PENDING));
    const charge = getComputedStyle(nodeOf(viewer, "charge")?.querySelector("rect") as Element);
    expect([charge.stroke, charge.strokeWidth]).toEqual(["rgb(185, 28, 28)", "3px"]);
    labelsFit(viewer);
    await shoot(viewer, "reverted");
  });

  it("failed: the atom whose revert failed is filled dark red, the flow is FAILURE", async () => {
    const { graph, snapshot } = await showCase("failed");
    const viewer = mount();
    Object.assign(viewer, { graph, snapshot });
    await viewer.updateComplete;
    expect(fillOf(viewer, "reserve")).toBe(rgb(STATE_COLOURS.REVERT_FAILURE));
    expect([...root(viewer).querySelectorAll("g.atom[data-failed]")].map((g) => g.getAttribute("data-atom"))).toEqual(["reserve", "charge"]);
    expect(root(viewer).querySelector(".badge")?.textContent).toBe("FAILURE");
    labelsFit(viewer);
    await shoot(viewer, "failed");
  });
});
