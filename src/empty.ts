/**
 * The one empty list and the one empty object of the core. A flow of 100,000 atoms keeps its
 * atoms, their compiled nodes and their records, and an empty list costs 32 bytes, an empty
 * object 56: where one of them has nothing of a kind (names, edges, arguments, meta), it holds
 * these. Frozen: nothing may add to them; code that grows a list replaces it (see `appended` in
 * the compiler).
 */
export const EMPTY_LIST: readonly never[] = Object.freeze([]);
export const EMPTY_OBJECT: Readonly<Record<string, never>> = Object.freeze({});
