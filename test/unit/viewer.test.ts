// @vitest-environment happy-dom
// taskflow-ts/viewer in a DOM (happy-dom: fast, no browser): what <taskflow-viewer> draws for a
// log book (groups, atoms by state, the waiting and failed atoms, results and failures, the
// timeline), that no string from a flow becomes markup, and how live changes move it. Colours
// and pixels are checked in Chromium (test/browser/viewer.test.ts), which also writes the
// screenshots.
import { afterEach, describe, expect, it } from "vitest";
import { compile, graphFlow, linearFlow, load, MemoryBackend, readSnapshot, task, Times, unorderedFlow } from "taskflow-ts";
import { connectRunner, exposeRunner } from "taskflow-ts/worker";
import {
  defineViewer, runnerSource, STATE_COLOURS, tabsSource, transitionsFromSnapshot, transitionsFromTrail,
  type TaskflowViewer, type TimelineTransition, type ViewerChange, type ViewerSource,
} from "taskflow-ts/viewer";
import { flows, type Flows } from "../fixtures/worker-flows.js";
import { showCase } from "../fixtures/viewer-flows.js";

defineViewer();
const cleanup: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanup.splice(0)) c();
});

async function mount(props: Partial<Pick<TaskflowViewer, "graph" | "snapshot" | "transitions" | "source" | "now">>): Promise<TaskflowViewer> {
  const viewer = document.createElement("taskflow-viewer");
  Object.assign(viewer, props);
  document.body.append(viewer);
  cleanup.push(() => viewer.remove());
  await viewer.updateComplete;
  return viewer;
}
const shadow = (v: TaskflowViewer) => v.shadowRoot as ShadowRoot;
// By attribute value, not a selector: names here include quotes and brackets.
const node = (v: TaskflowViewer, atom: string) => [...shadow(v).querySelectorAll("g.atom")].find((g) => g.getAttribute("data-atom") === atom);
const states = (v: TaskflowViewer) => Object.fromEntries([...shadow(v).querySelectorAll("g.atom")].map((g) => [g.getAttribute("data-atom"), g.getAttribute("data-state")]));
const fill = (v: TaskflowViewer, atom: string) => node(v, atom)?.querySelector("rect")?.getAttribute("fill");

/** A source a test drives by hand. */
function manualSource() {
  const listeners = new Set<(c: ViewerChange) => void>();
  const source: ViewerSource & { emit(c: ViewerChange): void; listeners: number } = {
    subscribe(onChange) {
      listeners.add(onChange);
      return () => listeners.delete(onChange);
    },
    emit: (c) => listeners.forEach((l) => l(c)),
    get listeners() {
      return listeners.size;
    },
  };
  return source;
}

