// What crosses between the page and the worker: plain data only (structured clones). The
// worker sends records and events with every Failure as its data; the page rebuilds them.
import {
  Failure, snapshotOf,
  type AtomDetail, type AtomEvent, type EngineEvents, type FailureData, type FlowDetail, type FlowEvent, type FlowSnapshot,
  type LogBook, type ProgressEvent, type WaitEvent,
} from "taskflow-ts";

/**
 * An atom's transition as a subscriber in the page receives it: the engine's {@link AtomEvent}
 * without `annotate` (which only a listener in the worker can call).
 * @example runner.subscribe({ atom: (e: AtomTransition) => console.log(e.name, e.state, e.failure?.toString()) })
 */
export type AtomTransition = Omit<AtomEvent, "annotate">;

/**
 * The events a subscription delivers, by type: flow and atom transitions, progress, and why a
 * run ended waiting. Each carries `flowUuid`, the id of its flow.
 * @example const onProgress = (e: RunnerEvents["progress"]) => bar.set(e.name, e.progress)
 */
export interface RunnerEvents {
  flow: FlowEvent;
  atom: AtomTransition;
  progress: ProgressEvent;
  wait: WaitEvent;
}

/**
 * The listeners of one subscription: any of `flow`, `atom`, `progress`, `wait`. Called in the
 * page, in the order the worker emitted the events.
 * @example const off = await runner.subscribe({ flow: (e) => setState(e.state), progress: (e) => bar(e.progress) }, { flow: id })
 */
export type RunnerListeners = { [K in keyof RunnerEvents]?: (event: RunnerEvents[K]) => void };

/** An event on the wire: an atom's failure as data. */
export type WireEvent =
  | FlowEvent
  | (Omit<AtomTransition, "failure"> & { failure?: FailureData | undefined })
  | ProgressEvent
  | WaitEvent;

/** The plain-data form of an engine event (a listener's `annotate` left out, a Failure as data). */
export function eventToWire(event: EngineEvents[keyof RunnerEvents]): WireEvent {
  if (event.type !== "atom") return { ...event };
  const { annotate: _annotate, failure, ...rest } = event;
  return failure ? { ...rest, failure: failure.toJSON() } : rest;
}

/** The event a subscriber receives, rebuilt from the wire. */
export function eventFromWire(event: WireEvent): RunnerEvents[keyof RunnerEvents] {
  if (event.type !== "atom" || !event.failure) return event as RunnerEvents[keyof RunnerEvents];
  return { ...event, failure: Failure.fromJSON(event.failure) };
}

/**
 * A stored flow as the worker sends it: its flow detail and stored atom details (the page
 * builds the {@link FlowSnapshot} from them with the core's `snapshotOf`: one reader).
 * @example const snapshot = snapshotOf(records.flowDetail, records.atomDetails)
 */
export interface FlowRecords {
  flowDetail: FlowDetail;
  atomDetails: AtomDetail[];
}

/**
 * Every record of a flow: its log book, flow detail and atom details, as stored.
 * @example const { logBook, flowDetail, atomDetails } = await runner.logBook(id); download(JSON.stringify({ logBook, flowDetail, atomDetails }))
 */
export interface FlowLog extends FlowRecords {
  logBook: LogBook;
}

/** The snapshot of the records the worker sent. */
export function snapshotFromWire(records: FlowRecords): FlowSnapshot {
  return snapshotOf(records.flowDetail, records.atomDetails);
}
