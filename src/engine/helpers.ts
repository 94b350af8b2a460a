import { Duplicate, NotFound } from "../errors.js";
import type { FlowItem } from "../patterns/flow.js";
import type { Backend } from "../ports/backend.js";
import { Engine, type EngineOptions } from "./engine.js";
import type { FetchAll, Merge, Provided, Results, StoreCheck, StoreNames } from "../typing.js";

/**
 * An engine for `flow`, ready to run (TaskFlow's `engines.load`). Pass `flowDetailId` and the
 * same backend to resume a stored run. The engine is typed by the flow: `engine.storage.fetch`
 * of a name the flow (or the `store`) provides has its type, `getResult` of an atom its result's.
 * @example const engine = load(flow, { store: { x: 1 }, backend }); await engine.run();
 */
export function load<F extends FlowItem, S extends Record<string, unknown> = {}>(
  flow: F,
  options: EngineOptions & { store?: S } = {},
): Engine<Merge<StoreNames<S>, Provided<F>>, Results<F>> {
  return new Engine(flow, options);
}

/**
 * Runs `flow` to the end and returns every provided and injected value (TaskFlow's
 * `engines.run`), typed by the flow and the store. Rejects with the flow's failure when it reverts.
 * @example const { total } = await run(flow, { store: { price: 10, qty: 3 } });
 */
export async function run<F extends FlowItem, S extends Record<string, unknown> = {}, D extends string | undefined = undefined>(
  flow: F & StoreCheck<F, S, D>,
  options: EngineOptions & { store?: S; flowDetailId?: D } = {},
): Promise<FetchAll<Merge<StoreNames<S>, Provided<F>>>> {
  const engine = load<F, S>(flow, options);
  await engine.run();
  return engine.storage.fetchAll();
}

/**
 * Builds a flow from JSON-compatible arguments (they are stored in the flow detail, to rebuild it).
 * @example const checkout: FlowFactory<[cartId: string]> = (cartId) => linearFlow(`checkout-${cartId}`, reserve, pay)
 */
export type FlowFactory<Args extends unknown[] = any[]> = (...args: Args) => FlowItem;

/**
 * Named flow factories, so that a host can rebuild the flow of a stored flow detail by name
 * (TaskFlow's `load_from_factory` / `load_from_detail`, without importing code by path).
 *
 * @example
 * const flows = new FlowRegistry().register("checkout", (cart: string) => checkoutFlow(cart));
 * const engine = flows.load("checkout", ["cart-1"], { backend });
 * // later, in another host:
 * const again = await flows.loadFromDetail(backend, engine.flowDetailId);
 */
export class FlowRegistry {
  private readonly factories = new Map<string, FlowFactory>();

  register(name: string, factory: FlowFactory): this {
    if (this.factories.has(name)) throw new Duplicate(`a flow factory named "${name}" is already registered`);
    this.factories.set(name, factory);
    return this;
  }

  /** @throws NotFound */
  get(name: string): FlowFactory {
    const f = this.factories.get(name);
    if (!f) {
      throw new NotFound(`no flow factory named "${name}"; registered: ${[...this.factories.keys()].join(", ") || "none"}`);
    }
    return f;
  }

  /** An engine for a new flow detail that records how to rebuild its flow. */
  load(name: string, args: unknown[], options: Omit<EngineOptions, "factory" | "flowDetailId"> = {}): Engine {
    return new Engine(this.get(name)(...args), { ...options, factory: { name, args } });
  }

  /**
   * An engine that resumes a stored flow detail, rebuilding its flow from the factory recorded
   * in it. @throws NotFound when the detail records no factory, or an unregistered one
   */
  async loadFromDetail(backend: Backend, flowDetailId: string, options: Omit<EngineOptions, "backend" | "flowDetailId" | "factory"> = {}): Promise<Engine> {
    const detail = await backend.getFlowDetail(flowDetailId);
    const ref = detail.factory;
    if (!ref) throw new NotFound(`flow detail "${flowDetailId}" records no factory; it was not started through a FlowRegistry`);
    return new Engine(this.get(ref.name)(...ref.args), { ...options, backend, flowDetailId, factory: ref });
  }
}
