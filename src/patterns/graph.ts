import { AmbiguousDependency, DependencyFailure, NotFound } from "../errors.js";
import type { AtomNode, ExecNode, ExecutionGraph, Span, Wiring } from "../engine/compiler.js";
import { decide } from "../engine/deciders.js";
import type { Journal } from "../engine/journal.js";
import { build, Flow, type FlowItem, type FlowItems, type FlowOptions } from "./flow.js";
import { fan } from "./unordered.js";
import { EMPTY_LIST } from "../empty.js";
import type { FlowFingerprint } from "../persistence/models.js";
import type { CarriedByAll, NeedsAsSet, Needs } from "../typing.js";

/**
 * How far a decider's "no" reaches (TaskFlow's decider depths): `ATOM` the target only, `NEIGHBORS`
 * the target and the atoms right after it, `FLOW` the target and what follows it in
 * its own flow (not in nested flows), `ALL` the target and everything after it.
 * @example flow.link(check, pay, { decider: (r) => r["check"] === "approved", deciderDepth: "ATOM" }) // a "no" skips pay only
 */
export type DeciderDepth = "ALL" | "FLOW" | "NEIGHBORS" | "ATOM";

/**
 * Votes on whether the target of a link runs; receives the results of the link's source atoms,
 * by atom name (for a subflow source: its atoms that succeeded).
 * @example flow.link(check, pay, { decider: (results) => results["check"] === "approved" })
 */
export type Decider = (history: Record<string, unknown>) => boolean;

/**
 * Options of {@link GraphFlow.link}: a decider that may skip the target, and how far its "no" reaches.
 * @example flow.link(review, publish, { decider: (r) => r["review"] === true, deciderDepth: "FLOW" })
 */
export interface LinkOptions {
  decider?: Decider;
  /** Default `"ALL"`: everything after the target is skipped too. */
  deciderDepth?: DeciderDepth;
}

/**
 * An edge of a graph flow: explicit (`link`) or inferred from requires/provides.
 * @example for (const e of flow.edges) console.log(e.from.name, "→", e.to.name, e.symbols)
 */
export interface GraphEdge {
  from: FlowItem;
  to: FlowItem;
  /** The names that made the edge, when it was inferred. */
  symbols: string[];
  decider?: Decider | undefined;
  deciderDepth?: DeciderDepth | undefined;
}

/**
 * Items ordered by their data: an item that requires a name runs after the item that provides
 * it, plus explicit links. A cycle or an ambiguous provider is refused at `add`/`link` time
 * and the change is discarded. Add subflows once they are complete: their requires and provides
 * are read when they are added.
 * @example new GraphFlow("release").add(build, test, publish).link(test, publish) // publish after test, though it needs nothing from it
 */
export class GraphFlow<Provides extends object = {}, Results extends object = {}, N extends Needs = Needs> extends Flow<Provides, Results, N> {
  readonly pattern = "graph" as const;
  readonly #providers = new Map<string, FlowItem[]>();
  readonly #consumers = new Map<string, FlowItem[]>();
  /**
   * The edges out of each item: one edge as it is, more in a map by their target (an item of a
   * chain or a pipeline has one edge out, and a map of one costs about 180 bytes the flow keeps).
   * An item whose edges were all taken back keeps an empty map, so the order of `edges` is the
   * order the items first had an edge out, whatever was taken back since.
   */
  readonly #out = new Map<FlowItem, GraphEdge | Map<FlowItem, GraphEdge>>();

  protected override addOne(item: FlowItem): void {
    super.addOne(item);
    try {
      this.#wire(item);
    } catch (e) {
      this.#unwire(item);
      this.dropLast();
      throw e;
    }
  }

  /** @internal The atoms the deciders on links into `target`, an item of this flow, skip, if any (the engine asks it). */
  skipped(graph: ExecutionGraph, journal: Journal, target: ExecNode): AtomNode[] | undefined {
    return decide(graph, journal, target);
  }