describe("<taskflow-viewer> draws a log book", () => {
  it("draws every atom in compile order, each subflow as a group, and the edges between atoms (not the flow markers)", async () => {
    const { graph, snapshot } = await showCase("pending");
    const viewer = await mount({ graph, snapshot });
    expect(states(viewer)).toEqual({ "wait:nights": "PENDING", reserve: "PENDING", quote: "PENDING", charge: "PENDING", confirm: "PENDING" });
    expect([...shadow(viewer).querySelectorAll("g.group")].map((g) => g.getAttribute("data-group"))).toEqual(["prepare", "payment"]);
    const edges = [...shadow(viewer).querySelectorAll("path.edge")].map((p) => `${p.getAttribute("data-from")}→${p.getAttribute("data-to")}`).sort();
    expect(edges).toEqual(["charge→confirm", "quote→charge", "reserve→charge", "wait:nights→quote", "wait:nights→reserve"]);
    // Each atom lies inside its group's box.
    const box = (el: Element | null | undefined) => ({ x: Number(el?.getAttribute("x")), y: Number(el?.getAttribute("y")), w: Number(el?.getAttribute("width")), h: Number(el?.getAttribute("height")) });
    const group = box(shadow(viewer).querySelector('g.group[data-group="payment"] rect'));
    for (const name of ["charge", "confirm"]) {
      const b = box(node(viewer, name)?.querySelector("rect"));
      expect(b.x).toBeGreaterThanOrEqual(group.x);
      expect(b.x + b.w).toBeLessThanOrEqual(group.x + group.w);
      expect(b.y).toBeGreaterThan(group.y);
    }
    expect(shadow(viewer).querySelector(".badge")?.textContent).toBe("PENDING");
    expect(shadow(viewer).querySelector(".timeline")?.textContent).toContain("Nothing has run yet.");
  });

  it("nests subflows in subflows, retries and graph flows included, each box inside its parent's", async () => {
    const t = (name: string, extra: object = {}) => task({ name, execute: () => name, ...extra });
    const flow = linearFlow("outer", t("first"),
      linearFlow("mid", t("a"), unorderedFlow("inner", t("b"), t("c", { retry: new Times(2) })), graphFlow("g", t("y", { requires: ["x"] }), t("x", { provides: "x" }))),
      t("last"));
    const viewer = await mount({ graph: compile(flow) });
    const rect = (name: string) => {
      const r = [...shadow(viewer).querySelectorAll("g.group")].find((g) => g.getAttribute("data-group") === name)?.querySelector("rect");
      const [x, y, w, h] = ["x", "y", "width", "height"].map((k) => Number(r?.getAttribute(k)));
      return { x: x as number, y: y as number, right: (x as number) + (w as number), bottom: (y as number) + (h as number) };
    };
    expect([...shadow(viewer).querySelectorAll("g.group")].map((g) => g.getAttribute("data-group"))).toEqual(["mid", "inner", "c[retry]", "g"]);
    for (const [child, parent] of [["inner", "mid"], ["c[retry]", "inner"], ["g", "mid"]] as const) {
      const c = rect(child);
      const p = rect(parent);
      expect(c.x).toBeGreaterThan(p.x);
      expect(c.y).toBeGreaterThan(p.y);
      expect(c.right).toBeLessThan(p.right);
      expect(c.bottom).toBeLessThan(p.bottom);
    }
    expect(node(viewer, "c_retry")?.getAttribute("data-kind")).toBe("retry");
    // The graph flow's link, from what x provides to what y requires.
    expect([...shadow(viewer).querySelectorAll("path.edge")].some((p) => p.getAttribute("data-from") === "x" && p.getAttribute("data-to") === "y")).toBe(true);
    expect(shadow(viewer).querySelector(".badge")?.textContent).toBe("PENDING"); // no snapshot: nothing ran
  });

  it("marks the wait the suspended flow waits for, and says what it waits for", async () => {
    const { graph, snapshot } = await showCase("waiting");
    const viewer = await mount({ graph, snapshot });
    const wait = node(viewer, "wait:nights");
    expect(wait?.hasAttribute("data-waiting")).toBe(true);
    expect(fill(viewer, "wait:nights")).toBe(STATE_COLOURS.waiting);
    expect(wait?.querySelector(".state")?.textContent).toBe("waiting for input");
    expect(shadow(viewer).querySelectorAll("[data-waiting]")).toHaveLength(1);
    expect(shadow(viewer).querySelector("header")?.textContent).toContain("waiting for input: nights");
    expect(viewer.flowState).toBe("SUSPENDED");
  });

  it("colours atoms by state, and shows each result", async () => {
    const shown = await showCase("running");
    const viewer = await mount({ graph: shown.graph, snapshot: shown.snapshot });
    expect(states(viewer)).toMatchObject({ "wait:nights": "SUCCESS", reserve: "SUCCESS", quote: "SUCCESS", charge: "RUNNING", confirm: "PENDING" });
    expect(fill(viewer, "reserve")).toBe(STATE_COLOURS.SUCCESS);
    expect(fill(viewer, "charge")).toBe(STATE_COLOURS.RUNNING);
    expect(fill(viewer, "confirm")).toBe(STATE_COLOURS.PENDING);
    const row = (atom: string) => [...(shadow(viewer).querySelector(`tr[data-atom="${atom}"]`)?.children ?? [])].map((td) => td.textContent);
    expect(row("reserve")).toEqual(["reserve", "SUCCESS", "1", '{"room":12,"nights":3}']);
    expect(row("quote")).toEqual(["quote", "SUCCESS", "1", "270"]);
    shown.release?.();
    await shown.run;
  });

  it("shows the failed atom, its failure, and what failed to revert", async () => {
    const reverted = await showCase("reverted");
    const viewer = await mount({ graph: reverted.graph, snapshot: reverted.snapshot });
    expect(shadow(viewer).querySelector(".badge")?.textContent).toBe("REVERTED");
    expect([...shadow(viewer).querySelectorAll("[data-failed]")].map((g) => g.getAttribute("data-atom"))).toEqual(["charge"]);
    expect(node(viewer, "charge")?.querySelector(".state")?.textContent).toBe("REVERTED · failed");
    expect(shadow(viewer).querySelector('tr[data-atom="charge"] .failure')?.textContent).toBe("RangeError: card declined for 270 EUR");

    const failed = await showCase("failed");
    viewer.graph = failed.graph;
    viewer.snapshot = failed.snapshot;
    await viewer.updateComplete;
    expect(shadow(viewer).querySelector(".badge")?.textContent).toBe("FAILURE");
    expect(node(viewer, "reserve")?.getAttribute("data-state")).toBe("REVERT_FAILURE");
    expect(fill(viewer, "reserve")).toBe(STATE_COLOURS.REVERT_FAILURE);
    expect(shadow(viewer).querySelector('tr[data-atom="reserve"] .failure')?.textContent).toBe("revert: Error: the hotel did not answer the cancellation");
    expect(shadow(viewer).querySelector("header .failure")?.textContent).toBe("failed: reserve, charge");
  });

  it("draws the timeline from the snapshot: each atom's latest entry into each state, in time order", async () => {
    const { graph, snapshot } = await showCase("reverted");
    const derived = transitionsFromSnapshot(snapshot);
    expect(derived.map((t) => t.seq)).toEqual(derived.map((_, i) => i + 1));
    expect(derived.filter((t) => t.atom === "charge").map((t) => `${t.from}→${t.to}`)).toEqual(["PENDING→RUNNING", "RUNNING→FAILURE", "FAILURE→REVERTING", "REVERTING→REVERTED"]);
    expect(derived.find((t) => t.atom === "charge" && t.to === "RUNNING")?.attempt).toBe(1);
    for (let i = 1; i < derived.length; i++) expect((derived[i] as TimelineTransition).at).toBeGreaterThanOrEqual((derived[i - 1] as TimelineTransition).at);

    const viewer = await mount({ graph, snapshot });
    const items = [...shadow(viewer).querySelectorAll(".timeline li")].map((li) => li.textContent);
    expect(items).toHaveLength(derived.length);
    expect(items[0]).toBe("+0 ms wait:nights: PENDING → RUNNING (attempt 1)");
    // One row of bars per atom that moved (confirm never ran), one bar per state it entered.
    const bars = [...shadow(viewer).querySelectorAll(".timeline rect.bar")];
    expect(new Set(bars.map((b) => b.getAttribute("data-atom")))).toEqual(new Set(["wait:nights", "reserve", "quote", "charge"]));
    expect(bars.filter((b) => b.getAttribute("data-atom") === "charge").map((b) => b.getAttribute("data-state"))).toEqual(["RUNNING", "FAILURE", "REVERTING", "REVERTED"]);
  });

  it("draws the timeline from a snapshot's audit trail, read with it: both tries of a retried step, with their runner", async () => {
    let calls = 0;
    const flow = linearFlow("retried", task({ name: "flaky", provides: "v", retry: new Times(3), execute: () => (++calls === 1 ? Promise.reject(new Error("no")) : 1) }));
    const backend = new MemoryBackend();
    const engine = load(flow, { backend });
    await engine.run();
    const snapshot = await readSnapshot(backend, engine.flowDetailId, { trail: true });
    const timeline = transitionsFromTrail(snapshot.trail ?? []);
    expect(timeline.filter((t) => t.atom === "flaky" && t.to === "RUNNING").map((t) => t.attempt)).toEqual([1, 2]);
    const viewer = await mount({ graph: compile(flow), snapshot });
    const items = [...shadow(viewer).querySelectorAll(".timeline li")].map((li) => li.textContent ?? "");
    expect(items.filter((i) => i.includes("flaky: PENDING → RUNNING"))).toEqual([
      expect.stringMatching(new RegExp(`\\(attempt 1\\) by ${engine.runnerId}$`)),
      expect.stringMatching(new RegExp(`\\(attempt 2\\) by ${engine.runnerId}$`)),
    ]);
    // Read without it, the records keep only the latest RUNNING.
    const derived = transitionsFromSnapshot(await readSnapshot(backend, engine.flowDetailId));
    expect(derived.filter((t) => t.atom === "flaky" && t.to === "RUNNING")).toHaveLength(1);
  });

  it("takes an audit trail for its timeline instead, with attempts and runners", async () => {
    const { graph, snapshot } = await showCase("running");
    const trail: TimelineTransition[] = [
      { seq: 2, atom: "charge", from: "RUNNING", to: "FAILURE", at: 1_000, attempt: 1, runner: "tab-1" },
      { seq: 1, atom: "charge", from: "PENDING", to: "RUNNING", at: 500, attempt: 1, runner: "tab-1" },
      { seq: 3, atom: "charge", from: "FAILURE", to: "RUNNING", at: 1_500, attempt: 2, runner: "worker" },
    ];
    const viewer = await mount({ graph, snapshot, transitions: trail });
    expect([...shadow(viewer).querySelectorAll(".timeline li")].map((li) => li.textContent)).toEqual([
      "+0 ms charge: PENDING → RUNNING (attempt 1) by tab-1",
      "+500 ms charge: RUNNING → FAILURE (attempt 1) by tab-1",
      "+1.0 s charge: FAILURE → RUNNING (attempt 2) by worker",
    ]);
  });
});

