import { Failure, type AtomState, type Backend, type Engine, type FailureData, type FlowState } from "taskflow-ts";
import type { WriteBatch } from "taskflow-ts/backend";

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
// once a batch holding it is committed. The core has no commit event (it would cost every app's
// bundle for what only a broadcast needs): the backend's `commit` is wrapped here, once per
// backend object, and tells the broadcasts of its engines what each committed batch holds.
const committed = new WeakMap<Backend, Set<(batch: WriteBatch) => void>>();

/** Calls `listener` with each batch `backend` has committed; `undefined` if its `commit` cannot be wrapped. */
function onCommitted(backend: Backend, listener: (batch: WriteBatch) => void): (() => void) | undefined {
  let listeners = committed.get(backend);
  if (!listeners) {
    const set = new Set<(batch: WriteBatch) => void>();
    const commit = backend.commit.bind(backend);
    try {
      backend.commit = async (batch) => {
        await commit(batch);
        for (const l of set) l(batch);
      };
    } catch {
      return undefined; // a frozen backend: transitions leave as they are announced
    }
    committed.set(backend, (listeners = set));
  }
  const set = listeners;
  set.add(listener);
  return () => void set.delete(listener);
}

/** Whether `batch` stores transition `t` (the record of its flow or atom, in the state it announced). */
function holds(batch: WriteBatch, t: TabTransition): boolean {
  if (t.type === "flow") return batch.flows.some((f) => f.uuid === t.flowUuid && f.state === t.state);
  return batch.atoms.some((a) => a.flowUuid === t.flowUuid && a.name === t.name && (t.type === "progress" || a.state === t.state));
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
  const stopCommits = onCommitted(engine.backend, (batch) => {
    // Batches are committed in the order the engine queued them, so everything announced before
    // the last transition this batch holds is committed too (in it or in an earlier one).
    let last = -1;
    for (let i = queue.length - 1; i >= 0 && last < 0; i--) if (holds(batch, queue[i] as TabTransition)) last = i;
    for (const t of queue.splice(0, last + 1)) send(t);
  });
  const post = stopCommits ? (t: TabTransition) => void queue.push(t) : send;
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
    stopCommits?.();
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
