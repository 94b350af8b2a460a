import type { Atom } from "../atoms/atom.js";
import type { Retry } from "../atoms/retry.js";
import type { Wiring } from "../engine/compiler.js";
import { Duplicate } from "../errors.js";
import type { Carried, Needs } from "../typing.js";

/**
 * Anything a flow can hold: an atom or another flow.
 * @example const steps: FlowItem[] = [validate, linearFlow("pay", charge, receipt)]; linearFlow("checkout", ...steps)
 */
export type FlowItem = Atom<any> | Flow;

/**
 * What a flow's `add` and factories take: items one by one, arrays of items, or both. A large
 * flow is best built from an array: spreading 100,000 items into a call overflows the stack.
 * @example linearFlow("import", rows.map((row) => importRow(row))) // one array, no spread
 */
export type FlowItems = FlowItem | readonly FlowItem[];

/**
 * Options of a flow, passed before its items.
 * @example linearFlow("call", { retry: new Times(3) }, callApi)
 */
export interface FlowOptions {
  /** Decides what happens when an atom of this flow fails (try again, revert, revert all). */
  retry?: Retry<any>;
}

/**
 * A structure of atoms and subflows. The pattern decides how the items are ordered. A flow built
 * by a factory (`linearFlow`, `unorderedFlow`, `graphFlow`) carries, as types, what its items
 * provide (`Provides`) and their results by atom name (`Results`); `add` keeps the type it has.
 * @example for (const atom of flow.atoms()) console.log(atom.name) // every atom, subflows and retries included
 */
export abstract class Flow<Provides extends object = {}, Results extends object = {}, N extends Needs = Needs> {
  /** @internal Types only (never set): what the flow's items provide, their results by atom name, and what they need from before the flow. */
  declare readonly "~types"?: Carried<Provides, Results, N>;
  abstract readonly pattern: "linear" | "unordered" | "graph";
  protected readonly children: FlowItem[] = [];
  private readonly added = new Set<FlowItem>();
  /** The retry controller of this flow, if any; it runs before the flow's atoms. */
  declare readonly retry: Retry<any> | undefined;

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

  /** Adds items, one by one or in arrays (`add(tasks)`); the same object may be added only once. */
  add(...items: FlowItems[]): this {
    // Never spread: an array of 100,000 items spread into a call overflows the stack.
    for (const item of items) {
      if (Array.isArray(item)) for (const one of item as readonly FlowItem[]) this.addOne(one);
      else this.addOne(item as FlowItem);
    }
    return this;
  }

  /** Adds one item (a graph flow also wires it). */
  protected addOne(item: FlowItem): void {
    if (this.added.has(item)) {
      throw new Duplicate(`flow "${this.name}": "${item.name}" was already added to it`);
    }
    this.added.add(item);
    this.children.push(item);
  }

  /** Names this flow's atoms (and its retry) provide. */
  get provides(): string[] {
    return [...new Set([...(this.retry?.provides ?? []), ...this.children.flatMap((c) => c.provides)])];
  }

  /** Names this flow needs from outside (from the store or an earlier flow). */
  abstract get requires(): string[];

  /** @internal Links its compiled items as its pattern orders them (the compiler asks each flow when it closes it). */
  abstract wire(wiring: Wiring): void;

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


/**
 * A factory's flow: an optional {@link FlowOptions} object first, then items or arrays of items,
 * added one argument at a time (never spread again).
 */
export function build<F extends Flow>(create: (options: FlowOptions) => F, args: ReadonlyArray<FlowItems | FlowOptions>): F {
  const first = args[0];
  const isItem = (x: unknown) => Array.isArray(x) || x instanceof Flow || (typeof x === "object" && x !== null && "kind" in x && "saveAs" in x);
  const skip = first !== undefined && !isItem(first) ? 1 : 0;
  const flow = create(skip ? (first as FlowOptions) : {});
  for (let i = skip; i < args.length; i++) flow.add(args[i] as FlowItems);
  return flow;
}