describe("no string from a flow becomes markup", () => {
  it("names, results and failure messages are text, attributes stay attributes", async () => {
    const evil = `<img src=x onerror="globalThis.pwned=1">`;
    const flow = linearFlow(`flow ${evil}`,
      unorderedFlow(`group ${evil}`,
        task({ name: evil, provides: "x", execute: () => ({ html: `<script>globalThis.pwned=2</script>` }) }),
        task({ name: `"]><b>quoted</b>`, execute: () => { throw new Error(`<svg onload="globalThis.pwned=3">`); } }),
      ),
    );
    const backend = new MemoryBackend();
    const { load, readSnapshot } = await import("taskflow-ts");
    const engine = load(flow, { backend });
    await expect(engine.run()).rejects.toThrow();
    const viewer = await mount({ graph: compile(flow), snapshot: await readSnapshot(backend, engine.flowDetailId) });
    const root = shadow(viewer);
    expect(root.querySelectorAll("img, script, b")).toHaveLength(0);
    expect(root.querySelectorAll("svg")).toHaveLength(2); // the graph and the timeline, nothing from a message
    expect((globalThis as { pwned?: unknown }).pwned).toBeUndefined();
    expect(root.querySelector("h2")?.textContent).toBe(`flow ${evil}`);
    expect(root.querySelector("g.group text")?.textContent).toBe(`group ${evil}`);
    expect(node(viewer, evil)?.querySelector(".name")?.textContent).toBe(evil);
    expect([...root.querySelectorAll("g.atom")].map((g) => g.getAttribute("data-atom"))).toContain(`"]><b>quoted</b>`);
    expect(root.textContent).toContain(`{"html":"<script>globalThis.pwned=2</script>"}`);
    expect(root.textContent).toContain(`Error: <svg onload="globalThis.pwned=3">`);
  });
});

