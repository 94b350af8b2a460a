import type { AtomFingerprint, FlowFingerprint } from "../persistence/models.js";
import type { GraphFlow } from "../patterns/graph.js";
import type { Flow } from "../patterns/flow.js";
import type { ExecutionGraph, FlowScope } from "./compiler.js";

/**
 * What a resume compares: every atom's name, kind, requires, optional, provides and version.
 * Frozen, lists and entries: the flow detail keeps it, and the memory backend keeps it as it is
 * rather than a copy at each commit of the flow detail (see keptClone), an entry per atom.
 */
export function fingerprint(graph: ExecutionGraph): AtomFingerprint[] {
  const out = [...graph.atoms.values()].map(({ atom, name }) => Object.freeze({
    name,
    kind: atom.kind,
    requires: sorted(atom.requires),
    optional: sorted(atom.optional),
    provides: sorted(atom.provides),
    version: atom.version,
  }));
  return Object.freeze(out) as AtomFingerprint[];
}

/**
 * Names in order, frozen: a list of one name or none is its own sorted copy (the atom's, never
 * written to), so the flow detail, which keeps an entry per atom, does not keep a new list for each.
 */
const sorted = (names: readonly string[]) => Object.freeze(names.length > 1 ? [...names].sort() : names) as string[];

/**
 * …and the flows: each one's kind, its items in compile order (a retry first, a subflow by its
 * name) and a graph flow's links that requires and provides do not imply, `[from, to]` or
 * `[from, to, decider depth]`. Read off the compiled graph in one pass, so a task's retry
 * shorthand shows as the flow it compiles to.
 */
export function flowsOf(graph: ExecutionGraph): FlowFingerprint[] {
  const out: FlowFingerprint[] = [];
  const at = new Map<FlowScope | undefined, number>();
  for (const n of graph.nodes) {
    const parent = at.get(n.kind === "flow" ? n.scope.parent : n.scope);
    if (n.kind === "flow-end") continue;
    if (parent !== undefined) out[parent]?.items.push(n.name);
    if (n.kind !== "flow") continue;
    const flow = n.scope.flow;
    at.set(n.scope, out.length);
    // A graph flow's own links (the others have none): read by the flow, so an app without graph flows does not bundle it.
    out.push({ name: n.name, pattern: flow.pattern, parent, items: [], links: (flow as Flow & Partial<Pick<GraphFlow, "ownLinks">>).ownLinks?.() });
  }
  // Frozen once built, as the atoms' fingerprint (a linear flow of n atoms lists n items).
  for (const f of out) Object.freeze(Object.freeze(f).items);
  return Object.freeze(out) as FlowFingerprint[];
}
