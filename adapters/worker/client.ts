// The page side: a typed client of a worker's runner. Values are checked here, before they
// cross: a structured clone would quietly turn a class instance into a plain object and fail
// on a function only once it is posted, without saying which input it was.
import * as Comlink from "comlink";
import { checkStorable, DisallowedAccess, InvalidFormat, type FlowSnapshot } from "taskflow-ts";
import { HELLO, PROTOCOL, type FlowFactories, type ResumeOrStartRunnerOptions, type RunnerApi, type RunnerStats, type StartOptions } from "./host.js";
import { installTransferHandlers } from "./transfer.js";
import { eventFromWire, snapshotFromWire, type FlowLog, type RunnerEvents, type RunnerListeners, type WireEvent } from "./wire.js";

/**
 * What a client connects to: a dedicated `Worker`, a `SharedWorker` (through its port), or a
 * `MessagePort` whose other end a runner listens on.
 * @example connectRunner(new SharedWorker(new URL("./flows.worker.ts", import.meta.url), { type: "module" }))
 */
export type RunnerTarget = Pick<Worker, "postMessage"> | { readonly port: MessagePort } | MessagePort;

/**
 * The arguments of `start` for a factory: `args` may be left out when it takes none.
 * @example type A = StartArguments<(cart: string) => Flow> // [args: [cart: string], options?: StartOptions]
 */
export type StartArguments<Factory, Options = StartOptions> = Factory extends (...args: infer A) => unknown
  ? A extends [] ? [args?: [], options?: Options] : [args: A, options?: Options]
  : [args?: unknown[], options?: Options];

/**
 * What `resumeOrStart` found and did (`"started"`, `"resumed"`, `"finished"`; `replaced` when a
 * new flow took the key from a finished or vanished one), with the flow's snapshot.
 * @example const { snapshot, outcome } = await runner.resumeOrStart("booking", "booking"); if (outcome === "finished") show(snapshot);
 */
export interface ResumedOrStarted {
  snapshot: FlowSnapshot;
  outcome: "started" | "resumed" | "finished";
  replaced?: { flowDetailId: string; reason: "finished" | "missing" };
}

/**
 * A page's handle on a worker's runner (see {@link connectRunner}). Every method is a message to
 * the worker; errors come back with their class (`Cancelled`, `InvalidFormat`, `LockHeld`,
 * `NotFound`, or a task's own class, registered here with `registerErrorClass`).
 * @example
 * const runner = connectRunner<Flows>(new Worker(new URL("./flows.worker.ts", import.meta.url), { type: "module" }));
 * const { uuid } = await runner.start("checkout", ["cart-1"]);
 * await runner.run(uuid); // SUCCESS, or rejects with the flow's error
 */
export class RunnerClient<F extends FlowFactories = FlowFactories> {
  readonly #remote: Comlink.Remote<RunnerApi>;
  readonly #subscriptions = new Set<() => Promise<void>>();
  readonly #onPageHide: () => void;
  readonly #lock: Promise<ClientLock | undefined>;
  #closed: Promise<void> | undefined;

