/**
 * taskflow-ts/idb: log books in the browser's IndexedDB, so a flow survives a page reload, a
 * closed tab, or a browser restart.
 */
export { IndexedDbBackend, IDB_SCHEMA_VERSION, type IndexedDbOptions } from "./backend.js";
