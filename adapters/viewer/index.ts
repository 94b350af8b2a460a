/**
 * taskflow-ts/viewer: `<taskflow-viewer>`, a custom element without a framework that shows one
 * flow's log book: its graph drawn as SVG (laid out by dagre; atoms coloured by state, subflows
 * as boxes, the waiting and failed atoms marked), a timeline of its transitions, each atom's
 * result or failure, and live changes while it runs (from another tab's broadcast, or a worker
 * runner's subscription). For a page; it draws, it never writes a log book.
 * @example
 * import { defineViewer, tabsSource } from "taskflow-ts/viewer";
 * defineViewer();
 * const viewer = document.querySelector("taskflow-viewer")!;
 * viewer.graph = compile(flow);
 * viewer.snapshot = await readSnapshot(backend, flowDetailId);
 * viewer.source = tabsSource(observeTransitions, flowDetailId);
 * @module taskflow-ts/viewer
 */
export { TaskflowViewer, defineViewer, STATE_COLOURS } from "./element.js";
export { transitionsFromSnapshot, transitionsFromTrail, type TimelineTransition, type FailureLike, type ViewerChange } from "./model.js";
export { tabsSource, runnerSource, type ViewerSource, type RunnerLike, type TabMessage } from "./sources.js";
