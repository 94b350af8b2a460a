import { Flow, type FlowItem, type FlowOptions, splitItems } from "./flow.js";

/**
 * Items run one after another, in the order they were added.
 * @example new LinearFlow("checkout", { retry: new Times(2) }).add(validate, charge, ship)
 */
export class LinearFlow extends Flow {
  readonly pattern = "linear" as const;
  get requires(): string[] {
    const provided = new Set<string>(this.retry?.provides ?? []);
    const out = new Set<string>(this.retry?.requires ?? []);
    for (const item of this.children) {
      for (const r of item.requires) if (!provided.has(r)) out.add(r);
      for (const p of item.provides) provided.add(p);
    }
    return [...out];
  }
}

/**
 * @example linearFlow("checkout", validate, charge, ship)
 * @example linearFlow("call", { retry: new Times(3) }, callApi) // options first
 */
export function linearFlow(name: string, ...items: Array<FlowItem | FlowOptions>): LinearFlow {
  const split = splitItems(items);
  return new LinearFlow(name, split.options).add(...split.items);
}
