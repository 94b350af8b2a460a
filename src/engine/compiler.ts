import type { Atom } from "../atoms/atom.js";
import type { Task } from "../atoms/task.js";
import type { Retry } from "../atoms/retry.js";
import type { Sleep } from "../atoms/sleep.js";
import type { WaitFor } from "../atoms/wait-for.js";
import { CompilationFailure, Duplicate } from "../errors.js";
import type { Flow, FlowItem } from "../patterns/flow.js";
import type { GraphFlow, Decider, DeciderDepth } from "../patterns/graph.js";
import { LinearFlow } from "../patterns/linear.js";
import { EMPTY_LIST } from "../empty.js";

/** One level of the flow tree, for scoping and decider depths. */
export interface FlowScope {
  readonly flow: Flow;
  readonly parent: FlowScope | undefined;
  readonly depth: number;
  /** Position of each direct item in the flow. */
  readonly positions: ReadonlyMap<FlowItem, number>;
}

/** What every node of the execution graph has. */
interface NodeBase {
  readonly index: number;
  readonly name: string;
  /** The flow this node belongs to (for a flow marker: the flow it marks). */
  readonly scope: FlowScope;
  preds: readonly number[];
  succs: readonly number[];
  /** Decider edges into this node. */
  deciders: ReadonlyArray<{ readonly from: number; readonly decider: Decider; readonly depth: DeciderDepth }>;
  /** For atoms: the items enclosing it at each level of the tree, root first. */
  readonly path: readonly FlowItem[];
  /**
   * For atoms: each argument with where to look it up (storage name and the atoms that provide
   * it, nearest first), resolved once here. A list, not a Map: a Map costs about 200 bytes per
   * atom that the flow keeps, and each walk over one makes an entry array per argument.
   */
  args: readonly ArgSpec[];
  /** The nearest enclosing retry (for a retry: its parent flow's retry). */
  retry: RetryNode | undefined;
  /** For a retry: the atoms of its flow, subflows included (not the retry itself). */
  subgraph: readonly AtomNode[];
}

/** Where an atom's argument is looked up: the argument, its storage name, whether it may be missing, and the atoms that may provide it, nearest first. */
export interface ArgSpec {
  readonly arg: string;
  readonly symbol: string;
  readonly optional: boolean;
  readonly providers: readonly AtomNode[];
}

/**
 * `list` with `item` at its end: a list of one to start with (in place of the shared empty one a
 * node starts with), then `list` itself pushed to. A flow keeps its compiled nodes, and a list
 * pushed to from empty keeps 17 slots.
 */
function appended<T>(list: readonly T[], item: T): readonly T[] {
  if (!list.length) return [item];
  (list as T[]).push(item);
  return list;
}

/** An atom node, tagged with its kind: the engine runs it through `atom.action`. */
export interface TaskNode extends NodeBase { readonly kind: "task"; readonly atom: Task<any> }
export interface RetryNode extends NodeBase { readonly kind: "retry"; readonly atom: Retry<any> }
export interface SleepNode extends NodeBase { readonly kind: "sleep"; readonly atom: Sleep }
export interface WaitNode extends NodeBase { readonly kind: "wait"; readonly atom: WaitFor }
export type AtomNode = TaskNode | RetryNode | SleepNode | WaitNode;
/** The entry or exit marker of a flow. */
export interface FlowNode extends NodeBase { readonly kind: "flow" | "flow-end"; readonly atom: undefined }

/** A node of the execution graph: an atom, or the entry or exit marker of a flow. */
export type ExecNode = AtomNode | FlowNode;

/**
 * A node of a compiled flow, as a tool that draws or inspects the graph sees it.
 * @example for (const n of compile(flow).nodes) console.log(n.index, n.kind, n.name, n.succs)
 */
export interface GraphNode {
  /** Its position in compile order (the engine's order for atoms ready together). */
  readonly index: number;
  /** An atom's kind, or the entry (`flow`) or exit (`flow-end`) marker of a flow. */
  readonly kind: ExecNode["kind"];
  readonly name: string;
  /** Indexes of the nodes that must finish before this one; of those that follow it. */
  readonly preds: readonly number[];
  readonly succs: readonly number[];
}

/**
 * A compiled flow: every node in compile order, and the atoms by name. Flows become an entry and
 * an exit marker each.
 * @example toMermaid(engine.compile(), { charge: "SUCCESS" })
 */
export interface FlowGraph {
  readonly nodes: readonly GraphNode[];
  readonly atoms: ReadonlyMap<string, GraphNode>;
}

/** A flow compiled for running: the nodes in compile order, and atoms by name. */
export interface ExecutionGraph {
  readonly root: FlowItem;
  readonly nodes: readonly ExecNode[];
  readonly atoms: ReadonlyMap<string, AtomNode>;
  /** Every name an atom provides, with the atoms that provide it, in compile order. */
  readonly providers: ReadonlyMap<string, readonly AtomNode[]>;
}

/** The compiled nodes of one item of a flow: where its edges in go, and where its edges out leave. */
export interface Span {
  entry: number;
  exit: number;
}

