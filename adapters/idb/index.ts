/**
 * taskflow-ts/idb: log books in the browser's IndexedDB, so that a flow survives a page reload, a
 * closed tab or a browser restart. For a page, a Web Worker or a Service Worker.
 * @module taskflow-ts/idb
 */
export { IndexedDbBackend, type IndexedDbOptions } from "./backend.js";
export { IDB_SCHEMA_VERSION } from "./connect.js";
export { WebLockService, type WebLockOptions } from "./web-locks.js";
export { broadcastTransitions, observeTransitions, type TabTransition } from "./tabs.js";
export { IndexedDbJobBoard, IDB_JOBS_SCHEMA_VERSION, type IndexedDbJobBoardOptions } from "./job-board.js";
