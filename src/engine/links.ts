import type { Flow } from "../patterns/flow.js";
import type { GraphFlow } from "../patterns/graph.js";
import type { AtomNode, ExecNode, ExecutionGraph } from "./compiler.js";
import type { Journal } from "./journal.js";

/** The flow an atom or a flow marker sits in. */
export function parentFlow(n: ExecNode): Flow | undefined {
  return n.atom ? (n.path[n.path.length - 2] as Flow | undefined) : n.scope.parent?.flow;
}

/**
 * The atoms the deciders on links into `target` skip, if any (see deciders.ts). Only a graph
 * flow's links have deciders, so the graph flow that holds the link brings that code: an app
 * without graph flows does not bundle it.
 */
export function skippedBy(graph: ExecutionGraph, journal: Journal, target: ExecNode): AtomNode[] | undefined {
  return (parentFlow(target) as GraphFlow).skipped(graph, journal, target);
}