/**
 * What a flow's pattern links when the compiler closes the flow (`Flow.wire`): its items' spans
 * in item order, between the flow's entry (or its retry) and its exit marker. Each pattern brings
 * its own part of the compiler, so an app bundles the patterns it uses and no other.
 */
export interface Wiring {
  readonly spans: readonly Span[];
  /** Each item's position in the flow. */
  readonly positions: ReadonlyMap<FlowItem, number>;
  readonly entry: number;
  readonly exit: number;
  /** Adds an edge between two nodes. */
  edge(from: number, to: number): void;
  /** Puts a decider on the edge `from → to` (a graph flow's link). */
  decider(from: number, to: number, decider: Decider, depth: DeciderDepth): void;
}

/** A flow the compiler has entered and not closed yet: the spans of its items compiled so far. */
interface Frame {
  flow: Flow;
  scope: FlowScope;
  path: FlowItem[];
  flowEntry: number;
  /** Where its items start: the flow's entry marker, or its retry. */
  entry: number;
  /** The retry its items answer to. */
  inner: RetryNode | undefined;
  spans: Span[];
}

/** Whether an item is a flow (by its pattern, not its class: two copies of the package agree). */
export function isFlow(item: FlowItem): item is Flow {
  return (item as Flow).pattern !== undefined;
}

/**
 * Flattens a flow into an execution graph. Each flow becomes an entry and an exit marker so
 * that linking two large unordered flows costs one edge per item, not one per pair.
 * @throws Duplicate for two atoms of one name or one object added twice
 */
export function compile(root: FlowItem): ExecutionGraph {
  const nodes: ExecNode[] = [];
  const atoms = new Map<string, AtomNode>();
  const seen = new Set<FlowItem>(); // flows entered (atoms: by name, in `atoms`)

  const node = (kind: ExecNode["kind"], name: string, atom: Atom<any> | undefined, scope: FlowScope, path: FlowItem[]): number => {
    const n = { index: nodes.length, kind, name, atom, scope, preds: EMPTY_LIST, succs: EMPTY_LIST, deciders: EMPTY_LIST, path, args: EMPTY_LIST, retry: undefined, subgraph: EMPTY_LIST } as ExecNode;
    nodes.push(n);
    return n.index;
  };
  const edge = (from: number, to: number) => {
    const f = nodes[from] as ExecNode, t = nodes[to] as ExecNode;
    f.succs = appended(f.succs, to);
    t.preds = appended(t.preds, from);
  };

  // No recursion: a flow being compiled is a frame on `open`, and its items are entered one at a
  // time, so how deep flows nest is not bounded by the JavaScript stack.
  const open: Frame[] = [];

  /** Enters an item: the span of an atom; for a flow, its frame is opened (and undefined returned). */
  const enter = (item: FlowItem, scope: FlowScope | undefined, path: FlowItem[], retry: RetryNode | undefined): Span | undefined => {
    if (!isFlow(item) && item.action.kind === "task" && (item as Task<any>).retry && !wrapped.has(item)) {
      // The retry shorthand: the task runs in a flow of its own with its retry.
      wrapped.add(item);
      item = new LinearFlow(`${item.name}[retry]`, { retry: (item as Task<any>).retry }).add(item);
    }
    if (!isFlow(item)) {
      // An atom added twice is found by its name, in the one lookup that finds two atoms of one
      // name (a flow of 100,000 atoms makes tables that size, and each lookup is a cache miss).
      const named = atoms.get(item.name);
      if (named?.atom === item) throw addedTwice(item);
      if (item.kind === "retry" && !asRetry.has(item)) {
        throw new CompilationFailure(`retry "${item.name}" is added as an item of a flow; attach it with linearFlow(name, { retry }, ...items)`);
      }
      if (named) throw new Duplicate(`two atoms are named "${item.name}"; atom names must be unique in a flow`);
      const s = scope ?? { flow: undefined as unknown as Flow, parent: undefined, depth: 0, positions: new Map() };
      // concat, not a spread: a list spread into keeps 17 slots, and every compiled node keeps its path.
      const i = node(item.action.kind, item.name, item, s, path.concat([item]));
      const n = nodes[i] as AtomNode;
      atoms.set(item.name, n);
      n.retry = retry;
      for (let r = retry; r; r = r.retry) r.subgraph = appended(r.subgraph, n);
      return { entry: i, exit: i };
    }
    if (seen.has(item)) throw addedTwice(item);
    seen.add(item);
    const flowScope: FlowScope = {
      flow: item,
      parent: scope,
      depth: scope ? scope.depth + 1 : 0,
      positions: item.items.reduce((m, c, i) => m.set(c, i), new Map<FlowItem, number>()), // no [item, i] pair per item on the way
    };
    const childPath = path.concat([item]);
    const flowEntry = node("flow", item.name, undefined, flowScope, childPath);
    let entry = flowEntry;
    let inner = retry;
    if (item.retry) {
      // A retry runs after its flow's entry and before everything in the flow.
      asRetry.add(item.retry);
      const r = enter(item.retry, flowScope, childPath, retry) as Span;
      edge(flowEntry, r.entry);
      entry = r.exit;
      inner = nodes[r.entry] as RetryNode;
    }
    open.push({ flow: item, scope: flowScope, path: childPath, flowEntry, entry, inner, spans: [] });
    return undefined;
  };

  /** Closes a flow whose items are all compiled: its exit marker, and the edges its pattern makes (the flow's own `wire`). */
  const close = ({ flow: item, scope: flowScope, path: childPath, flowEntry, entry, spans }: Frame): Span => {
    const exit = node("flow-end", `${item.name}[$]`, undefined, flowScope, childPath);
    item.wire({ spans, positions: flowScope.positions, entry, exit, edge, decider });
    return { entry: flowEntry, exit };
  };
  const decider = (from: number, to: number, decider: Decider, depth: DeciderDepth) => {
    const n = nodes[to] as ExecNode;
    n.deciders = appended(n.deciders, { from, decider, depth });
  };
  const wrapped = new Set<FlowItem>();
  const asRetry = new Set<FlowItem>();

  if (!isFlow(root) && root.kind === "retry") {
    throw new CompilationFailure(`retry "${root.name}" cannot be the root of a flow; attach it to a flow`);
  }
  enter(root, undefined, [], undefined);
  while (open.length > 0) {
    const top = open[open.length - 1] as Frame;
    const next = top.flow.items[top.spans.length];
    if (next === undefined) {
      open.pop();
      const span = close(top);
      open[open.length - 1]?.spans.push(span);
    } else {
      const span = enter(next, top.scope, top.path, top.inner);
      if (span) top.spans.push(span);
    }
  }
  return { root, nodes, atoms, providers: resolveArguments(atoms) };
}

