// The worker side: one RunnerHost per worker, holding an engine per flow it runs, and one
// Comlink connection per page (client) that connected. A page connects by sending a fresh
// MessagePort in a hello message (to a dedicated worker's global scope, or over the port of a
// SharedWorker's `connect` event); everything else goes over that port. One protocol for both
// kinds of worker, several pages per worker, and a connection that can be closed alone.
//
// A page that goes away says so on `pagehide` (the client closes). One that cannot (it crashed,
// or its pagehide never ran) is noticed through a Web Lock: the client holds a lock of its own
// for as long as it is open and names it in its hello; the runner asks for the same lock, and
// gets it only once the page has let go of it, by closing or by dying (the browser releases the
// locks of a context that is gone). A MessagePort tells nothing of its other end (Chromium 156
// has no `close` event on ports), and a call to a dead page would wait for ever.
import * as Comlink from "comlink";
import {
  checkStorable, DisallowedAccess, FlowRegistry, InvalidFormat, isFinalFlowState, systemClock,
  type Backend, type Clock, type Engine, type EngineEvents, type EngineOptions, type FlowFactory,
  provide,
  revise,
} from "taskflow-ts";
import { resumeOrStart, type ResumeOrStartOptions, type ResumeOrStartResult } from "taskflow-ts/resume";
import { installTransferHandlers } from "./transfer.js";
import { eventToWire, type FlowLog, type FlowRecords, type RunnerEvents, type WireEvent } from "./wire.js";

/**
 * Flow factories by name, as a plain object: the page's client is then typed by it (flow names
 * and each factory's arguments). A {@link FlowRegistry} works too, untyped.
 * @example const flows = { checkout: (cart: string) => checkoutFlow(cart) } satisfies FlowFactories
 */
export type FlowFactories = { readonly [name: string]: FlowFactory };

/**
 * Where pages reach the runner: a worker's global scope (the default), or any event target
 * that receives the hello messages (a MessagePort in tests).
 * @example exposeRunner({ flows, backend, scope: port }) // a MessagePort of a MessageChannel
 */
export interface RunnerScope {
  addEventListener(type: string, listener: (event: Event) => void): void;
  removeEventListener(type: string, listener: (event: Event) => void): void;
  start?(): void;
}

/**
 * What {@link exposeRunner} needs: the flows it may start, where their log books are, and how
 * they run (the engine's options, passed to every engine it makes).
 * @example exposeRunner({ flows, backend: IndexedDbBackend.open("flows"), engine: "parallel", waitForLock: false })
 */
export interface ExposeRunnerOptions<F extends FlowFactories = FlowFactories>
  extends Pick<EngineOptions, "engine" | "maxConcurrency" | "maxWaitMs" | "clock" | "random" | "neverResolve" | "deferReverts" | "lock" | "waitForLock" | "onListenerError"> {
  /** The flows pages may start, by name. */
  flows: FlowRegistry | F;
  /** The log books' backend, or the promise of it (`IndexedDbBackend.open(…)`): calls wait for it. */
  backend: Backend | Promise<Backend>;
  /** Where pages connect; the worker's global scope by default. */
  scope?: RunnerScope;
  /**
   * Called with each engine the runner makes, once its flow is loaded: the worker's own wiring
   * of it (broadcast its transitions to other tabs, tell it the network's state). What it
   * returns is called when the runner lets go of the engine. An error thrown here fails the call
   * that loaded the flow.
   */
  onEngine?: (engine: Engine) => (() => void) | void;
}

/**
 * Options of `start`: the flow's store (its inputs), its log book, and whether to run it now.
 * @example await runner.start("checkout", ["cart-1"], { store: { coupon: "SPRING" } })
 */
export interface StartOptions {
  /** Values injected at the flow level, stored in the flow detail. */
  store?: Record<string, unknown>;
  /** The log book to add the flow detail to: its uuid, or a new one's name. */
  book?: { uuid: string } | { name: string };
  /** Run it at once (default), or only store it (`resume` or `run` runs it later). */
  run?: boolean;
}

