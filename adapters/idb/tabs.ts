import { Failure, type AtomState, type Engine, type FailureData, type FlowState } from "taskflow-ts";

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

/**
 * Sends the transitions of the flow `engine` runs to the other tabs (and workers) of the origin
 * that observe it, over a BroadcastChannel: the tab that holds the flow's lock runs it, the others
 * show the same progress. Returns the function that stops it (and closes the channel).
 * @example await engine.prepare(); const stop = broadcastTransitions(engine); await engine.run(); stop();
 */
export function broadcastTransitions(engine: Engine, options: { scope?: string } = {}): () => void {
  const channel = new BroadcastChannel(channelName(engine.flowDetailId, options.scope ?? "default"));
  const post = (t: TabTransition) => {
    try {
      channel.postMessage(t);
    } catch {
      // A result a structured clone refuses cannot be in the log book either: never here.
    }
  };
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
