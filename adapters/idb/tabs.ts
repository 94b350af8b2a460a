import { Failure, type AtomState, type Engine, type FailureData, type FlowState } from "taskflow-ts";
import type { Transition } from "taskflow-ts/backend";

/**
 * A transition of a flow, as another tab sees it: plain data (a failure as its stored form).
 * @example observeTransitions(flowUuid, (t) => { if (t.type === "atom") render(t.name, t.state) })
 */
export type TabTransition =
  | { type: "flow"; flowUuid: string; flowName: string; state: FlowState; oldState: FlowState }
  | { type: "atom"; flowUuid: string; name: string; state: AtomState; oldState: AtomState; result?: unknown; failure?: FailureData }
  | { type: "progress"; flowUuid: string; name: string; progress: number };

/** One channel per flow, so a tab hears only the flows it watches. */
const channelName = (flowUuid: string, scope: string) => `taskflow-ts/${scope}/flow/${flowUuid}`;

// The engine announces a transition when it decides it, before the batch that holds it is
// committed (listeners may still add to that batch). A tab that hears of it and reads the log
// book at once could read the state before it, and no later transition would correct what it
// shows (the wizard's Next button stayed disabled at a wait: issue 12). So a transition leaves
// once the engine's "committed" event says a batch holding it is stored.

/** Whether committed transition `c` is announced transition `t` (the same flow or atom, moved to the same state). */
function same(c: Transition, t: TabTransition): boolean {
  return t.type === "flow" ? c.atom === undefined && c.to === t.state : t.type === "atom" && c.atom === t.name && c.to === t.state;
}

/** The last transition of a batch that changed a state. */
function lastMove(transitions: readonly Transition[]): Transition | undefined {
  for (let i = transitions.length - 1; i >= 0; i--) {
    const c = transitions[i];
    if (c && c.from !== c.to) return c;
  }
  return undefined;
}

/**
 * Sends the transitions of the flow `engine` runs to the other tabs (and workers) of the origin
 * that observe it, over a BroadcastChannel: the tab that holds the flow's lock runs it, the others
 * show the same progress. Each leaves once the batch holding it is committed to the engine's
 * backend, so an observer that reads the log book on hearing it reads that transition (or a later
 * one). Returns the function that stops it (and closes the channel); transitions not committed
 * by then are not sent.
 * @example await engine.prepare(); const stop = broadcastTransitions(engine); await engine.run(); stop();
 */
export function broadcastTransitions(engine: Engine, options: { scope?: string } = {}): () => void {
  const channel = new BroadcastChannel(channelName(engine.flowDetailId, options.scope ?? "default"));
  const send = (t: TabTransition) => {
    try {
      channel.postMessage(t);
    } catch {
      // A result a structured clone refuses cannot be in the log book either: never here.
    }
  };
  /** Announced, not yet committed, in the order announced. */
  const queue: TabTransition[] = [];
  const post = (t: TabTransition) => void queue.push(t);
  const stopCommits = engine.on("committed", ({ transitions }) => {
    // Batches are committed in the order the engine queued them, and a batch's transitions are in
    // the order they were announced: everything announced up to the one its last transition is
    // (the first in the queue that matches, never a later one) is committed, progress included.
    // An action started again after a crash (from = to) was announced by no event.
    const last = lastMove(transitions);
    const at = last ? queue.findIndex((t) => same(last, t)) : -1;
    for (const t of queue.splice(0, at + 1)) send(t);
  });
  const stops = [
    engine.on("flow", (e) => post({ type: "flow", flowUuid: e.flowUuid, flowName: e.flowName, state: e.state, oldState: e.oldState })),
    engine.on("atom", (e) =>
      post({
        type: "atom", flowUuid: e.flowUuid, name: e.name, state: e.state, oldState: e.oldState,
        ...(e.result !== undefined ? { result: e.result } : {}),
        ...(e.failure ? { failure: e.failure.toJSON() } : {}),
      }),
    ),
    engine.on("progress", (e) => post({ type: "progress", flowUuid: e.flowUuid, name: e.name, progress: e.progress })),
  ];
  return () => {
    for (const stop of stops) stop();
    stopCommits();
    queue.length = 0;
    channel.close();
  };
}

/**
 * Listens to the transitions another tab broadcasts for one flow ({@link broadcastTransitions});
 * a failure arrives as a `Failure` again. Returns the function that stops listening.
 * @example const stop = observeTransitions(flowUuid, (t) => t.type === "flow" && t.state === "SUCCESS" && showDone());
 */
export function observeTransitions(
  flowUuid: string,
  listener: (transition: TabTransition & { failureObject?: Failure }) => void,
  options: { scope?: string } = {},
): () => void {
  const channel = new BroadcastChannel(channelName(flowUuid, options.scope ?? "default"));
  channel.onmessage = (event: MessageEvent<TabTransition>) => {
    const t = event.data;
    listener(t.type === "atom" && t.failure ? { ...t, failureObject: Failure.fromJSON(t.failure) } : t);
  };
  return () => channel.close();
}
