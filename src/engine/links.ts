import type { Flow } from "../patterns/flow.js";
import type { DeciderDepth, GraphFlow } from "../patterns/graph.js";
import type { AtomNode, ExecNode, ExecutionGraph } from "./compiler.js";

/** The flow an atom or a flow marker sits in. */
export function parentFlow(n: ExecNode): Flow | undefined {
  return n.atom ? (n.path[n.path.length - 2] as Flow | undefined) : n.scope.parent?.flow;
}

/**
 * The atoms a decider's "no" on `target` skips (see deciders.ts). Only a graph flow's links have
 * deciders, so the graph flow that holds the link brings that code: an app without graph flows
 * does not bundle it.
 */
export function ignoredRegion(graph: ExecutionGraph, target: ExecNode, depth: DeciderDepth): AtomNode[] {
  return (parentFlow(target) as GraphFlow).ignoredRegion(graph, target, depth);
}
