import type { Atom } from "../atoms/atom.js";
import type { Retry } from "../atoms/retry.js";
import { Duplicate } from "../errors.js";

/**
 * Anything a flow can hold: an atom or another flow.
 * @example const steps: FlowItem[] = [validate, linearFlow("pay", charge, receipt)]; linearFlow("checkout", ...steps)
 */
export type FlowItem = Atom<any> | Flow;

/**
 * Options of a flow, passed before its items.
 * @example linearFlow("call", { retry: new Times(3) }, callApi)
 */
export interface FlowOptions {
  /** Decides what happens when an atom of this flow fails (try again, revert, revert all). */
  retry?: Retry<any>;
}

/**
 * A structure of atoms and subflows. The pattern decides how the items are ordered.
 * @example for (const atom of flow.atoms()) console.log(atom.name) // every atom, subflows and retries included
 */
export abstract class Flow {
  abstract readonly pattern: "linear" | "unordered" | "graph";
  protected readonly children: FlowItem[] = [];
  private readonly added = new Set<FlowItem>();
  /** The retry controller of this flow, if any; it runs before the flow's atoms. */
  readonly retry: Retry<any> | undefined;

  constructor(
    readonly name: string,
    options: FlowOptions = {},
  ) {
    this.retry = options.retry;
    this.retry?.adopt(name);
  }

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

  /** Names this flow's atoms (and its retry) provide. */
  get provides(): string[] {
    return [...new Set([...(this.retry?.provides ?? []), ...this.children.flatMap((c) => c.provides)])];
  }

  /** Names this flow needs from outside (from the store or an earlier flow). */
  abstract get requires(): string[];

  /** Takes back the last item added (a graph flow refusing it). */
  protected dropLast(): void {
    const item = this.children.pop();
    if (item) this.added.delete(item);
  }

  /** Every atom of the flow and its subflows (retries included), depth first. */
  *atoms(): Generator<Atom<any>> {
    if (this.retry) yield this.retry;
    for (const c of this.children) {
      if (c instanceof Flow) yield* c.atoms();
      else yield c;
    }
  }
}


/** Splits a factory's arguments: an optional {@link FlowOptions} object first, then the items. */
export function splitItems(args: Array<FlowItem | FlowOptions>): { options: FlowOptions; items: FlowItem[] } {
  const [first, ...rest] = args;
  const isItem = (x: unknown) => x instanceof Flow || (typeof x === "object" && x !== null && "kind" in x && "saveAs" in x);
  if (first !== undefined && !isItem(first)) return { options: first as FlowOptions, items: rest as FlowItem[] };
  return { options: {}, items: args as FlowItem[] };
}
