// <taskflow-viewer>: a custom element without a framework. It draws what model.ts computes:
// the graph as SVG (laid out once per graph by layout.ts), a timeline, and each atom's result or
// failure. Every string from a flow (names, results, messages) reaches the DOM as a text node or
// an attribute value set through the DOM, never as markup: nothing a task returns can add an element.
import type { AtomState, FlowGraph, FlowSnapshot, FlowState } from "taskflow-ts";
import { layoutGraph, NODE_HEIGHT, type GraphLayout } from "./layout.js";
import { applyChange, buildModel, type AtomView, type TimelineTransition, type ViewerChange, type ViewModel } from "./model.js";
import type { ViewerSource } from "./sources.js";

/**
 * The fill of an atom's node and timeline bar, by state; a wait whose input the flow waits for
 * is drawn as `waiting`. CSS custom properties (`--tf-success`, …) override them.
 * @example getComputedStyle(viewer.shadowRoot.querySelector('[data-atom="charge"] rect')).fill // STATE_COLOURS.FAILURE, as rgb()
 */
export const STATE_COLOURS: Readonly<Record<AtomState | "waiting", string>> = {
  PENDING: "#e5e7eb",
  RUNNING: "#93c5fd",
  SUCCESS: "#86efac",
  FAILURE: "#f87171",
  REVERTING: "#fdba74",
  REVERTED: "#fde68a",
  REVERT_FAILURE: "#dc2626",
  IGNORE: "#f3f4f6",
  RETRYING: "#c4b5fd",
  waiting: "#facc15",
};

const SVG = "http://www.w3.org/2000/svg";
const cssVar = (state: string) => `--tf-${state.toLowerCase().replace("_", "-")}`;
/** The colour as an attribute (what any renderer reads) and as a style a custom property overrides. */
function paint(state: string): { fill: string; style: string } {
  const colour = STATE_COLOURS[state as keyof typeof STATE_COLOURS];
  return { fill: colour, style: `fill: var(${cssVar(state)}, ${colour})` };
}

const STYLE = `
:host { display: block; font: 12px/1.35 system-ui, sans-serif; color: #111827; background: #fff; }
header { display: flex; gap: 8px; align-items: baseline; flex-wrap: wrap; padding: 4px 0 6px; }
h2 { font-size: 15px; margin: 0; }
.badge { padding: 1px 6px; border-radius: 8px; background: #e5e7eb; font-weight: 600; }
.badge[data-state="SUCCESS"] { background: #bbf7d0; } .badge[data-state="FAILURE"], .badge[data-state="REVERTED"] { background: #fecaca; }
.badge[data-state="RUNNING"] { background: #bfdbfe; } .badge[data-state="SUSPENDED"] { background: #fef08a; }
.note { color: #92400e; }
.graph { display: block; max-width: 100%; height: auto; }
.graph .atom text { font-size: 12px; }
.graph .atom .state { font-size: 10px; fill: #374151; }
.graph .atom[data-waiting] rect { stroke: #b45309; stroke-width: 3; stroke-dasharray: 6 3; }
.graph .atom[data-failed] rect { stroke: #b91c1c; stroke-width: 3; }
.graph .atom[data-failed] .name { font-weight: 700; }
.graph .atom[data-state="REVERT_FAILURE"] text { fill: #fff; }
.graph .group rect { fill: #f9fafb; stroke: #9ca3af; stroke-dasharray: 4 3; }
.graph .group text { font-size: 11px; fill: #4b5563; }
.graph .edge { fill: none; stroke: #6b7280; stroke-width: 1.3; }
.panels { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); gap: 12px; }
h3 { font-size: 12px; margin: 6px 0 3px; color: #374151; }
table { border-collapse: collapse; width: 100%; }
td, th { text-align: left; padding: 2px 4px; border-bottom: 1px solid #f3f4f6; vertical-align: top; }
td.value { font-family: ui-monospace, monospace; font-size: 11px; overflow-wrap: anywhere; }
.failure { color: #b91c1c; }
.timeline text { font-size: 10px; fill: #374151; }
ol { margin: 2px 0; padding-left: 22px; font-size: 11px; }
`;

