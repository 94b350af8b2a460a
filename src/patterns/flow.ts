import type { Atom } from "../atoms/atom.js";
import { Duplicate } from "../errors.js";

/** Anything a flow can hold: an atom or another flow. */
export type FlowItem = Atom<any> | Flow;

/** A structure of atoms and subflows. The pattern decides how the items are ordered. */
export abstract class Flow {
  abstract readonly pattern: "linear" | "unordered" | "graph";
  protected readonly children: FlowItem[] = [];
  private readonly added = new Set<FlowItem>();

  constructor(readonly name: string) {}

  /** The items in the order they were added. */
  get items(): readonly FlowItem[] {
    return this.children;
  }

  /** Adds items; the same object may be added only once. */
  add(...items: FlowItem[]): this {
    for (const item of items) {
      if (this.added.has(item)) {
        throw new Duplicate(`flow "${this.name}": "${item.name}" was already added to it`);
      }
      this.added.add(item);
      this.children.push(item);
    }
    return this;
  }

  /** Names this flow's atoms provide. */
  get provides(): string[] {
    return [...new Set(this.children.flatMap((c) => c.provides))];
  }

  /** Names this flow needs from outside (from the store or an earlier flow). */
  abstract get requires(): string[];

  /** Takes back the last item added (a graph flow refusing it). */
  protected dropLast(): void {
    const item = this.children.pop();
    if (item) this.added.delete(item);
  }

  /** Every atom of the flow and its subflows, depth first. */
  *atoms(): Generator<Atom<any>> {
    for (const c of this.children) {
      if (c instanceof Flow) yield* c.atoms();
      else yield c;
    }
  }
}

