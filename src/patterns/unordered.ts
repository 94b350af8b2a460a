import { build, Flow, type FlowItem, type FlowItems, type FlowOptions } from "./flow.js";
import type { CarriedByAll, NeedsAsSet, Needs } from "../typing.js";

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
}

/** @example unorderedFlow("notify", email, sms) // or unorderedFlow("notify", [email, sms]) */
export function unorderedFlow<const Items extends Array<FlowItems | FlowOptions>>(
  name: string,
  ...items: Items
): UnorderedFlow<CarriedByAll<Items>["provides"], CarriedByAll<Items>["results"], NeedsAsSet<Items>> {
  return build((options) => new UnorderedFlow(name, options), items);
}
