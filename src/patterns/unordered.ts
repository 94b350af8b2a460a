import { Flow, type FlowItem, type FlowOptions, splitItems } from "./flow.js";

/**
 * Items that do not depend on one another; a parallel engine runs them concurrently.
 * @example new UnorderedFlow("notify").add(email, sms)
 */
export class UnorderedFlow extends Flow {
  readonly pattern = "unordered" as const;
  /** Siblings cannot see each other's results, so every requirement is needed from outside. */
  get requires(): string[] {
    const fromRetry = new Set(this.retry?.provides ?? []);
    return [...new Set([...(this.retry?.requires ?? []), ...this.children.flatMap((c) => c.requires).filter((r) => !fromRetry.has(r))])];
  }
}

/** @example unorderedFlow("notify", email, sms) */
export function unorderedFlow(name: string, ...items: Array<FlowItem | FlowOptions>): UnorderedFlow {
  const split = splitItems(items);
  return new UnorderedFlow(name, split.options).add(...split.items);
}
