// Where live changes come from: one small interface, and two ways to fill it. Neither imports
// the adapter it wraps (the functions and the client are passed in, typed by their shape), so a
// page that shows a flow run by another tab does not bundle the Web Worker client, and the other
// way round.
import type { AtomState, FlowSnapshot, FlowState } from "taskflow-ts";
import type { FailureLike, ViewerChange } from "./model.js";

/**
 * What feeds a viewer live: anything that calls `onChange` with each change of one flow, and
 * returns the function that stops it. Two are ready: {@link tabsSource} (the BroadcastChannel of
 * `taskflow-ts/idb`) and {@link runnerSource} (the subscription of `taskflow-ts/worker`).
 * @example
 * const source: ViewerSource = { subscribe: (onChange) => engine.on("atom", (e) => onChange(e)) };
 * viewer.source = source;
 */
export interface ViewerSource {
  subscribe(onChange: (change: ViewerChange) => void): () => void;
}

/**
 * What a tab's broadcast delivers (`TabTransition` of `taskflow-ts/idb`), by shape: the viewer
 * takes it without importing the IndexedDB adapter.
 * @example const onMessage = (t: TabMessage) => { if (t.type === "atom") console.log(t.name, t.state); };
 */
export type TabMessage =
  | { type: "flow"; state: FlowState }
  | { type: "atom"; name: string; state: AtomState; oldState: AtomState; result?: unknown; failure?: FailureLike }
  | { type: "progress"; name: string; progress: number };

/**
 * A source from the transitions another tab (or worker) broadcasts for one flow: pass
 * `observeTransitions` of `taskflow-ts/idb`. A broadcast does not say what a suspended flow
 * waits for: with `read` (say `() => readSnapshot(backend, id)`), the viewer reads it from the
 * stored flow whenever the flow suspends. Only that is taken from the read: the log book may
 * already be ahead of the transitions still on their way, and those bring the states, results
 * and failures.
 * @example
 * import { observeTransitions } from "taskflow-ts/idb";
 * viewer.source = tabsSource(observeTransitions, flowUuid, { read: () => readSnapshot(backend, flowUuid) });
 */
export function tabsSource(
  observe: (flowUuid: string, listener: (t: TabMessage) => void, options?: { scope?: string }) => () => void,
  flowUuid: string,
  options: { scope?: string; read?: () => Promise<FlowSnapshot> } = {},
): ViewerSource {
  return {
    subscribe(onChange) {
      let stopped = false;
      // Counts flow transitions: a read answered after the flow moved on says nothing of now.
      let flowChanges = 0;
      const stop = observe(flowUuid, (t) => {
        onChange(t);
        if (t.type !== "flow") return;
        const asked = ++flowChanges;
        if (t.state !== "SUSPENDED" || !options.read) return;
        options.read().then((snapshot) => {
          if (stopped || asked !== flowChanges || snapshot.state !== "SUSPENDED" || snapshot.suspendedReason !== "input") return;
          onChange({ type: "wait", reason: "input", inputs: snapshot.waitingFor.map((w) => w.name) });
        }, () => undefined); // a failed read changes nothing
      }, options.scope === undefined ? {} : { scope: options.scope });
      return () => {
        stopped = true;
        stop();
      };
    },
  };
}

/**
 * The part of a `RunnerClient` (`taskflow-ts/worker`) a viewer uses: its subscription to one
 * flow's events.
 * @example const runner: RunnerLike = connectRunner<Flows>(worker)
 */
export interface RunnerLike {
  subscribe(
    listeners: {
      flow?: (e: { state: FlowState }) => void;
      atom?: (e: { name: string; state: AtomState; oldState: AtomState; result?: unknown; failure?: FailureLike | undefined }) => void;
      progress?: (e: { name: string; progress: number }) => void;
      wait?: (e: { reason: string; inputs?: readonly string[] | undefined }) => void;
    },
    filter?: { flow?: string },
  ): Promise<() => Promise<void>>;
}

/**
 * A source from a worker runner's subscription to one flow (`connectRunner` of
 * `taskflow-ts/worker`): its flow, atom, progress and wait events, in the order the worker
 * emitted them.
 * @example viewer.source = runnerSource(runner, uuid)
 */
export function runnerSource(runner: RunnerLike, flowUuid: string): ViewerSource {
  return {
    subscribe(onChange) {
      let stopped = false;
      const alive = () => !stopped;
      const emit = (c: ViewerChange) => alive() && onChange(c);
      const subscribed = runner.subscribe({
        flow: (e) => emit({ type: "flow", state: e.state }),
        atom: (e) => emit({ type: "atom", name: e.name, state: e.state, oldState: e.oldState, result: e.result, failure: e.failure }),
        progress: (e) => emit({ type: "progress", name: e.name, progress: e.progress }),
        wait: (e) => emit({ type: "wait", reason: e.reason, inputs: e.inputs }),
      }, { flow: flowUuid });
      // A subscription that could not be made (a closed client) leaves the viewer as it was.
      subscribed.catch(() => undefined);
      return () => {
        stopped = true;
        void subscribed.then((off) => off()).catch(() => undefined);
      };
    },
  };
}