/** A value as one short line: JSON where it can be, a hint of its kind where not. */
function preview(value: unknown, max = 80): string {
  let text: string;
  if (value === undefined) return "";
  if (typeof value === "string") text = JSON.stringify(value);
  else if (value instanceof Map) text = `Map(${value.size})`;
  else if (value instanceof Set) text = `Set(${value.size})`;
  else {
    try {
      text = JSON.stringify(value) ?? String(value);
    } catch {
      text = Object.prototype.toString.call(value);
    }
  }
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/**
 * Appends children (strings as text nodes). Through `appendChild`, not `append`: the Workers types
 * declare a global `Element` (HTMLRewriter's) whose `append` takes other arguments, and the API
 * reference is built in one program with them.
 */
function add(parent: Node, ...children: Array<Node | string>): void {
  const doc = parent.ownerDocument ?? (parent as Document);
  for (const c of children) parent.appendChild(typeof c === "string" ? doc.createTextNode(c) : c);
}

/** An element, its attributes and children, built through the DOM (text is always a text node). */
function el<K extends keyof HTMLElementTagNameMap>(doc: Document, tag: K, attrs: Record<string, string> = {}, ...children: Array<Node | string>): HTMLElementTagNameMap[K] {
  const node = doc.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  add(node, ...children);
  return node;
}
function svg(doc: Document, tag: string, attrs: Record<string, string | number> = {}, ...children: Array<Node | string>): SVGElement {
  const node = doc.createElementNS(SVG, tag) as SVGElement;
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  add(node, ...children);
  return node;
}

const failureText = (f: { exceptionStr: string; excTypeNames: readonly string[] }) => `${f.excTypeNames[0] ?? "Error"}: ${f.exceptionStr}`;
/** An atom whose execute or revert failed, even once it is reverted: drawn with a red border. */
const hasFailed = (a: AtomView) => a.failure !== undefined || a.revertFailure !== undefined || a.state === "FAILURE" || a.state === "REVERT_FAILURE";
function stateLine(a: AtomView): string {
  if (a.waiting) return "waiting for input";
  if (a.state === "RUNNING" && a.progress !== undefined && a.progress > 0 && a.progress < 1) return `RUNNING ${Math.round(a.progress * 100)}%`;
  if (a.failure && a.state !== "FAILURE") return `${a.state} · failed`;
  return a.state;
}

/** The base class: HTMLElement in a page; a stand-in where there is none (Node), so that importing the module never throws. */
const Base = (globalThis.HTMLElement ?? class {}) as typeof HTMLElement;

/**
 * `<taskflow-viewer>`: shows one flow's log book. Give it the compiled graph (`compile(flow)` or
 * `engine.compile()`) and a snapshot (`readSnapshot(backend, id)`); for live updates, a
 * {@link ViewerSource}. Register it once with {@link defineViewer}.
 * @example
 * defineViewer();
 * const viewer = document.createElement("taskflow-viewer");
 * viewer.graph = compile(bookingFlow);
 * viewer.snapshot = await readSnapshot(backend, flowDetailId);
 * viewer.source = tabsSource(observeTransitions, flowDetailId);
 * document.add(body, viewer);
 */
export class TaskflowViewer extends Base {
  #graph: FlowGraph | undefined;
  #snapshot: FlowSnapshot | undefined;
  #transitions: TimelineTransition[] | undefined;
  #source: ViewerSource | undefined;
  #unsubscribe: (() => void) | undefined;
  #model: ViewModel | undefined;
  #layout: { graph: FlowGraph; layout: GraphLayout } | undefined;
  #pending: Promise<void> | undefined;
  /** The clock that stamps live transitions in the timeline (ms since the epoch). */
  now: () => number = () => Date.now();

  /** The compiled flow to draw (`compile(flow)`, `engine.compile()`). */
  get graph(): FlowGraph | undefined {
    return this.#graph;
  }
  set graph(graph: FlowGraph | undefined) {
    this.#graph = graph;
    this.#rebuild();
  }

  /** The stored flow to show on the graph; setting it replaces what live changes added. */
  get snapshot(): FlowSnapshot | undefined {
    return this.#snapshot;
  }
  set snapshot(snapshot: FlowSnapshot | undefined) {
    this.#snapshot = snapshot;
    this.#rebuild();
  }

  /**
   * The timeline's transitions (an audit trail); unset, they are derived from the snapshot and
   * live atom changes.
   */
  get transitions(): readonly TimelineTransition[] | undefined {
    return this.#transitions;
  }
  set transitions(transitions: readonly TimelineTransition[] | undefined) {
    this.#transitions = transitions ? [...transitions] : undefined;
    this.#rebuild();
  }

  /** Where live changes come from; subscribed while the element is in a document. */
  get source(): ViewerSource | undefined {
    return this.#source;
  }
  set source(source: ViewerSource | undefined) {
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
    this.#source = source;
    if (this.isConnected) this.#subscribe();
  }

  /** Resolves once the changes made so far are drawn. */
  get updateComplete(): Promise<void> {
    return this.#pending ?? Promise.resolve();
  }

  /** The flow's state as shown now (the snapshot's, then as live changes moved it). */
  get flowState(): FlowState | undefined {
    return this.#model?.flowState;
  }

  /** @internal */
  connectedCallback(): void {
    this.#subscribe();
    this.#schedule();
  }

  /** @internal */
  disconnectedCallback(): void {
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
  }

  /** Applies one change, as a source does: for a source of your own, or a test. */
  apply(change: ViewerChange): void {
    if (!this.#model) return;
    if (change.type === "snapshot") this.#snapshot = change.snapshot;
    applyChange(this.#model, change, this.now(), this.#transitions !== undefined);
    if (change.type === "transition" && this.#transitions) this.#transitions = [...this.#model.transitions];
    this.#schedule();
  }

  #subscribe(): void {
    if (!this.#source || this.#unsubscribe) return;
    this.#unsubscribe = this.#source.subscribe((change) => this.apply(change));
  }

  #rebuild(): void {
    this.#model = this.#graph ? buildModel(this.#graph, this.#snapshot, this.#transitions) : undefined;
    this.#schedule();
  }

  /** Draws once per task, however many changes came meanwhile. */
  #schedule(): void {
    this.#pending ??= Promise.resolve().then(() => {
      this.#pending = undefined;
      this.#render();
    });
  }

  #render(): void {
    const root = this.shadowRoot ?? this.attachShadow({ mode: "open" });
    const doc = this.ownerDocument;
    const model = this.#model;
    const children: Node[] = [el(doc, "style", {}, STYLE)];
    if (!model || !this.#graph) {
      children.push(el(doc, "p", {}, "No flow to show: set the viewer's graph (compile(flow)) and snapshot (readSnapshot(backend, id))."));
      root.replaceChildren(...children);
      return;
    }
    if (this.#layout?.graph !== this.#graph) this.#layout = { graph: this.#graph, layout: layoutGraph(model) };
    children.push(this.#header(doc, model), this.#drawGraph(doc, model, this.#layout.layout));
    children.push(el(doc, "div", { class: "panels" }, this.#timeline(doc, model), this.#details(doc, model)));
    root.replaceChildren(...children);
  }

  #header(doc: Document, model: ViewModel): HTMLElement {
    const header = el(doc, "header", { part: "header" }, el(doc, "h2", {}, model.flowName), el(doc, "span", { class: "badge", "data-state": model.flowState ?? "PENDING" }, model.flowState ?? "PENDING"));
    if (model.waitingFor.length > 0) add(header, el(doc, "span", { class: "note" }, `waiting for input: ${model.waitingFor.join(", ")}`));
    else if (model.suspendedReason) add(header, el(doc, "span", { class: "note" }, `suspended (${model.suspendedReason})`));
    const failed = model.atoms.filter(hasFailed);
    if (failed.length > 0) add(header, el(doc, "span", { class: "failure" }, `failed: ${failed.map((a) => a.name).join(", ")}`));
    return header;
  }

  #drawGraph(doc: Document, model: ViewModel, layout: GraphLayout): SVGElement {
    const { width, height } = layout;
    const root = svg(doc, "svg", { class: "graph", part: "graph", viewBox: `0 0 ${width} ${height}`, width, height, role: "img", "aria-label": `graph of flow ${model.flowName}` });
    add(root, svg(doc, "defs", {}, svg(doc, "marker", { id: "tf-arrow", viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto" }, svg(doc, "path", { d: "M0,0 L10,5 L0,10 z", fill: "#6b7280" }))));
    for (const group of model.groups) {
      const b = layout.groups.get(group.name);
      if (!b) continue;
      const left = b.x - b.width / 2;
      const top = b.y - b.height / 2;
      add(root, svg(doc, "g", { class: "group", "data-group": group.name }, svg(doc, "rect", { x: left, y: top, width: b.width, height: b.height, rx: 6 }), svg(doc, "text", { x: left + 6, y: top + 12 }, group.name)));
    }
    for (const edge of layout.edges) {
      if (edge.points.length === 0) continue;
      const d = edge.points.map((p, i) => `${i === 0 ? "M" : "L"}${p.x.toFixed(1)},${p.y.toFixed(1)}`).join(" ");
      add(root, svg(doc, "path", { class: "edge", d, "marker-end": "url(#tf-arrow)", "data-from": edge.from, "data-to": edge.to }));
    }
    for (const atom of model.atoms) {
      const b = layout.atoms.get(atom.name);
      if (!b) continue;
      const left = b.x - b.width / 2;
      const top = b.y - NODE_HEIGHT / 2;
      const colour = paint(atom.waiting ? "waiting" : atom.state);
      const node = svg(doc, "g", { class: "atom", "data-atom": atom.name, "data-state": atom.state, "data-kind": atom.kind },
        svg(doc, "title", {}, atom.failure ? `${atom.name}: ${failureText(atom.failure)}` : `${atom.name} (${atom.kind}): ${atom.state}`),
        svg(doc, "rect", { x: left, y: top, width: b.width, height: NODE_HEIGHT, rx: atom.kind === "task" ? 4 : 14, ...colour, stroke: "#4b5563" }),
        svg(doc, "text", { class: "name", x: b.x, y: top + 16, "text-anchor": "middle" }, atom.name),
        svg(doc, "text", { class: "state", x: b.x, y: top + 31, "text-anchor": "middle" }, stateLine(atom)));
      if (atom.waiting) node.setAttribute("data-waiting", "");
      if (hasFailed(atom)) node.setAttribute("data-failed", "");
      add(root, node);
    }
    return root;
  }

  #timeline(doc: Document, model: ViewModel): HTMLElement {
    const section = el(doc, "section", { class: "timeline", part: "timeline" }, el(doc, "h3", {}, "Timeline"));
    const list = model.transitions;
    if (list.length === 0) {
      add(section, el(doc, "p", {}, "Nothing has run yet."));
      return section;
    }
    // One row per atom that moved, a bar per state it was in (until its next transition, or the
    // latest time shown), in the state's colour.
    const start = Math.min(...list.map((t) => t.at));
    const end = Math.max(...list.map((t) => t.at));
    const span = Math.max(end - start, 1);
    const names = model.atoms.map((a) => a.name).filter((n) => list.some((t) => t.atom === n));
    const LABEL = 96;
    const WIDTH = 380;
    const ROW = 14;
    const chart = svg(doc, "svg", { viewBox: `0 0 ${WIDTH} ${names.length * ROW + 14}`, width: WIDTH, height: names.length * ROW + 14, role: "img", "aria-label": "timeline of the atoms' states" });
    const x = (at: number) => LABEL + ((at - start) / span) * (WIDTH - LABEL - 4);
    names.forEach((name, row) => {
      const mine = list.filter((t) => t.atom === name);
      const y = row * ROW;
      add(chart, svg(doc, "text", { x: 0, y: y + 10 }, name.length > 16 ? `${name.slice(0, 15)}…` : name));
      mine.forEach((t, i) => {
        const until = mine[i + 1]?.at ?? end;
        add(chart, svg(doc, "rect", { class: "bar", "data-atom": name, "data-state": t.to, x: x(t.at), y: y + 2, width: Math.max(x(until) - x(t.at), 2), height: ROW - 4, ...paint(t.to) },
          svg(doc, "title", {}, `${name}: ${t.from} → ${t.to}`)));
      });
    });
    add(chart, svg(doc, "text", { x: LABEL, y: names.length * ROW + 11 }, "0"), svg(doc, "text", { x: WIDTH - 4, y: names.length * ROW + 11, "text-anchor": "end" }, `+${formatMs(end - start)}`));
    const items = list.map((t) => el(doc, "li", { "data-seq": String(t.seq) }, `+${formatMs(t.at - start)} ${t.atom}: ${t.from} → ${t.to}${t.attempt !== undefined ? ` (attempt ${t.attempt})` : ""}${t.runner !== undefined ? ` by ${t.runner}` : ""}`));
    add(section, chart, el(doc, "details", {}, el(doc, "summary", {}, `${list.length} transitions`), el(doc, "ol", {}, ...items)));
    return section;
  }

  #details(doc: Document, model: ViewModel): HTMLElement {
    const rows = model.atoms.map((a) => {
      const value = a.failure
        ? el(doc, "td", { class: "value failure" }, failureText(a.failure))
        : el(doc, "td", { class: "value" }, a.revertFailure ? "" : preview(a.result));
      if (a.revertFailure) add(value, el(doc, "div", { class: "failure" }, `revert: ${failureText(a.revertFailure)}`));
      return el(doc, "tr", { "data-atom": a.name }, el(doc, "td", {}, a.name), el(doc, "td", {}, a.waiting ? "waiting" : a.state), el(doc, "td", {}, String(a.attempts)), value);
    });
    return el(doc, "section", { class: "details", part: "details" }, el(doc, "h3", {}, "Results and failures"),
      el(doc, "table", {}, el(doc, "thead", {}, el(doc, "tr", {}, el(doc, "th", {}, "atom"), el(doc, "th", {}, "state"), el(doc, "th", {}, "tries"), el(doc, "th", {}, "result or failure"))), el(doc, "tbody", {}, ...rows)));
  }
}

/** "850 ms", "1.2 s", "3 min". */
function formatMs(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${(ms / 60_000).toFixed(1)} min`;
}

/**
 * Registers {@link TaskflowViewer} as `<taskflow-viewer>` (or `tag`), once; returns the element's
 * class. Importing the module registers nothing (the package has no side effects).
 * @example defineViewer(); document.body.innerHTML = "<taskflow-viewer></taskflow-viewer>"
 */
export function defineViewer(tag = "taskflow-viewer"): typeof TaskflowViewer {
  const defined = customElements.get(tag);
  if (defined) return defined as typeof TaskflowViewer;
  // A class serves one tag only: another tag gets a subclass of its own.
  const cls = tag === "taskflow-viewer" ? TaskflowViewer : class extends TaskflowViewer {};
  customElements.define(tag, cls);
  return cls;
}

declare global {
  interface HTMLElementTagNameMap {
    "taskflow-viewer": TaskflowViewer;
  }
}
