import { Flow, type FlowItem } from "./flow.js";

/** Items run one after another, in the order they were added. */
export class LinearFlow extends Flow {
  readonly pattern = "linear" as const;
  get requires(): string[] {
    const provided = new Set<string>();
    const out = new Set<string>();
    for (const item of this.children) {
      for (const r of item.requires) if (!provided.has(r)) out.add(r);
      for (const p of item.provides) provided.add(p);
    }
    return [...out];
  }
}

/** @example linearFlow("checkout", validate, charge, ship) */
export function linearFlow(name: string, ...items: FlowItem[]): LinearFlow {
  return new LinearFlow(name).add(...items);
}