  /** An explicit edge `from → to`, optionally guarded by a decider. */
  link(from: FlowItem, to: FlowItem, options: LinkOptions = {}): this {
    for (const n of [from, to]) {
      if (!this.#out.has(n) && !this.children.includes(n)) throw new NotFound(`graph flow "${this.name}": "${n.name}" is not in it; add it first`);
    }
    const previous = this.#edge(from, to);
    const edge: GraphEdge = { from, to, symbols: previous?.symbols ?? [], decider: options.decider, deciderDepth: options.deciderDepth };
    this.#setEdge(edge);
    const cycle = this.#pathBetween(to, from);
    if (cycle) {
      if (previous) this.#setEdge(previous);
      else this.#deleteEdge(from, to);
      throw new DependencyFailure(
        `graph flow "${this.name}": linking "${from.name}" → "${to.name}" makes a cycle: ${[from, to, ...cycle].map((n) => n.name).join(" → ")}`,
      );
    }
    return this;
  }

  /** @internal Its edges, each item without one in after its entry, each without one out before its exit. */
  wire(wiring: Wiring): void {
    const { spans, positions, edge, decider } = wiring;
    const hasIn: boolean[] = [];
    const hasOut: boolean[] = [];
    for (const e of this.edges) {
      const f = positions.get(e.from) as number, t = positions.get(e.to) as number;
      const from = spans[f] as Span, to = spans[t] as Span;
      edge(from.exit, to.entry);
      if (e.decider) decider(from.exit, to.entry, e.decider, e.deciderDepth ?? "ALL");
      hasOut[f] = hasIn[t] = true;
    }
    fan(wiring, this.children, hasIn, hasOut);
  }

  /** @internal Its links that requires and provides do not imply, for the flow detail's fingerprint: `[from, to]`, or `[from, to, decider depth]`. */
  ownLinks(): FlowFingerprint["links"] {
    return this.edges.filter((e) => e.decider || !e.symbols.length).map((e) => [e.from.name, e.to.name, ...(e.decider ? [e.deciderDepth ?? "ALL"] : [])]);
  }

  /** Every edge, explicit and inferred. */
  get edges(): GraphEdge[] {
    // One list, no list per item on the way (a compile reads it, and a chain has an edge per item).
    const edges: GraphEdge[] = [];
    this.#out.forEach((m) => (m instanceof Map ? m.forEach((e) => edges.push(e)) : edges.push(m)));
    return edges;
  }

  get requires(): string[] {
    // A name is satisfied inside the graph only by another item (TaskFlow: a task that requires
    // and provides "x" still requires it).
    const inside = (item: FlowItem, name: string) => (this.#providers.get(name) ?? []).some((p) => p !== item);
    const fromRetry = new Set(this.retry?.provides ?? []);
    const needed = this.children.flatMap((c) => c.requires.filter((r) => !inside(c, r) && !fromRetry.has(r)));
    return [...new Set([...(this.retry?.requires ?? []), ...needed])];
  }

  #wire(item: FlowItem): void {
    // As TaskFlow: adding an item that requires a name two others provide is ambiguous; two
    // providers of a name nobody requires (yet) are not.
    for (const sym of item.requires) {
      const providers = this.#providers.get(sym);
      // Two providers at least, so most adds (one provider, or none) make no list here.
      if (!providers || providers.length < 2) continue;
      const found = providers.filter((p) => p !== item);
      if (found.length > 1) {
        throw new AmbiguousDependency(
          `graph flow "${this.name}": "${item.name}" requires "${sym}", which ${found.map((p) => `"${p.name}"`).join(" and ")} all provide; rename one with provides, or put them in separate subflows`,
        );
      }
    }
    for (const sym of item.provides) {
      // Appended in place: #unwire replaces a list rather than changing it, so no one holds an old one.
      const list = this.#providers.get(sym);
      if (list) list.push(item);
      else this.#providers.set(sym, [item]);
      for (const c of this.#consumers.get(sym) ?? EMPTY_LIST) if (c !== item) this.#addInferred(item, c, sym);
    }
    for (const sym of item.requires) {
      // A list of one to start with: an empty list pushed to reserves 17 slots, and the flow keeps it.
      const list = this.#consumers.get(sym);
      if (list) list.push(item);
      else this.#consumers.set(sym, [item]);
      for (const p of this.#providers.get(sym) ?? EMPTY_LIST) if (p !== item) this.#addInferred(p, item, sym);
    }
    // A new item can only close a cycle through itself.
    const cycle = this.#pathBetween(item, item);
    if (cycle) {
      throw new DependencyFailure(
        `graph flow "${this.name}": adding "${item.name}" makes a cycle: ${[item, ...cycle].map((n) => n.name).join(" → ")} (through the names they require and provide)`,
      );
    }
  }

  #unwire(item: FlowItem): void {
    for (const sym of item.provides) this.#providers.set(sym, (this.#providers.get(sym) ?? []).filter((p) => p !== item));
    for (const sym of item.requires) {
      const list = this.#consumers.get(sym);
      if (list) this.#consumers.set(sym, list.filter((c) => c !== item));
    }
    this.#out.delete(item);
    for (const from of this.#out.keys()) this.#deleteEdge(from, item);
  }

  #addInferred(from: FlowItem, to: FlowItem, sym: string): void {
    const out = this.#out.get(from); // looked up once, for both steps (one lookup per atom in a flow of many)
    const edge = this.#edge(from, to, out);
    if (edge) edge.symbols.push(sym);
    else this.#setEdge({ from, to, symbols: [sym] }, out);
  }

  /** `out`: what `#out` holds for `from`, when the caller has it. */
  #edge(from: FlowItem, to: FlowItem, out = this.#out.get(from)): GraphEdge | undefined {
    return out instanceof Map ? out.get(to) : out?.to === to ? out : undefined;
  }

  /** Adds `edge`, or puts it in the place of the edge between the same items. `out`: as for #edge. */
  #setEdge(edge: GraphEdge, out = this.#out.get(edge.from)): void {
    const { from, to } = edge;
    if (out instanceof Map) out.set(to, edge);
    else if (!out || out.to === to) this.#out.set(from, edge);
    else this.#out.set(from, new Map([[out.to, out], [to, edge]]));
  }