  /** @internal Use {@link connectRunner}. */
  constructor(port: MessagePort, lock: Promise<ClientLock | undefined> = Promise.resolve(undefined)) {
    installTransferHandlers();
    this.#remote = Comlink.wrap<RunnerApi>(port);
    this.#lock = lock;
    // When the page goes away, its subscriptions go with it: a SharedWorker outlives the page.
    this.#onPageHide = () => void this.close();
    globalThis.addEventListener?.("pagehide", this.#onPageHide);
  }

  /** The worker's methods, while this client is open. @throws DisallowedAccess once it is closed */
  get #api(): Comlink.Remote<RunnerApi> {
    if (this.#closed) throw new DisallowedAccess("this client of the worker's runner is closed; connect again with connectRunner(worker)");
    return this.#remote;
  }

  /**
   * Starts flow `flow` with `args` for its factory (typed by the worker's flows) and resolves
   * once it is stored, with its snapshot; the worker runs it (`run(uuid)` waits for the end).
   * @throws InvalidFormat, before anything is sent, for arguments or a store the log book cannot
   * keep (a function, a class instance…); MissingDependencies when an atom's input is missing
   * (nothing is stored); NotFound for an unknown flow name
   */
  async start<K extends keyof F & string>(flow: K, ...[args, options]: StartArguments<F[K]>): Promise<FlowSnapshot> {
    const list = (args ?? []) as unknown[];
    if (!Array.isArray(list)) throw new InvalidFormat(`the arguments of flow "${flow}" must be an array`);
    checkStorable(list, "args", `the arguments of flow "${flow}"`);
    if (options?.store !== undefined) checkStorable(options.store, "store", `the store of flow "${flow}"`);
    return snapshotFromWire(await this.#api.start(flow, list, options));
  }

  /**
   * Resumes the flow stored under `key` (your name for it: a wizard, a cart id), or starts flow
   * `flow` with `args` (typed by the worker's flows), in one call, as `resumeOrStart` of
   * `taskflow-ts/resume` does in the worker: a page that reloads finds its flow without keeping
   * its id, and two pages calling it at once get one flow. The worker runs it unless it has
   * finished or `{ run: false }`; resolves once it is stored.
   * @throws InvalidFormat, before anything is sent, as {@link start}; NotFound for an unknown flow
   * name, or (`ifMissing: "throw"`) a key whose log book is gone; StorageFailure for a backend without keys
   */
  async resumeOrStart<K extends keyof F & string>(key: string, flow: K, ...[args, options]: StartArguments<F[K], ResumeOrStartRunnerOptions>): Promise<ResumedOrStarted> {
    if (typeof key !== "string" || key === "") throw new InvalidFormat(`resumeOrStart needs a non-empty string key, not ${JSON.stringify(key)}`);
    const list = (args ?? []) as unknown[];
    if (!Array.isArray(list)) throw new InvalidFormat(`the arguments of flow "${flow}" must be an array`);
    checkStorable(list, "args", `the arguments of flow "${flow}"`);
    if (options?.store !== undefined) checkStorable(options.store, "store", `the store of flow "${flow}"`);
    const { records, outcome, replaced } = await this.#api.resumeOrStart(key, flow, list, options);
    const snapshot = snapshotFromWire(records);
    return replaced ? { snapshot, outcome, replaced } : { snapshot, outcome };
  }

  /** Runs a stored flow (after a reload, say) in the worker; resolves once it is under way. */
  async resume(id: string): Promise<FlowSnapshot> {
    return snapshotFromWire(await this.#api.resume(id));
  }

  /**
   * Runs the flow, or joins its run under way, and resolves when it ends SUCCESS or SUSPENDED;
   * rejects with the flow's error (its own class) when it ends REVERTED or FAILURE.
   */
  async run(id: string): Promise<FlowSnapshot> {
    return snapshotFromWire(await this.#api.run(id));
  }

  /** Stops the flow at its next step; it stays SUSPENDED (no timer or input runs it) until `resume`. */
  async suspend(id: string): Promise<FlowSnapshot> {
    return snapshotFromWire(await this.#api.suspend(id));
  }

  /** Cancels the flow and resolves when what ran is reverted. @throws DisallowedAccess when it has ended */
  async cancel(id: string, reason?: string): Promise<FlowSnapshot> {
    return snapshotFromWire(await this.#api.cancel(id, reason));
  }

  /**
   * Provides a value a wait of the flow waits for; the worker stores it and goes on.
   * @throws InvalidFormat, before anything is sent, for a value the log book cannot keep, naming
   * the input; in the worker, for a value the wait's schema refuses (nothing is stored either way)
   */
  async provide(id: string, name: string, value: unknown): Promise<FlowSnapshot> {
    checkStorable(value, name, `the value provided for "${name}" (the input of wait "wait:${name}")`);
    return snapshotFromWire(await this.#api.provide(id, name, value));
  }

  /** Changes an input the flow read; what depends on it runs again. @throws as {@link provide} */
  async revise(id: string, name: string, value: unknown): Promise<FlowSnapshot> {
    checkStorable(value, name, `the new value of "${name}"`);
    return snapshotFromWire(await this.#api.revise(id, name, value));
  }

  /** The flow as stored now. @throws NotFound */
  async snapshot(id: string): Promise<FlowSnapshot> {
    return snapshotFromWire(await this.#api.snapshot(id));
  }

  /** Every record of the flow, as stored. @throws NotFound */
  async logBook(id: string): Promise<FlowLog> {
    return this.#api.logBook(id);
  }

  /**
   * Subscribes to the events of one flow (`{ flow: id }`) or of every flow the worker runs;
   * resolves with the function that unsubscribes. The worker holds one proxy for it, released on
   * unsubscribe, on `close()`, and when the page goes away.
   */
  async subscribe(listeners: RunnerListeners, filter: { flow?: string } = {}): Promise<() => Promise<void>> {
    const types = (Object.keys(listeners) as Array<keyof RunnerEvents>).filter((t) => typeof listeners[t] === "function");
    const sink = Comlink.proxy((events: WireEvent[]) => {
      for (const event of events) {
        const listener = listeners[event.type] as ((e: RunnerEvents[keyof RunnerEvents]) => void) | undefined;
        try {
          listener?.(eventFromWire(event));
        } catch (e) {
          // The next listeners still get their events; the page hears of the error as of an
          // uncaught one (reportError), or in the console where there is no reportError.
          if (typeof globalThis.reportError === "function") globalThis.reportError(e);
          else console.error("taskflow-ts/worker: a subscriber's listener threw", e);
        }
      }
    });
    const id = await this.#api.subscribe(sink as unknown as Parameters<RunnerApi["subscribe"]>[0], { flow: filter.flow, types });
    const unsubscribe = async () => {
      if (!this.#subscriptions.delete(unsubscribe)) return;
      if (!this.#closed) await this.#remote.unsubscribe(id);
    };
    this.#subscriptions.add(unsubscribe);
    return unsubscribe;
  }

  /** What the worker's runner holds now (see {@link RunnerStats}). */
  async stats(): Promise<RunnerStats> {
    return this.#api.stats();
  }

  /**
   * Ends this connection: the worker releases its subscriptions, then the port is closed. The
   * worker and its runs go on (terminate a dedicated worker yourself if the page is done with it).
   */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      globalThis.removeEventListener?.("pagehide", this.#onPageHide);
      this.#subscriptions.clear();
      try {
        await this.#remote.disconnect();
      } finally {
        this.#remote[Comlink.releaseProxy]();
        await (await this.#lock)?.release();
      }
    })();
    return this.#closed;
  }
}

/**
 * Connects to the runner a worker serves with `exposeRunner`, typed by its flows (`F`, usually
 * `typeof flows` exported as a type from the worker module: a type-only import loads nothing).
 * Several pages, and several clients of one page, may connect to one worker.
 * @example
 * import type { Flows } from "./flows.worker.js";
 * const runner = connectRunner<Flows>(new Worker(new URL("./flows.worker.ts", import.meta.url), { type: "module" }));
 * const off = await runner.subscribe({ progress: (e) => console.log(e.name, e.progress) });
 */
export function connectRunner<F extends FlowFactories = FlowFactories>(target: RunnerTarget): RunnerClient<F> {
  const { port1, port2 } = new MessageChannel();
  const to = "port" in target && typeof target.port === "object" ? target.port : (target as MessagePort);
  const lock = holdLock();
  const hello = (held: ClientLock | undefined) => to.postMessage({ [HELLO]: PROTOCOL, ...(held ? { lock: held.name } : {}) }, [port2]);
  // Calls made meanwhile wait in the channel: the runner reads them once it has the port.
  if (lock) void lock.then(hello);
  else hello(undefined);
  return new RunnerClient<F>(port1, lock);
}

const noop = (): void => undefined;

/** The lock a client holds while it is open (see host.ts: how a runner notices a page that is gone). */
interface ClientLock {
  readonly name: string;
  /** Lets go of the lock; resolves once it is free. */
  release(): Promise<void>;
}

/**
 * Takes a Web Lock of this client's own, held until released; resolves once it is held (so the
 * runner's request for it, made after the hello, can only be granted after the page lets go).
 * Undefined without Web Locks, or if the lock cannot be had: the runner then relies on pagehide.
 */
function holdLock(): Promise<ClientLock | undefined> | undefined {
  const locks = (globalThis as { navigator?: { locks?: LockManager } }).navigator?.locks;
  if (!locks) return undefined;
  const name = `taskflow-ts/worker/client/${crypto.randomUUID()}`;
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  return new Promise<ClientLock | undefined>((resolve) => {
    const request = locks.request(name, () => {
      resolve({ name, release: () => (release(), request.then(noop, noop)) });
      return held;
    });
    request.catch(() => resolve(undefined));
  });
}
