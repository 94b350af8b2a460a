import { Flow, type FlowItem } from "./flow.js";

/** Items that do not depend on one another; a parallel engine runs them concurrently. */
export class UnorderedFlow extends Flow {
  readonly pattern = "unordered" as const;
  /** Siblings cannot see each other's results, so every requirement is needed from outside. */
  get requires(): string[] {
    return [...new Set(this.children.flatMap((c) => c.requires))];
  }
}

/** @example unorderedFlow("notify", email, sms) */
export function unorderedFlow(name: string, ...items: FlowItem[]): UnorderedFlow {
  return new UnorderedFlow(name).add(...items);
}