describe("live changes", () => {
  it("moves atoms and the flow as a source reports, adds them to the timeline, and draws once per batch of changes", async () => {
    const { graph, snapshot } = await showCase("waiting");
    const source = manualSource();
    let now = 10_000;
    const viewer = await mount({ graph, snapshot, source, now: () => now });
    expect(source.listeners).toBe(1);

    source.emit({ type: "flow", state: "RUNNING" });
    source.emit({ type: "atom", name: "wait:nights", state: "RUNNING", oldState: "PENDING" });
    now += 250;
    source.emit({ type: "atom", name: "wait:nights", state: "SUCCESS", oldState: "RUNNING", result: 2 });
    source.emit({ type: "atom", name: "reserve", state: "RUNNING", oldState: "PENDING" });
    source.emit({ type: "progress", name: "reserve", progress: 0.5 });
    expect(states(viewer)["wait:nights"]).toBe("PENDING"); // drawn once for the batch, after it
    await viewer.updateComplete;
    expect(viewer.flowState).toBe("RUNNING");
    expect(shadow(viewer).querySelectorAll("[data-waiting]")).toHaveLength(0);
    expect(states(viewer)).toMatchObject({ "wait:nights": "SUCCESS", reserve: "RUNNING" });
    expect(node(viewer, "reserve")?.querySelector(".state")?.textContent).toBe("RUNNING 50%");
    expect(shadow(viewer).querySelector('tr[data-atom="wait:nights"] .value')?.textContent).toBe("2");
    expect([...shadow(viewer).querySelectorAll(".timeline li")].map((li) => li.textContent)).toEqual([
      "+0 ms wait:nights: PENDING → RUNNING (attempt 1)",
      "+250 ms wait:nights: RUNNING → SUCCESS",
      "+250 ms reserve: PENDING → RUNNING (attempt 1)",
    ]);

    source.emit({ type: "atom", name: "reserve", state: "FAILURE", failure: { exceptionStr: "no rooms <left>", excTypeNames: ["Error"] } });
    await viewer.updateComplete;
    expect(node(viewer, "reserve")?.hasAttribute("data-failed")).toBe(true);
    expect(shadow(viewer).querySelector('tr[data-atom="reserve"] .failure')?.textContent).toBe("Error: no rooms <left>");

    // A snapshot replaces what live changes added.
    source.emit({ type: "snapshot", snapshot });
    await viewer.updateComplete;
    expect(viewer.flowState).toBe("SUSPENDED");
    expect(node(viewer, "wait:nights")?.hasAttribute("data-waiting")).toBe(true);
    expect(states(viewer).reserve).toBe("PENDING");
  });

  it("a wait event marks the waits; an audit trail's entries extend a timeline given as one", async () => {
    const { graph, snapshot } = await showCase("pending");
    const source = manualSource();
    const viewer = await mount({ graph, snapshot, source, transitions: [] });
    source.emit({ type: "atom", name: "wait:nights", state: "RUNNING", oldState: "PENDING" });
    source.emit({ type: "flow", state: "SUSPENDING" });
    source.emit({ type: "wait", reason: "input", inputs: ["nights"] });
    source.emit({ type: "flow", state: "SUSPENDED" });
    await viewer.updateComplete;
    expect(viewer.flowState).toBe("SUSPENDED");
    expect(node(viewer, "wait:nights")?.hasAttribute("data-waiting")).toBe(true);
    // A live atom event does not invent an audit trail entry; the trail's own entries come in.
    expect(shadow(viewer).querySelectorAll(".timeline li")).toHaveLength(0);
    source.emit({ type: "transition", transition: { seq: 7, atom: "wait:nights", from: "PENDING", to: "RUNNING", at: 5, runner: "w" } });
    await viewer.updateComplete;
    expect([...shadow(viewer).querySelectorAll(".timeline li")].map((li) => li.textContent)).toEqual(["+0 ms wait:nights: PENDING → RUNNING by w"]);
    expect(viewer.transitions).toHaveLength(1);
  });

  it("subscribes while in the document only, and to the new source when it changes", async () => {
    const { graph, snapshot } = await showCase("pending");
    const first = manualSource();
    const viewer = await mount({ graph, snapshot, source: first });
    expect(first.listeners).toBe(1);
    viewer.remove();
    expect(first.listeners).toBe(0);
    document.body.append(viewer);
    expect(first.listeners).toBe(1);
    const second = manualSource();
    viewer.source = second;
    expect([first.listeners, second.listeners]).toEqual([0, 1]);
  });

  it("tabsSource passes another tab's transitions on, and reads what a suspended flow waits for from the log book", async () => {
    const shown = await showCase("waiting");
    let deliver: ((t: never) => void) | undefined;
    let stopped = 0;
    const observe = (uuid: string, listener: (t: never) => void) => {
      expect(uuid).toBe(shown.snapshot.uuid);
      deliver = listener;
      return () => void stopped++;
    };
    const pending = await showCase("pending");
    const viewer = await mount({ graph: shown.graph, snapshot: pending.snapshot, source: tabsSource(observe, shown.snapshot.uuid, { read: async () => shown.snapshot }) });
    deliver?.({ type: "atom", flowUuid: shown.snapshot.uuid, name: "wait:nights", state: "RUNNING", oldState: "PENDING" } as never);
    deliver?.({ type: "flow", flowUuid: shown.snapshot.uuid, flowName: "booking", state: "SUSPENDED", oldState: "RUNNING" } as never);
    // Bounded polling of a real condition: the snapshot is read asynchronously.
    for (let i = 0; i < 50 && !node(viewer, "wait:nights")?.hasAttribute("data-waiting"); i++) await viewer.updateComplete.then(() => Promise.resolve());
    expect(node(viewer, "wait:nights")?.hasAttribute("data-waiting")).toBe(true);
    expect(shadow(viewer).querySelector("header")?.textContent).toContain("waiting for input: nights");
    viewer.remove();
    expect(stopped).toBe(1);
  });

  it("tabsSource ignores a read answered after the flow moved on, and a change the viewer already shows", async () => {
    const shown = await showCase("waiting");
    let deliver: ((t: never) => void) | undefined;
    let answer: ((s: typeof shown.snapshot) => void) | undefined;
    const observe = (_uuid: string, listener: (t: never) => void) => ((deliver = listener), () => undefined);
    const read = () => new Promise<typeof shown.snapshot>((resolve) => (answer = resolve));
    const viewer = await mount({ graph: shown.graph, snapshot: (await showCase("pending")).snapshot, source: tabsSource(observe, shown.snapshot.uuid, { read }) });
    deliver?.({ type: "flow", state: "SUSPENDED", oldState: "RUNNING" } as never);
    deliver?.({ type: "flow", state: "RUNNING", oldState: "SUSPENDED" } as never);
    answer?.(shown.snapshot); // the log book as it was when suspended: stale now
    deliver?.({ type: "atom", name: "reserve", state: "RUNNING", oldState: "PENDING" } as never);
    deliver?.({ type: "atom", name: "reserve", state: "RUNNING", oldState: "PENDING" } as never); // twice: once is shown
    await Promise.resolve();
    await viewer.updateComplete;
    expect(viewer.flowState).toBe("RUNNING");
    expect(shadow(viewer).querySelectorAll("[data-waiting]")).toHaveLength(0);
    expect(shadow(viewer).querySelectorAll(".timeline li")).toHaveLength(1);
    expect(shadow(viewer).querySelector('tr[data-atom="reserve"]')?.children[2]?.textContent).toBe("1");
  });

  it("runnerSource follows a flow a worker's runner runs, through the client's subscription", async () => {
    const { port1, port2 } = new MessageChannel();
    const host = exposeRunner<Flows>({ flows, backend: new MemoryBackend(), scope: port1 });
    const runner = connectRunner<Flows>(port2);
    cleanup.push(() => (host.close(), port1.close(), port2.close()));
    const started = await runner.start("signup", [], { run: false });
    const viewer = await mount({ graph: compile(flows.signup()), snapshot: started, source: runnerSource(runner, started.uuid) });
    await runner.stats(); // the subscription is made by now: calls are answered in order
    await runner.run(started.uuid); // suspends for the email
    for (let i = 0; i < 100 && !node(viewer, "wait:email")?.hasAttribute("data-waiting"); i++) await runner.stats();
    expect(node(viewer, "wait:email")?.hasAttribute("data-waiting")).toBe(true);
    await runner.provide(started.uuid, "email", "ada@example.org");
    await runner.run(started.uuid);
    for (let i = 0; i < 100 && viewer.flowState !== "SUCCESS"; i++) await runner.stats();
    await viewer.updateComplete;
    expect(states(viewer)).toEqual({ "wait:email": "SUCCESS", welcome: "SUCCESS" });
    expect(shadow(viewer).querySelector('tr[data-atom="welcome"] .value')?.textContent).toBe('"welcome ada@example.org"');
    viewer.remove();
    await runner.close();
  });
});
