/**
 * taskflow-ts/backend: what a log book backend is built from, so that every backend keeps the
 * same contract: the parent check of a commit and its `NotFound`, the decoding of stored records
 * (a check by hand, no zod), what "finished" and "expired" mean, and decorators (a commit
 * counter, a base class that forwards every call), and `memoryBackendFromDump`, which restores a
 * `MemoryBackend` from its `dump()` with every record checked. The IndexedDB and Durable Object adapters
 * are built from these alone, with `taskflow-ts` for the records and errors.
 * @example
 * import { checkParents, decodeRecord } from "taskflow-ts/backend";
 * checkParents(batch, { hasBook: (id) => books.has(id), hasFlow: (id) => flows.has(id) });
 * return decodeRecord("flow detail", stored.get(uuid), { uuid });
 * @module taskflow-ts/backend
 */
export type { Backend, ClaimedFlow, ExpireOptions, ListOptions } from "./ports/backend.js";
export type { AtomDetail, Fence, FlowDetail, KeyBinding, LogBook, TrailEntry, Transition, WriteBatch } from "./persistence/models.js";
export { decodeTrail, trailOf, type TrailRecord } from "./persistence/trail.js";
export { checkKeys } from "./persistence/keys.js";
export { fencedFlows, nextEpoch } from "./persistence/fence.js";
export { checkParents, missingParent, type StoredParents } from "./persistence/parents.js";
export { decodeEach, decodeRecord, type RecordKind, type RecordOf, type StoredEntry } from "./persistence/validate.js";
export { expiryLimit, finishedAmong, finishedBooks, isFinished, lastActive, unfinishedAmong, type FinishedBook } from "./persistence/expiry.js";
export { checkAtomDetails, FINAL_FLOW_STATES, pendingAtomDetail, providedValue } from "./snapshot/rules.js";
export { BackendWrapper, CountingBackend, countCommits } from "./persistence/wrappers.js";
export { cloneRecord } from "./persistence/clone.js";
// Restoring a memory backend from a dump checks every record as read from storage (the decoders
// above), so it lives here with them, not in the core entry that every page loads.
export { memoryBackendFromDump } from "./persistence/memory.js";
