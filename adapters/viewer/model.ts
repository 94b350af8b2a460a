// What the viewer shows, as plain data and pure functions: the flow's groups (subflows) and
// atoms from its compiled graph, each atom's state, result and failure from the snapshot, the
// transitions of the timeline, and how a live change updates them. No DOM here: the element
// (element.ts) draws what this computes, and the unit tests check it without a page.
import type { AtomState, FlowGraph, FlowSnapshot, FlowState, GraphNode, TrailEntry } from "taskflow-ts";

/**
 * One transition of an atom, as the timeline takes it: the shape of an audit trail's entry
 * (every committed transition, in order). A snapshot read with its trail
 * (`readSnapshot(backend, id, { trail: true })`) gives them all ({@link transitionsFromTrail});
 * without it, the viewer derives what the records still tell ({@link transitionsFromSnapshot}),
 * and appends those a live source reports.
 * @example viewer.transitions = [{ seq: 1, atom: "charge", from: "PENDING", to: "RUNNING", at: 1_700_000_000_000, attempt: 1 }]
 */
export interface TimelineTransition {
  /** Its position in the flow's history (commit order): the timeline sorts by it. */
  readonly seq: number;
  readonly atom: string;
  readonly from: AtomState;
  readonly to: AtomState;
  /** When it happened, ms since the epoch. */
  readonly at: number;
  /** Which start of the atom's execute it belongs to, if known. */
  readonly attempt?: number | undefined;
  /** Which runner (a tab, a worker, a Durable Object) committed it, if known. */
  readonly runner?: string | undefined;
}

/**
 * A failure as the viewer shows it: a `Failure` (from a snapshot or a worker's subscription) or
 * its stored data (from another tab's broadcast) both fit.
 * @example const f: FailureLike = { exceptionStr: "card declined", excTypeNames: ["PaymentDeclined", "Error"] }
 */
export interface FailureLike {
  readonly exceptionStr: string;
  readonly excTypeNames: readonly string[];
}

/** An atom as drawn: its node in the graph, its state and what it holds. */
export interface AtomView {
  readonly name: string;
  /** The compiled node's kind: task, retry, sleep or wait. */
  readonly kind: string;
  /** The group (subflow) it is drawn in; undefined for the root flow. */
  readonly group: string | undefined;
  state: AtomState;
  result: unknown;
  failure: FailureLike | undefined;
  revertFailure: FailureLike | undefined;
  attempts: number;
  progress: number | undefined;
  /** A wait whose input the suspended flow waits for. */
  waiting: boolean;
}

/** A subflow, drawn as a box around its atoms and subflows. */
export interface GroupView {
  /** Its entry marker's name (the flow's name): unique among the groups of a flow. */
  readonly name: string;
  /** The group holding it; undefined under the root flow. */
  readonly parent: string | undefined;
}

/** Everything the element draws. */
export interface ViewModel {
  flowName: string;
  flowState: FlowState | undefined;
  suspendedReason: string | undefined;
  waitingFor: string[];
  readonly groups: readonly GroupView[];
  /** Atoms in compile order. */
  readonly atoms: readonly AtomView[];
  readonly byName: ReadonlyMap<string, AtomView>;
  /** Edges between atoms (flow markers passed through). */
  readonly edges: ReadonlyArray<readonly [string, string]>;
  transitions: TimelineTransition[];
}

/**
 * A change a live source reports (see `ViewerSource`): a flow or atom transition, progress, why a
 * run stopped waiting, a fresh snapshot, or one entry of an audit trail.
 * @example source.emit({ type: "atom", name: "charge", state: "FAILURE", failure: { exceptionStr: "declined", excTypeNames: ["Error"] } })
 */
export type ViewerChange =
  | { readonly type: "flow"; readonly state: FlowState }
  | { readonly type: "atom"; readonly name: string; readonly state: AtomState; readonly oldState?: AtomState | undefined; readonly result?: unknown; readonly failure?: FailureLike | undefined }
  | { readonly type: "progress"; readonly name: string; readonly progress: number }
  | { readonly type: "wait"; readonly reason: string; readonly inputs?: readonly string[] | undefined }
  | { readonly type: "snapshot"; readonly snapshot: FlowSnapshot }
  | { readonly type: "transition"; readonly transition: TimelineTransition };

// The order an atom goes through its states in one pass, to order two states stamped at the
// same millisecond.
const PASS_ORDER: readonly AtomState[] = ["PENDING", "RUNNING", "SUCCESS", "FAILURE", "RETRYING", "REVERTING", "REVERTED", "REVERT_FAILURE", "IGNORE"];

