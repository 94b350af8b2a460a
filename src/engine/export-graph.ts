import type { AtomState } from "../states.js";
import type { ExecutionGraph } from "./compiler.js";

type States = Readonly<Record<string, AtomState>>;

const quote = (s: string) => `"${s.replace(/"/g, '\\"')}"`;

/** The execution graph as Graphviz DOT, atoms labelled with their states when given. */
export function toDot(graph: ExecutionGraph, states: States = {}): string {
  const lines = ["digraph flow {", "  rankdir=LR;"];
  for (const n of graph.nodes) {
    const label = states[n.name] ? `${n.name}\\n${states[n.name]}` : n.name;
    lines.push(`  n${n.index} [label=${quote(label)}, shape=${n.atom ? "box" : "point"}];`);
  }
  for (const n of graph.nodes) for (const s of n.succs) lines.push(`  n${n.index} -> n${s};`);
  lines.push("}");
  return lines.join("\n");
}

/** The execution graph as a Mermaid flowchart, atoms labelled with their states when given. */
export function toMermaid(graph: ExecutionGraph, states: States = {}): string {
  const lines = ["flowchart LR"];
  for (const n of graph.nodes) {
    const label = (states[n.name] ? `${n.name}<br/>${states[n.name]}` : n.name).replace(/"/g, "'");
    lines.push(n.atom ? `  n${n.index}["${label}"]` : `  n${n.index}(("${label}"))`);
  }
  for (const n of graph.nodes) for (const s of n.succs) lines.push(`  n${n.index} --> n${s}`);
  return lines.join("\n");
}