/**
 * Options of `resumeOrStart`: those of `start` (the store, the log book, whether to run), and
 * what to do with a finished flow under the key or a key whose flow is gone (see the core's
 * `resumeOrStart` in `taskflow-ts/resume`).
 * @example await runner.resumeOrStart("booking:ada", "booking", [], { run: false, ifFinished: "start" })
 */
export interface ResumeOrStartRunnerOptions extends StartOptions, Pick<ResumeOrStartOptions, "ifFinished" | "ifMissing"> {}

/**
 * What the runner's `resumeOrStart` sends back: what it found and did, and the flow's records.
 * @example const { outcome, records } = await host.resumeOrStart("booking:ada", "booking"); console.log(outcome, records.flowDetail.uuid)
 */
export interface KeyedFlowRecords extends Pick<ResumeOrStartResult, "outcome" | "replaced"> {
  records: FlowRecords;
}

/**
 * Counters of a runner: what it holds for its pages, to check that nothing leaks.
 * @example expect(await runner.stats()).toMatchObject({ subscriptions: 0, engineListeners: 0 })
 */
export interface RunnerStats {
  /** Pages (clients) connected now. */
  connections: number;
  /** Subscriptions held, over all connections (each holds one Comlink proxy). */
  subscriptions: number;
  /** Listeners the runner has on its engines (only while a subscription wants their events). */
  engineListeners: number;
  /** Flows it holds an engine for (unfinished flows it ran, or that were asked about). */
  flows: number;
  /** Runs under way. */
  running: number;
}

/** What one connection exposes over Comlink (the client's methods, before it rebuilds values). */
export interface RunnerApi {
  start(flow: string, args?: unknown[], options?: StartOptions): Promise<FlowRecords>;
  resumeOrStart(key: string, flow: string, args?: unknown[], options?: ResumeOrStartRunnerOptions): Promise<KeyedFlowRecords>;
  resume(id: string): Promise<FlowRecords>;
  run(id: string): Promise<FlowRecords>;
  suspend(id: string): Promise<FlowRecords>;
  cancel(id: string, reason?: string): Promise<FlowRecords>;
  provide(id: string, name: string, value: unknown): Promise<FlowRecords>;
  revise(id: string, name: string, value: unknown): Promise<FlowRecords>;
  snapshot(id: string): Promise<FlowRecords>;
  logBook(id: string): Promise<FlowLog>;
  subscribe(sink: (events: WireEvent[]) => void, filter: SubscriptionFilter): number;
  unsubscribe(subscription: number): boolean;
  disconnect(): void;
  stats(): RunnerStats;
}

/** Which events a subscription receives: of one flow, or of every flow (no `flow`). */
export interface SubscriptionFilter {
  flow?: string | undefined;
  types: Array<keyof EngineEvents>;
}

/** The key of the hello message a page sends with its port; the value is the protocol's version. */
export const HELLO = "taskflow-ts/worker";
export const PROTOCOL = 1;

const EVENT_TYPES: ReadonlyArray<keyof EngineEvents> = ["flow", "atom", "progress", "wait"];
/**
 * Flows that ended here whose engine (and how their last run ended) the runner keeps, so that
 * `run(id)` right after the run `start` began reports that end instead of running the flow
 * again; the oldest beyond this number are let go.
 */
const KEEP_ENDED = 16;
const noop = (): void => undefined;

interface Entry {
  readonly id: string;
  readonly engine: Engine;
  /** The run (or the revert of a cancel) under way. */
  running: Promise<void> | undefined;
  /** How the last run ended (a promise that has settled), once the flow has ended. */
  ended: Promise<void> | undefined;
  /** Suspended on request: neither a timer nor an input runs it again until `resume` or `run`. */
  held: boolean;
  /** Aborts the timer armed for its next wake-up. */
  wake: AbortController | undefined;
  /** The runner's listeners on the engine, by event type. */
  readonly off: Map<keyof EngineEvents, () => void>;
  /** What `onEngine` returned: called when the runner lets go of the engine. */
  readonly detach: (() => void) | undefined;
}

interface Connection {
  readonly port: MessagePort;
  readonly subscriptions: Set<number>;
  closed: boolean;
  /** Gives up the request for the page's lock (the page closed, or the runner did). */
  readonly watch: AbortController;
}