/**
 * The timeline of an audit trail (`snapshot.trail`): every committed transition of the flow's
 * atoms, first tries of a retried or revised step included, with their attempt and runner (the
 * flow's own transitions are the flow's state, not a step of the timeline).
 * @example viewer.transitions = transitionsFromTrail((await readSnapshot(backend, id, { trail: true })).trail ?? [])
 */
export function transitionsFromTrail(trail: readonly TrailEntry[]): TimelineTransition[] {
  return trail.flatMap((t) =>
    t.atom === undefined ? [] : [{ seq: t.seq, atom: t.atom, from: t.from as AtomState, to: t.to as AtomState, at: t.at, ...(t.to === "RUNNING" && t.attempt ? { attempt: t.attempt } : {}), ...(t.runner ? { runner: t.runner } : {}) }],
  );
}

/**
 * The transitions a snapshot read without its trail still tells: each atom's latest entry into
 * each state (the records keep only the latest time of each state, so a step's earlier tries are
 * missing: read the snapshot with `{ trail: true }` for all of them), in time order, numbered from 1.
 * @example viewer.transitions = transitionsFromSnapshot(await readSnapshot(backend, id))
 */
export function transitionsFromSnapshot(snapshot: Pick<FlowSnapshot, "atoms">): TimelineTransition[] {
  const entries: Array<{ atom: string; state: AtomState; at: number; order: number; attempts: number }> = [];
  snapshot.atoms.forEach((atom, order) => {
    for (const [state, at] of Object.entries(atom.detail.timestamps ?? {}) as Array<[AtomState, number | undefined]>) {
      if (typeof at === "number") entries.push({ atom: atom.name, state, at, order, attempts: atom.attempts });
    }
  });
  entries.sort((a, b) => a.at - b.at || a.order - b.order || PASS_ORDER.indexOf(a.state) - PASS_ORDER.indexOf(b.state));
  const last = new Map<string, AtomState>();
  const out: TimelineTransition[] = [];
  for (const e of entries) {
    const from = last.get(e.atom) ?? "PENDING";
    last.set(e.atom, e.state);
    if (e.state === "PENDING" && from === "PENDING") continue; // a first PENDING: no change to show
    out.push({ seq: out.length + 1, atom: e.atom, from, to: e.state, at: e.at, ...(e.state === "RUNNING" && e.attempts > 0 ? { attempt: e.attempts } : {}) });
  }
  return out;
}

const isMarker = (n: GraphNode) => n.kind === "flow" || n.kind === "flow-end";

/**
 * The groups and atoms of a compiled flow. The compiler emits a flow's entry marker, then its
 * retry and items, then its exit marker: nested like parentheses, so a stack over the nodes in
 * compile order gives each atom's subflow. Edges between atoms pass through the markers.
 */
function structure(graph: FlowGraph): { groups: GroupView[]; atoms: Array<{ name: string; kind: string; group: string | undefined }>; edges: Array<[string, string]> } {
  const groups: GroupView[] = [];
  const atoms: Array<{ name: string; kind: string; group: string | undefined }> = [];
  const open: Array<string | undefined> = [];
  for (const n of graph.nodes) {
    if (n.kind === "flow") {
      // The root flow is the whole drawing (its name is the title), not a box.
      const name = open.length === 0 ? undefined : n.name;
      if (name !== undefined) groups.push({ name, parent: open.at(-1) });
      open.push(name);
    } else if (n.kind === "flow-end") {
      open.pop();
    } else {
      atoms.push({ name: n.name, kind: n.kind, group: open.at(-1) });
    }
  }
  // Keep only groups that hold an atom, directly or below (an empty subflow draws nothing).
  const used = new Set<string>();
  const parentOf = new Map(groups.map((g) => [g.name, g.parent]));
  for (const a of atoms) for (let g = a.group; g !== undefined && !used.has(g); g = parentOf.get(g)) used.add(g);

  const edges: Array<[string, string]> = [];
  for (const n of graph.nodes) {
    if (isMarker(n)) continue;
    const seen = new Set<number>();
    const stack = [...n.succs];
    while (stack.length) {
      const i = stack.pop() as number;
      if (seen.has(i)) continue;
      seen.add(i);
      const m = graph.nodes[i];
      if (!m) continue;
      if (isMarker(m)) stack.push(...m.succs);
      else edges.push([n.name, m.name]);
    }
  }
  return { groups: groups.filter((g) => used.has(g.name)), atoms, edges };
}

