// Where each atom, subflow and edge goes, by dagre (a layered layout: Graphviz's dot, in
// JavaScript). Subflows are dagre's clusters (a compound graph), so a subflow's atoms stay inside
// its box. Text is not measured (happy-dom and a detached element have no fonts): a node's width
// comes from the length of its longest line, which is all a monospace-ish label needs.
import { graphlib, layout } from "@dagrejs/dagre";
import type { ViewModel } from "./model.js";

/** A box, by its centre (as dagre gives it). */
export interface Box {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

/** Positions of everything the graph draws. */
export interface GraphLayout {
  readonly width: number;
  readonly height: number;
  readonly atoms: ReadonlyMap<string, Box>;
  readonly groups: ReadonlyMap<string, Box>;
  readonly edges: ReadonlyArray<{ readonly from: string; readonly to: string; readonly points: ReadonlyArray<{ x: number; y: number }> }>;
}

/** Roughly the width of one character of the node labels (12px sans-serif), in px. */
export const CHAR_WIDTH = 7;
export const NODE_HEIGHT = 40;
/** Room above a subflow's atoms for its name. */
const GROUP_LABEL = 16;

// Node ids are prefixed: a subflow may share its name with an atom.
const atomId = (name: string) => `a:${name}`;
const groupId = (name: string) => `g:${name}`;

/**
 * Lays out the model's atoms and subflows, left to right. Depends only on the structure (names,
 * kinds, groups, edges), never on states, so the element lays a graph out once and redraws
 * states on it.
 */
export function layoutGraph(model: Pick<ViewModel, "atoms" | "groups" | "edges">): GraphLayout {
  const g = new graphlib.Graph({ compound: true, multigraph: false });
  g.setGraph({ rankdir: "LR", nodesep: 18, ranksep: 36, marginx: 8, marginy: 8 + GROUP_LABEL });
  g.setDefaultEdgeLabel(() => ({}));
  for (const group of model.groups) {
    g.setNode(groupId(group.name), { width: 0, height: 0, paddingTop: GROUP_LABEL });
    if (group.parent !== undefined) g.setParent(groupId(group.name), groupId(group.parent));
  }
  for (const a of model.atoms) {
    // The longest of its lines: the name, and "waiting for input" (the longest state line).
    const chars = Math.max(a.name.length, 17);
    g.setNode(atomId(a.name), { width: Math.min(chars, 36) * CHAR_WIDTH + 20, height: NODE_HEIGHT });
    if (a.group !== undefined) g.setParent(atomId(a.name), groupId(a.group));
  }
  for (const [from, to] of model.edges) g.setEdge(atomId(from), atomId(to));
  layout(g);

  const atoms = new Map<string, Box>();
  for (const a of model.atoms) atoms.set(a.name, box(g.node(atomId(a.name))));
  const groups = new Map<string, Box>();
  for (const group of model.groups) {
    const b = box(g.node(groupId(group.name)));
    // Room for the name above the cluster's contents.
    groups.set(group.name, { x: b.x, y: b.y - GROUP_LABEL / 2, width: b.width, height: b.height + GROUP_LABEL });
  }
  const edges = model.edges.map(([from, to]) => ({ from, to, points: (g.edge(atomId(from), atomId(to)) as { points?: Array<{ x: number; y: number }> } | undefined)?.points ?? [] }));
  const label = g.graph() as { width?: number; height?: number };
  return { width: Math.ceil(label.width ?? 0), height: Math.ceil(label.height ?? 0), atoms, groups, edges };
}

function box(label: { x?: number; y?: number; width?: number; height?: number } | undefined): Box {
  return { x: label?.x ?? 0, y: label?.y ?? 0, width: label?.width ?? 0, height: label?.height ?? 0 };
}
