import { build, Flow, type FlowItem, type FlowItems, type FlowOptions } from "./flow.js";
import type { CarriedByAll, NeedsInOrder, Needs } from "../typing.js";
import type { Wiring } from "../engine/compiler.js";

/**
 * Items run one after another, in the order they were added.
 * @example new LinearFlow("checkout", { retry: new Times(2) }).add(validate, charge, ship)
 */
export class LinearFlow<Provides extends object = {}, Results extends object = {}, N extends Needs = Needs> extends Flow<Provides, Results, N> {
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

  /** @internal Its items one after another, between its entry and its exit. */
  wire({ spans, entry, exit, edge }: Wiring): void {
    let prev = entry;
    for (const s of spans) {
      edge(prev, s.entry);
      prev = s.exit;
    }
    edge(prev, exit);
  }
}

/**
 * @example linearFlow("checkout", validate, charge, ship)
 * @example linearFlow("call", { retry: new Times(3) }, callApi) // options first
 * @example linearFlow("import", rows.map(importRow)) // an array: 100,000 items build without a spread
 */
export function linearFlow<const Items extends Array<FlowItems | FlowOptions>>(
  name: string,
  ...items: Items
): LinearFlow<CarriedByAll<Items>["provides"], CarriedByAll<Items>["results"], NeedsInOrder<Items>> {
  return build((options) => new LinearFlow(name, options), items);
}