interface Subscription {
  readonly id: number;
  readonly connection: Connection;
  readonly sink: Comlink.Remote<(events: WireEvent[]) => void>;
  readonly flow: string | undefined;
  readonly types: ReadonlySet<keyof EngineEvents>;
  /** Events not sent yet: those the engine emits in one go leave in one message. */
  readonly queue: WireEvent[];
}

/**
 * The runner a worker exposes (see {@link exposeRunner}): flows by name, started, resumed,
 * suspended, cancelled and given input for the pages that connect, each transition written to
 * the backend before it is acted on. Its methods are what a page's client calls; the worker
 * itself may call them too.
 * @example
 * const host = exposeRunner({ flows, backend });
 * await host.resume(flowDetailId); // the worker may drive its flows itself too
 */
export class RunnerHost {
  readonly #flows: FlowRegistry;
  readonly #backend: Promise<Backend>;
  readonly #options: Omit<EngineOptions, "backend" | "flowDetailId" | "factory" | "store" | "book">;
  readonly #clock: Clock;
  readonly #onEngine: ExposeRunnerOptions["onEngine"];
  /** Engines by flow id, while loading and once loaded (callers at once share one load). */
  readonly #entries = new Map<string, Promise<Entry>>();
  readonly #live = new Map<string, Entry>();
  /** Ids of the flows that ended here and are still held, oldest first. */
  readonly #endedIds = new Set<string>();
  readonly #subscriptions = new Map<number, Subscription>();
  readonly #connections = new Set<Connection>();
  #nextSubscription = 1;
  readonly #stopListening: () => void;

  constructor(options: ExposeRunnerOptions) {
    installTransferHandlers();
    const { flows, backend, scope, onEngine, ...engine } = options;
    this.#onEngine = onEngine;
    this.#flows = flows instanceof FlowRegistry ? flows : registryOf(flows);
    this.#backend = Promise.resolve(backend);
    this.#backend.catch(noop); // every call reports it; none is left unhandled
    this.#options = engine;
    this.#clock = engine.clock ?? systemClock;
    this.#stopListening = this.#listen(scope ?? (globalThis as unknown as RunnerScope));
  }

