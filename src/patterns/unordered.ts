import { build, Flow, type FlowItem, type FlowItems, type FlowOptions } from "./flow.js";
import type { CarriedByAll, NeedsAsSet, Needs } from "../typing.js";
import type { Span, Wiring } from "../engine/compiler.js";

/**
 * Items that do not depend on one another; a parallel engine runs them concurrently.
 * @example new UnorderedFlow("notify").add(email, sms)
 */
export class UnorderedFlow<Provides extends object = {}, Results extends object = {}, N extends Needs = Needs> extends Flow<Provides, Results, N> {
  readonly pattern = "unordered" as const;
  /** Siblings cannot see each other's results, so every requirement is needed from outside. */
  get requires(): string[] {
    const fromRetry = new Set(this.retry?.provides ?? []);
    return [...new Set([...(this.retry?.requires ?? []), ...this.children.flatMap((c) => c.requires).filter((r) => !fromRetry.has(r))])];
  }

  /** @internal Every item between its entry and its exit. */
  wire(wiring: Wiring): void {
    fan(wiring, this.children);
  }
}

/**
 * Links each item with no edge in (`hasIn`, by the item's position) from the flow's entry, and
 * each with no edge out (`hasOut`) to its exit: every item, for an unordered flow; a graph flow's
 * first and last ones. Flags by position, not sets of items: a set of 100,000 items costs a
 * lookup (a cache miss) per item where a list costs a read.
 */
export function fan({ spans, entry, exit, edge }: Wiring, items: readonly FlowItem[], hasIn?: readonly boolean[], hasOut?: readonly boolean[]): void {
  for (let i = 0; i < items.length; i++) {
    const s = spans[i] as Span;
    if (!hasIn?.[i]) edge(entry, s.entry);
    if (!hasOut?.[i]) edge(s.exit, exit);
  }
}

/** @example unorderedFlow("notify", email, sms) // or unorderedFlow("notify", [email, sms]) */
export function unorderedFlow<const Items extends Array<FlowItems | FlowOptions>>(
  name: string,
  ...items: Items
): UnorderedFlow<CarriedByAll<Items>["provides"], CarriedByAll<Items>["results"], NeedsAsSet<Items>> {
  return build((options) => new UnorderedFlow(name, options), items);
}