/** The error for one object (an atom or a flow) added to a flow more than once. */
function addedTwice(item: FlowItem): Duplicate {
  return new Duplicate(`"${item.name}" is added more than once to the flow`);
}

/** Precomputes, for every argument of every atom, which atoms may provide it, nearest first; returns the providers of each name. */
function resolveArguments(atoms: Map<string, AtomNode>): Map<string, AtomNode[]> {
  const providers = new Map<string, AtomNode[]>();
  for (const n of atoms.values()) {
    for (const sym of n.atom.provides) {
      // A list of one to start with (a list pushed to from empty keeps 17 slots; a flow keeps these).
      const list = providers.get(sym);
      if (list) list.push(n);
      else providers.set(sym, [n]);
    }
  }
  for (const n of atoms.values()) {
    // An atom with no arguments keeps the shared empty list (a flow keeps its compiled nodes).
    // forEach, not for…of: no entry array per argument.
    n.atom.requiredArgs.forEach((sym, arg) => addArg(n, providers, arg, sym, false));
    n.atom.optionalArgs.forEach((sym, arg) => addArg(n, providers, arg, sym, true));
  }
  return providers;
}

/** Resolves one argument of `n`: the atoms that may provide it, nearest first. */
function addArg(n: AtomNode, providers: Map<string, AtomNode[]>, arg: string, symbol: string, optional: boolean): void {
  const list = providers.get(symbol) ?? EMPTY_LIST;
  // One provider (a chain, most flows): the providers' own list of one (complete by now, and
  // never changed after), no filtered copy, no sort. Otherwise a copy as long as it is (what
  // filter returns keeps 17 slots, and the compiled node keeps it), or the shared empty list.
  let visible: readonly AtomNode[];
  if (list.length === 1) visible = list[0] !== n && sees(n, list[0] as AtomNode) ? list : EMPTY_LIST;
  else {
    const found = list.filter((c) => c !== n && sees(n, c)).sort((x, y) => lcaDepth(n, y) - lcaDepth(n, x) || y.index - x.index);
    visible = found.length ? found.slice() : EMPTY_LIST;
  }
  n.args = appended(n.args, { arg, symbol, optional, providers: visible });
}

/** Depth of the deepest flow enclosing both atoms. */
function lcaDepth(a: AtomNode, b: AtomNode): number {
  let d = 0;
  while (d < a.path.length - 1 && d < b.path.length - 1 && a.path[d] === b.path[d]) d++;
  return d;
}

/**
 * TaskFlow's scoping: an atom sees the atoms that run before it, in its flow or an enclosing
 * one; siblings of an unordered flow do not see each other.
 */
function sees(reader: AtomNode, candidate: AtomNode): boolean {
  const d = lcaDepth(reader, candidate);
  const flow = reader.path[d - 1] as Flow | undefined;
  const mine = reader.path[d];
  const theirs = candidate.path[d];
  if (!flow || mine === undefined || theirs === undefined || mine === theirs) return false;
  if (theirs === flow.retry) return true; // a flow's retry runs before all of its items
  if (flow.pattern === "graph") return (flow as GraphFlow).runsBefore(theirs, mine);
  if (flow.pattern !== "linear") return false;
  // The scope of the flow holding both knows its items' positions.
  let scope = reader.scope;
  while (scope.flow !== flow) scope = scope.parent as FlowScope;
  return (scope.positions.get(theirs) as number) < (scope.positions.get(mine) as number);
}
