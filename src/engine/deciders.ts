import type { AtomNode, ExecNode, ExecutionGraph } from "./compiler.js";
import type { DeciderDepth } from "../patterns/graph.js";
import { setOwn } from "../persistence/clone.js";
import type { Journal } from "./journal.js";
import { parentFlow } from "./links.js";

/**
 * Evaluates the deciders on the links into `target`: each gets the results of its link's source
 * (an atom, or the atoms of a subflow that succeeded); a source with no result yet does not vote.
 * Returns the widest region a "no" skips, or `undefined` when every decider said yes.
 */
export function decide(graph: ExecutionGraph, journal: Journal, target: ExecNode): AtomNode[] | undefined {
  let widest: AtomNode[] | undefined;
  for (const { from, decider, depth } of target.deciders) {
    const source = graph.nodes[from] as ExecNode;
    const sources = source.atom ? [source] : [...graph.atoms.values()].filter((a) => a.path.includes(source.scope.flow));
    const history: Record<string, unknown> = {};
    for (const s of sources) {
      const d = journal.detail(s);
      if (d.state === "SUCCESS") setOwn(history, s.name, d.result);
    }
    if (Object.keys(history).length === 0 && sources.length > 0) continue;
    if (!decider(history)) {
      const region = ignoredRegion(graph, target, depth);
      if (!widest || region.length > widest.length) widest = region;
    }
  }
  return widest;
}

/** The atoms of the flow that a flow-entry node marks (its whole subtree). */
function atomsInside(graph: ExecutionGraph, entry: ExecNode): AtomNode[] {
  const flow = entry.scope.flow;
  return [...graph.atoms.values()].filter((n) => n.path.includes(flow));
}

function exitOf(graph: ExecutionGraph, entry: ExecNode): ExecNode {
  return graph.nodes.find((n) => n.kind === "flow-end" && n.scope === entry.scope) as ExecNode;
}


/**
 * The atoms a decider's "no" on `target` skips, by TaskFlow's depths: ATOM the target only;
 * NEIGHBORS the target and the atoms right after it; FLOW the target and what follows it in its
 * own flow (not in nested flows); ALL the target and everything after it. Reached through the
 * graph flow that holds the link (see links.ts): only graph flows have deciders.
 */
export function ignoredRegion(graph: ExecutionGraph, target: ExecNode, depth: DeciderDepth): AtomNode[] {
  const region = new Set<AtomNode>(target.atom ? [target] : atomsInside(graph, target));
  const from = target.atom ? target : exitOf(graph, target);
  const next = (n: ExecNode) => n.succs.map((i) => graph.nodes[i] as ExecNode);
  if (depth === "NEIGHBORS") {
    for (const s of next(from)) if (s.atom) region.add(s);
  } else if (depth === "FLOW" || depth === "ALL") {
    // FLOW: the atoms after it in its own flow; ALL: everything after it, through flow markers.
    const flow = parentFlow(target);
    const follows = (n: ExecNode) => depth === "ALL" || (n.atom !== undefined && parentFlow(n) === flow);
    const stack = next(from).filter(follows);
    const seen = new Set<ExecNode>();
    while (stack.length > 0) {
      const s = stack.pop() as ExecNode;
      if (seen.has(s)) continue;
      seen.add(s);
      if (s.atom) region.add(s);
      for (const x of next(s)) if (follows(x)) stack.push(x); // not push(...): a flow marker may have 100,000 successors
    }
  }
  return [...region];
}
