import type { AtomState } from "../states.js";
import type { FlowGraph, GraphNode } from "./compiler.js";

type States = Readonly<Record<string, AtomState>>;

const isMarker = (n: GraphNode) => n.kind === "flow" || n.kind === "flow-end";
const quote = (s: string) => `"${s.replace(/"/g, '\\"')}"`;

/**
 * The execution graph as Graphviz DOT, atoms labelled with their states when given.
 * @example toDot(engine.compile(), { reserve: "SUCCESS", charge: "RUNNING" })
 */
export function toDot(graph: FlowGraph, states: States = {}): string {
  const lines = ["digraph flow {", "  rankdir=LR;"];
  for (const n of graph.nodes) {
    const label = states[n.name] ? `${n.name}\\n${states[n.name]}` : n.name;
    lines.push(`  n${n.index} [label=${quote(label)}, shape=${isMarker(n) ? "point" : "box"}];`);
  }
  for (const n of graph.nodes) for (const s of n.succs) lines.push(`  n${n.index} -> n${s};`);
  lines.push("}");
  return lines.join("\n");
}

/**
 * The execution graph as a Mermaid flowchart, atoms labelled with their states when given.
 * @example toMermaid(engine.compile(), Object.fromEntries(engine.storage.atomDetails().map((d) => [d.name, d.state])))
 */
export function toMermaid(graph: FlowGraph, states: States = {}): string {
  const lines = ["flowchart LR"];
  for (const n of graph.nodes) {
    const label = (states[n.name] ? `${n.name}<br/>${states[n.name]}` : n.name).replace(/"/g, "'");
    lines.push(isMarker(n) ? `  n${n.index}(("${label}"))` : `  n${n.index}["${label}"]`);
  }
  for (const n of graph.nodes) for (const s of n.succs) lines.push(`  n${n.index} --> n${s}`);
  return lines.join("\n");
}