  /** What the runner holds now (see {@link RunnerStats}). */
  stats(): RunnerStats {
    let engineListeners = 0;
    let running = 0;
    for (const entry of this.#live.values()) {
      engineListeners += entry.off.size;
      if (entry.running) running++;
    }
    return { connections: this.#connections.size, subscriptions: this.#subscriptions.size, engineListeners, flows: this.#live.size, running };
  }

  /**
   * Stops serving: no page can connect any more, every connection is closed, every subscription
   * released and every timer disarmed. Runs under way go on to their end.
   */
  close(): void {
    this.#stopListening();
    for (const connection of [...this.#connections]) this.#disconnect(connection, true);
    for (const entry of this.#live.values()) this.#disarm(entry);
  }

  /** Listens for pages: hello messages on the scope, or on each port of a SharedWorker's `connect`. */
  #listen(scope: RunnerScope): () => void {
    let listening = true;
    const onHello = (event: Event) => {
      const { data, ports } = event as MessageEvent;
      const port = ports?.[0];
      if (!listening || typeof data !== "object" || data === null || !port) return;
      const hello = data as Record<string, unknown>;
      if (hello[HELLO] === PROTOCOL) this.#connect(port, typeof hello.lock === "string" ? hello.lock : undefined);
    };
    // A SharedWorker's ports are not kept: a page that goes away takes its port with it.
    const onConnect = (event: Event) => {
      const port = (event as MessageEvent).ports?.[0];
      if (!port) return;
      port.addEventListener("message", onHello);
      port.start();
    };
    const shared = "onconnect" in scope; // a SharedWorkerGlobalScope
    if (shared) scope.addEventListener("connect", onConnect);
    else {
      scope.addEventListener("message", onHello);
      scope.start?.();
    }
    return () => {
      listening = false;
      scope.removeEventListener(shared ? "connect" : "message", shared ? onConnect : onHello);
    };
  }

  #connect(port: MessagePort, lock: string | undefined): void {
    const connection: Connection = { port, subscriptions: new Set(), closed: false, watch: new AbortController() };
    this.#connections.add(connection);
    const api: RunnerApi & { [Comlink.finalizer](): void } = {
      start: (flow, args, options) => this.start(flow, args, options),
      resumeOrStart: (key, flow, args, options) => this.resumeOrStart(key, flow, args, options),
      resume: (id) => this.resume(id),
      run: (id) => this.run(id),
      suspend: (id) => this.suspend(id),
      cancel: (id, reason) => this.cancel(id, reason),
      provide: (id, name, value) => this.provide(id, name, value),
      revise: (id, name, value) => this.revise(id, name, value),
      snapshot: (id) => this.snapshot(id),
      logBook: (id) => this.logBook(id),
      subscribe: (sink, filter) => this.#subscribe(connection, sink as unknown as Subscription["sink"], filter),
      unsubscribe: (subscription) => this.#unsubscribe(connection, subscription),
      disconnect: () => this.#disconnect(connection, false),
      stats: () => this.stats(),
      // Comlink calls it when the page releases its proxy (the client's close()).
      [Comlink.finalizer]: () => this.#disconnect(connection, false),
    };
    Comlink.expose(api, port);
    // Granted once the page has let go of its lock: it closed, or it is gone.
    const locks = (globalThis as { navigator?: { locks?: LockManager } }).navigator?.locks;
    if (lock !== undefined && locks) {
      locks.request(lock, { signal: connection.watch.signal }, () => this.#disconnect(connection, true)).catch(noop);
    }
  }

  // --- flows ------------------------------------------------------------------------------------

  /**
   * Starts flow `flow` of the registry with `args` for its factory: checks that every atom finds
   * its inputs (MissingDependencies otherwise, and nothing is stored), stores the flow detail,
   * then runs it unless `{ run: false }`. Resolves once it is stored: `run(id)` waits for the end.
   */
  async start(flow: string, args: unknown[] = [], options: StartOptions = {}): Promise<FlowRecords> {
    text(flow, "flow name");
    if (!Array.isArray(args)) throw new InvalidFormat(`the arguments of flow "${flow}" must be an array, not ${typeof args}`);
    checkStorable(args, "args", `the arguments of flow "${flow}"`);
    const { store, book, run = true } = options ?? {};
    const backend = await this.#backend;
    const engine = this.#flows.load(flow, args, { ...this.#options, backend, store, book });
    await engine.prepare();
    engine.validate();
    await engine.save();
    const entry = this.#adopt(engine);
    if (run) this.#launch(entry).catch(noop);
    return this.#records(entry.id);
  }

  /**
   * Resumes the flow stored under `key` (a user's name for it: a wizard, a cart), or starts flow
   * `flow` of the registry with `args`, as the core's `resumeOrStart` does: the key is bound in
   * the new flow's first write, so two pages calling it at once get one flow. Runs it unless it
   * has finished or `{ run: false }`; resolves once it is stored, with what was found and done.
   * A stored flow is rebuilt from the factory and arguments it was started with (`args` only
   * start a new one), and one this runner holds already (another page found it first) keeps its engine.
   * @throws NotFound for an unknown flow name, or (`ifMissing: "throw"`) a key whose flow is gone;
   * StorageFailure for a backend without keys
   */
  async resumeOrStart(key: string, flow: string, args: unknown[] = [], options: ResumeOrStartRunnerOptions = {}): Promise<KeyedFlowRecords> {
    text(key, "key");
    text(flow, "flow name");
    if (!Array.isArray(args)) throw new InvalidFormat(`the arguments of flow "${flow}" must be an array, not ${typeof args}`);
    checkStorable(args, "args", `the arguments of flow "${flow}"`);
    const { store, book, run = true, ifFinished, ifMissing } = options ?? {};
    const factory = this.#flows.get(flow);
    const backend = await this.#backend;
    const found = await resumeOrStart(key, () => factory(...args), {
      ...this.#options, backend, store, book, ifFinished, ifMissing, factory: { name: flow, args },
    });
    const id = found.engine.flowDetailId;
    // A stored flow is run as `#entry` runs it: the engine this runner holds already (another
    // page found it first), or one rebuilt from the factory and arguments it was started with
    // (`args` only start a new flow); the engine `resumeOrStart` prepared is then let go.
    let entry: Entry;
    if (found.outcome === "started") entry = this.#adopt(found.engine);
    else if (this.#entries.has(id) || (await backend.getFlowDetail(id)).factory) entry = await this.#entry(id);
    else entry = this.#entries.has(id) ? await this.#entry(id) : this.#adopt(found.engine);
    if (run && found.outcome !== "finished") {
      entry.held = false;
      this.#launch(entry).catch(noop);
    }
    const records = await this.#records(entry.id);
    return found.replaced ? { outcome: found.outcome, replaced: found.replaced, records } : { outcome: found.outcome, records };
  }

  /** Runs a stored flow (again) in the background; resolves once it is under way. */
  async resume(id: string): Promise<FlowRecords> {
    const entry = await this.#entry(id);
    entry.held = false;
    this.#launch(entry).catch(noop);
    return this.#records(id);
  }

  /**
   * Runs the flow, or joins its run under way, until it ends; rejects as `engine.run()` does. A
   * flow whose run here has just ended (the one `start` began, say) is not run again: its end is
   * reported (`resume` runs an ended flow again).
   */
  async run(id: string): Promise<FlowRecords> {
    const entry = await this.#entry(id);
    entry.held = false;
    await (entry.ended ?? this.#launch(entry));
    return this.#records(id);
  }

  /** Stops the flow at its next step (running atoms finish) and keeps it stopped until `resume`. */
  async suspend(id: string): Promise<FlowRecords> {
    const entry = await this.#entry(id);
    entry.held = true;
    this.#disarm(entry);
    entry.engine.suspend();
    await entry.running?.catch(noop);
    return this.#records(id);
  }

  /**
   * Cancels the flow (its running tasks are aborted, what ran is reverted) and resolves when the
   * revert is done. @throws DisallowedAccess when the flow has ended
   */
  async cancel(id: string, reason = "cancelled"): Promise<FlowRecords> {
    text(reason, "reason");
    const entry = await this.#entry(id);
    const state = (await this.#records(id)).flowDetail.state;
    if (isFinalFlowState(state)) throw new DisallowedAccess(`cannot cancel flow "${id}": it has ended ${state}; start a new flow to run it again`);
    entry.held = false;
    this.#disarm(entry);
    if (entry.running) {
      const running = entry.running;
      await entry.engine.cancel(reason);
      await running.catch(noop);
    } else await this.#launch(entry, (engine) => engine.cancel(reason));
    return this.#records(id);
  }

  /** Provides a value a wait of the flow waits for (see `engine.provide`); the flow then goes on. */
  async provide(id: string, name: string, value: unknown): Promise<FlowRecords> {
    text(name, "input name");
    const entry = await this.#entry(id);
    await provide(entry.engine, name, value, { run: false });
    if (!entry.held) this.#launch(entry).catch(noop);
    return this.#records(id);
  }

  /** Changes an input the flow read (see `engine.revise`); what depends on it runs again. */
  async revise(id: string, name: string, value: unknown): Promise<FlowRecords> {
    text(name, "input name");
    const entry = await this.#entry(id);
    await revise(entry.engine, name, value, { run: false });
    if (!entry.held) this.#launch(entry).catch(noop);
    return this.#records(id);
  }

  /** The flow's records as stored (the client reads them into a FlowSnapshot). @throws NotFound */
  snapshot(id: string): Promise<FlowRecords> {
    return this.#records(text(id, "flow id"));
  }

  /** Every record of the flow: log book, flow detail, atom details. @throws NotFound */
  async logBook(id: string): Promise<FlowLog> {
    const records = await this.#records(text(id, "flow id"));
    const backend = await this.#backend;
    return { logBook: await backend.getLogBook(records.flowDetail.bookUuid), ...records };
  }

  async #records(id: string): Promise<FlowRecords> {
    const backend = await this.#backend;
    const flowDetail = await backend.getFlowDetail(id);
    return { flowDetail, atomDetails: await backend.getAtomDetails(id) };
  }

  /** The flow's engine, loaded from its log book on first use (its factory is recorded in it). */
  #entry(id: string): Promise<Entry> {
    text(id, "flow id");
    let entry = this.#entries.get(id);
    if (!entry) {
      const loading = (async () => {
        const engine = await this.#flows.loadFromDetail(await this.#backend, id, this.#options);
        await engine.prepare();
        return this.#adopt(engine);
      })();
      loading.catch(() => {
        if (this.#entries.get(id) === loading) this.#entries.delete(id); // the next call tries again
      });
      this.#entries.set(id, (entry = loading));
    }
    return entry;
  }

  #adopt(engine: Engine): Entry {
    const detach = this.#onEngine?.(engine) ?? undefined;
    const entry: Entry = { id: engine.flowDetailId, engine, running: undefined, ended: undefined, held: false, wake: undefined, off: new Map(), detach };
    this.#live.set(entry.id, entry);
    this.#entries.set(entry.id, Promise.resolve(entry));
    this.#sync(entry);
    return entry;
  }

  /** Runs `how` (a run by default) unless a run is under way, which it joins. */
  #launch(entry: Entry, how: (engine: Engine) => Promise<void> = (engine) => engine.run()): Promise<void> {
    if (entry.running) return entry.running;
    this.#disarm(entry);
    entry.ended = undefined;
    this.#endedIds.delete(entry.id);
    const running: Promise<void> = how(entry.engine).finally(() => {
      if (entry.running !== running) return;
      entry.running = undefined;
      this.#settle(entry, running);
    });
    running.catch(noop); // its callers see how it ended; nobody may be waiting
    entry.running = running;
    return running;
  }

  /**
   * After a run: an ended flow keeps how it ended (for `run`), among the last few; an unfinished
   * one gets a timer for its next wake-up.
   */
  #settle(entry: Entry, run: Promise<void>): void {
    let state;
    try {
      state = entry.engine.storage.flowState;
    } catch {
      return; // never loaded: nothing ran
    }
    if (isFinalFlowState(state)) {
      entry.ended = run;
      this.#endedIds.add(entry.id);
      for (const id of this.#endedIds) {
        if (this.#endedIds.size <= KEEP_ENDED) break;
        const old = this.#live.get(id);
        if (old) this.#forget(old);
      }
      return;
    }
    if (entry.held) return;
    const at = entry.engine.nextWakeup();
    if (at === undefined) return;
    const wake = (entry.wake = new AbortController());
    void this.#clock.sleep(Math.max(0, at - this.#clock.now()), wake.signal).then(() => {
      if (wake.signal.aborted || entry.wake !== wake) return;
      entry.wake = undefined;
      this.#launch(entry).catch(noop);
    });
  }

  /** Lets go of a flow's engine (and of the runner's listeners on it). */
  #forget(entry: Entry): void {
    for (const off of entry.off.values()) off();
    entry.off.clear();
    entry.detach?.();
    this.#live.delete(entry.id);
    this.#entries.delete(entry.id);
    this.#endedIds.delete(entry.id);
  }

