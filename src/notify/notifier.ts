import type { Failure } from "../failure.js";
import type { Transition } from "../persistence/models.js";
import type { AtomState, FlowState, Intention } from "../states.js";

/**
 * A flow changed state.
 * @example engine.on("flow", (e) => console.log(`${e.flowName}: ${e.oldState} → ${e.state}`))
 */
export interface FlowEvent {
  readonly type: "flow";
  readonly flowName: string;
  readonly flowUuid: string;
  readonly state: FlowState;
  readonly oldState: FlowState;
}

/**
 * An atom changed state. `result` is set on SUCCESS and REVERTED, `failure` on FAILURE and REVERT_FAILURE.
 * @example engine.on("atom", (e) => { if (e.state === "FAILURE") console.error(e.name, e.failure?.exceptionStr) })
 */
export interface AtomEvent {
  readonly type: "atom";
  readonly name: string;
  readonly kind: "task" | "retry";
  readonly flowUuid: string;
  readonly state: AtomState;
  readonly oldState: AtomState;
  readonly intention: Intention;
  readonly result?: unknown;
  readonly failure?: Failure | undefined;
  /**
   * Adds details to the atom's stored meta, written with the batch that holds this transition
   * (e.g. the duration listener's `duration`).
   */
  readonly annotate: (values: Record<string, unknown>) => void;
}

/**
 * A task reported progress (the engine reports 0 when it starts and 1 when it ends).
 * @example engine.on("progress", (e) => console.log(`${e.name} ${Math.round(e.progress * 100)}%`))
 */
export interface ProgressEvent {
  readonly type: "progress";
  readonly name: string;
  readonly flowUuid: string;
  readonly progress: number;
  readonly details?: unknown;
}

/**
 * A run ended because the flow waits: for a time (`"waiting"`, until `wakeAt`, ms since the
 * epoch), for an input (`"input"`, named in `inputs`; `wakeAt` is then its deadline, if any), or
 * for the network (`"offline"`). The host runs the engine again then (a page timer, a Durable
 * Object alarm, the browser's `online` event), or after `engine.provide`.
 * @example engine.on("wait", (e) => { if (e.wakeAt !== undefined) armTimer(e.wakeAt, () => engine.run()) }) // your host's timer or alarm
 */
export interface WaitEvent {
  readonly type: "wait";
  readonly flowUuid: string;
  readonly reason: "input" | "waiting" | "offline";
  /** For "input": the names the flow waits for. */
  readonly inputs?: readonly string[] | undefined;
  readonly wakeAt?: number | undefined;
}

/**
 * A batch of the flow's records was committed to the backend: its transitions (the audit trail's
 * entries, flow and atoms, in the order the engine made them), in commit order. The `flow` and
 * `atom` events are told when a transition is decided, before it is stored (so a listener may
 * annotate it); this one once it is stored, so what a listener tells others (another tab, a
 * server) can be read back from the log book by then. An entry whose `from` equals its `to` is an
 * action started again after a crash, announced by no `atom` event. The entries are frozen: a
 * backend may keep these very objects (the memory backend does).
 * @example engine.on("committed", (e) => e.transitions.forEach((t) => channel.postMessage({ atom: t.atom, state: t.to })))
 */
export interface CommittedEvent {
  readonly type: "committed";
  readonly flowUuid: string;
  readonly transitions: readonly Transition[];
}

/**
 * The events {@link Engine.on} delivers, by type.
 * @example const show = (e: EngineEvents["progress"]) => console.log(e.name, e.progress); engine.on("progress", show)
 */
export interface EngineEvents {
  flow: FlowEvent;
  atom: AtomEvent;
  progress: ProgressEvent;
  wait: WaitEvent;
  committed: CommittedEvent;
}

/**
 * A function subscribed with {@link Engine.on}. Called synchronously; what it throws goes to
 * `onListenerError` and never stops the engine.
 * @example const log: Listener<FlowEvent> = (e) => console.log(e.state); const off = engine.on("flow", log)
 */
export type Listener<T> = (event: T) => void;

/**
 * Typed subscriptions. Events are delivered synchronously when a transition is decided, before
 * the batch holding it is committed, so a listener may add to that batch (see the duration
 * listener). A listener that throws is reported to `onListenerError` and never stops the engine.
 */
export class Notifier {
  readonly #listeners: { [K in keyof EngineEvents]: Set<Listener<EngineEvents[K]>> } = {
    flow: new Set(),
    atom: new Set(),
    progress: new Set(),
    wait: new Set(),
    committed: new Set(),
  };

  readonly #onListenerError: (error: unknown) => void;

  constructor(onListenerError: (error: unknown) => void = () => {}) {
    this.#onListenerError = onListenerError;
  }

  /** Subscribes; returns the function that unsubscribes. */
  on<K extends keyof EngineEvents>(type: K, listener: Listener<EngineEvents[K]>): () => void {
    const set = this.#listeners[type] as Set<Listener<EngineEvents[K]>>;
    set.add(listener);
    return () => set.delete(listener);
  }

  /** Whether anyone listens, so that the engine builds events only when they are read. */
  has(type: keyof EngineEvents): boolean {
    return this.#listeners[type].size > 0;
  }

  emit<K extends keyof EngineEvents>(type: K, event: EngineEvents[K]): void {
    for (const listener of this.#listeners[type] as Set<Listener<EngineEvents[K]>>) {
      try {
        listener(event);
      } catch (e) {
        this.#onListenerError(e);
      }
    }
  }
}