  #deleteEdge(from: FlowItem, to: FlowItem): void {
    const out = this.#out.get(from);
    if (out instanceof Map) out.delete(to);
    else if (out?.to === to) this.#out.set(from, new Map());
  }

  #targets(item: FlowItem): Iterable<FlowItem> {
    const out = this.#out.get(item);
    return out instanceof Map ? out.keys() : out ? [out.to] : [];
  }

  /** @internal Whether `from` runs before `to`, both items of this flow: a path of edges leads from one to the other (the compiler's scoping asks it). */
  runsBefore(from: FlowItem, to: FlowItem): boolean {
    // A direct edge first (an item that provides what the next one requires, as in a chain):
    // answered without the search's map, set and stack, which a compile asks once per argument.
    return this.#edge(from, to) !== undefined || this.#pathBetween(from, to) !== undefined;
  }

  /** A path of at least one edge from `start` to `goal` (excluding `start`), or undefined. */
  #pathBetween(start: FlowItem, goal: FlowItem): FlowItem[] | undefined {
    // An item with no edges out (each new one of a chain when it is added) is on no path.
    if (!this.#out.has(start)) return undefined;
    const parent = new Map<FlowItem, FlowItem>();
    const stack: FlowItem[] = [start];
    const seen = new Set<FlowItem>();
    while (stack.length > 0) {
      const n = stack.pop() as FlowItem;
      for (const next of this.#targets(n)) {
        if (seen.has(next)) continue;
        seen.add(next);
        parent.set(next, n);
        if (next === goal) {
          const path = [next];
          for (let p = parent.get(next); p !== undefined && p !== start; p = parent.get(p)) path.unshift(p);
          return path;
        }
        stack.push(next);
      }
    }
    return undefined;
  }
}

/** @example graphFlow("build", compile, link, test) // ordered by what each requires; or graphFlow("build", [compile, link, test]) */
export function graphFlow<const Items extends Array<FlowItems | FlowOptions>>(
  name: string,
  ...items: Items
): GraphFlow<CarriedByAll<Items>["provides"], CarriedByAll<Items>["results"], NeedsAsSet<Items>> {
  return build((options) => new GraphFlow(name, options), items);
}