  #disarm(entry: Entry): void {
    entry.wake?.abort();
    entry.wake = undefined;
  }

  // --- subscriptions ----------------------------------------------------------------------------

  #subscribe(connection: Connection, sink: Subscription["sink"], filter: SubscriptionFilter): number {
    const types = filter?.types;
    if (!Array.isArray(types) || types.length === 0 || !types.every((t) => EVENT_TYPES.includes(t))) {
      releaseQuietly(sink);
      throw new InvalidFormat(`a subscription names the events it wants, some of ${EVENT_TYPES.join(", ")}; got ${JSON.stringify(types)}`);
    }
    if (connection.closed) {
      releaseQuietly(sink);
      throw new DisallowedAccess("this connection to the runner is closed; connect again");
    }
    const flow = filter.flow === undefined ? undefined : text(filter.flow, "flow id");
    const subscription: Subscription = { id: this.#nextSubscription++, connection, sink, flow, types: new Set(types), queue: [] };
    this.#subscriptions.set(subscription.id, subscription);
    connection.subscriptions.add(subscription.id);
    for (const entry of this.#live.values()) this.#sync(entry);
    return subscription.id;
  }

  #unsubscribe(connection: Connection, id: number): boolean {
    const subscription = this.#subscriptions.get(id);
    if (!subscription || subscription.connection !== connection) return false;
    this.#release(subscription);
    for (const entry of this.#live.values()) this.#sync(entry);
    return true;
  }

  #release(subscription: Subscription): void {
    this.#subscriptions.delete(subscription.id);
    subscription.connection.subscriptions.delete(subscription.id);
    subscription.queue.length = 0;
    releaseQuietly(subscription.sink); // closes its port: Comlink's pending calls on it are dropped
  }

  /** Closes a connection: its subscriptions are released, and its port closed if `closePort`. */
  #disconnect(connection: Connection, closePort: boolean): void {
    if (connection.closed) return;
    connection.closed = true;
    connection.watch.abort();
    for (const id of [...connection.subscriptions]) {
      const subscription = this.#subscriptions.get(id);
      if (subscription) this.#release(subscription);
    }
    this.#connections.delete(connection);
    for (const entry of this.#live.values()) this.#sync(entry);
    // Otherwise Comlink closes it, once it has answered the call that closed the connection.
    if (closePort) connection.port.close();
  }

  /** Listens on the engine for what some subscription wants, and for nothing else. */
  #sync(entry: Entry): void {
    const wanted = new Set<keyof EngineEvents>();
    for (const s of this.#subscriptions.values()) if (s.flow === undefined || s.flow === entry.id) for (const t of s.types) wanted.add(t);
    for (const type of wanted) {
      if (!entry.off.has(type)) entry.off.set(type, entry.engine.on(type, (event) => this.#emit(entry.id, type, event)));
    }
    for (const [type, off] of entry.off) {
      if (wanted.has(type)) continue;
      off();
      entry.off.delete(type);
    }
  }

  #emit<K extends keyof EngineEvents>(id: string, type: K, event: EngineEvents[K]): void {
    let wire: WireEvent | undefined;
    for (const subscription of this.#subscriptions.values()) {
      if (!subscription.types.has(type) || (subscription.flow !== undefined && subscription.flow !== id)) continue;
      wire ??= eventToWire(event as EngineEvents[keyof RunnerEvents]); // a subscription names some of EVENT_TYPES only
      // The engine emits several events in one go (an atom's end, the next one's start, their
      // progress): they leave together, once it is done, in one message instead of one each.
      if (subscription.queue.push(wire) === 1) queueMicrotask(() => this.#flush(subscription));
    }
  }

  #flush(subscription: Subscription): void {
    if (!this.#subscriptions.has(subscription.id) || subscription.queue.length === 0) return;
    const events = subscription.queue.splice(0);
    try {
      // Not awaited: the engine never waits for a page. A listener that throws in the page
      // rejects this call; that is the page's business.
      (subscription.sink(events) as Promise<void>).catch(noop);
    } catch {
      this.#release(subscription); // its proxy is unusable (released, or its port closed)
    }
  }
}

/**
 * Serves a runner from this worker: pages connect with `connectRunner(worker)` and start,
 * resume, suspend, cancel and give input to flows by name, read their snapshots and log books,
 * and subscribe to transitions and progress. Call it at the top of the worker module (before
 * any `await`), so that no page's hello arrives before it listens. In a SharedWorker, every page
 * that connects shares the runner and its engines.
 * @example
 * // flows.worker.ts
 * import { IndexedDbBackend } from "taskflow-ts/idb";
 * import { exposeRunner } from "taskflow-ts/worker";
 * export const flows = { checkout: (cart: string) => checkoutFlow(cart) };
 * exposeRunner({ flows, backend: IndexedDbBackend.open("flows") });
 */
export function exposeRunner<F extends FlowFactories>(options: ExposeRunnerOptions<F>): RunnerHost {
  return new RunnerHost(options);
}

function registryOf(flows: FlowFactories): FlowRegistry {
  const registry = new FlowRegistry();
  for (const [name, factory] of Object.entries(flows)) registry.register(name, factory);
  return registry;
}

/** `value` if it is a non-empty string; InvalidFormat naming `what` otherwise. */
function text(value: unknown, what: string): string {
  if (typeof value !== "string" || value.length === 0) throw new InvalidFormat(`the ${what} must be a non-empty string, not ${JSON.stringify(value) ?? typeof value}`);
  return value;
}

function releaseQuietly(sink: Subscription["sink"]): void {
  try {
    sink[Comlink.releaseProxy]();
  } catch {
    // released already
  }
}