/**
 * The view of a flow: its graph's structure with the snapshot's states on it. Without a
 * snapshot every atom is PENDING; an atom the snapshot has and the graph lacks is left out.
 */
export function buildModel(graph: FlowGraph, snapshot: FlowSnapshot | undefined, transitions: TimelineTransition[] | undefined): ViewModel {
  const { groups, atoms, edges } = structure(graph);
  const views = atoms.map((a): AtomView => ({ ...a, state: "PENDING", result: undefined, failure: undefined, revertFailure: undefined, attempts: 0, progress: undefined, waiting: false }));
  const model: ViewModel = {
    flowName: graph.nodes.find((n) => n.kind === "flow")?.name ?? "",
    flowState: undefined,
    suspendedReason: undefined,
    waitingFor: [],
    groups,
    atoms: views,
    byName: new Map(views.map((v) => [v.name, v])),
    edges,
    transitions: [],
  };
  if (snapshot) applySnapshot(model, snapshot);
  if (transitions) model.transitions = [...transitions].sort((a, b) => a.seq - b.seq);
  return model;
}

/** Puts a snapshot's states, results, failures and waits on the model; the timeline is its audit trail, or derived from its records. */
function applySnapshot(model: ViewModel, snapshot: FlowSnapshot): void {
  model.flowName = snapshot.name;
  model.flowState = snapshot.state;
  model.suspendedReason = snapshot.suspendedReason;
  model.waitingFor = snapshot.waitingFor.map((w) => w.name);
  for (const a of snapshot.atoms) {
    const view = model.byName.get(a.name);
    if (!view) continue;
    Object.assign(view, { state: a.state, result: a.result, failure: a.failure, revertFailure: a.revertFailure, attempts: a.attempts, progress: a.detail.progress });
  }
  markWaiting(model);
  model.transitions = snapshot.trail ? transitionsFromTrail(snapshot.trail) : transitionsFromSnapshot(snapshot);
}

/** A wait is waiting when the flow stopped for its input (`waitFor(input)` is named `wait:<input>`). */
function markWaiting(model: ViewModel): void {
  const names = new Set(model.waitingFor.map((w) => `wait:${w}`));
  for (const a of model.atoms) a.waiting = a.kind === "wait" && names.has(a.name) && (a.state === "PENDING" || a.state === "RUNNING");
}

/**
 * Applies one live change to the model; `now` stamps the transition a live atom event adds to the
 * timeline (an audit trail's own entries, `type: "transition"`, bring their time). A snapshot
 * replaces what the model holds, except a timeline set from an audit trail (`keepTimeline`).
 */
export function applyChange(model: ViewModel, change: ViewerChange, now: number, keepTimeline = false): void {
  switch (change.type) {
    case "snapshot": {
      const timeline = model.transitions;
      applySnapshot(model, change.snapshot);
      if (keepTimeline) model.transitions = timeline;
      return;
    }
    case "flow":
      model.flowState = change.state;
      // A run ends SUSPENDING then SUSPENDED, and says what it waits for in between.
      if (change.state !== "SUSPENDED" && change.state !== "SUSPENDING") {
        model.suspendedReason = undefined;
        model.waitingFor = [];
      }
      break;
    case "wait":
      if (change.reason === "input") {
        model.suspendedReason = "input";
        model.waitingFor = [...(change.inputs ?? [])];
      }
      break;
    case "progress": {
      const view = model.byName.get(change.name);
      if (view) view.progress = change.progress;
      return;
    }
    case "transition":
      model.transitions.push(change.transition);
      model.transitions.sort((a, b) => a.seq - b.seq);
      return;
    case "atom": {
      const view = model.byName.get(change.name);
      // An atom never moves to the state it is in: a change to the state shown is one the
      // snapshot already holds (it was read while the change was on its way).
      if (!view || view.state === change.state) return;
      const from = change.oldState ?? view.state;
      view.state = change.state;
      if (change.state === "RUNNING") {
        view.attempts += 1;
        view.failure = undefined;
      }
      if (change.state === "SUCCESS") view.result = change.result;
      if (change.state === "FAILURE") view.failure = change.failure;
      if (change.state === "REVERT_FAILURE") view.revertFailure = change.failure;
      if (change.state === "PENDING" || change.state === "REVERTED") view.result = undefined;
      if (!keepTimeline) {
        const seq = (model.transitions.at(-1)?.seq ?? 0) + 1;
        model.transitions.push({ seq, atom: change.name, from, to: change.state, at: now, ...(change.state === "RUNNING" ? { attempt: view.attempts } : {}) });
      }
      break;
    }
  }
  markWaiting(model);
}
