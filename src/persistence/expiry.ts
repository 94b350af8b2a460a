import type { ExpireOptions, ListOptions } from "../ports/backend.js";
import type { Clock } from "../ports/clock.js";
import { isFinalFlowState } from "../snapshot/rules.js";
import type { FlowDetail, LogBook } from "./models.js";
import { decodeEach, type StoredEntry } from "./validate.js";

// What `Backend.listFinished` and `Backend.expire` mean, for every backend alike.

/**
 * Whether a log book with these flow details is finished: it has some, and all are finished. A
 * book without flow details is not: the engine never writes one, so it belongs to someone else.
 * @example if (isFinished(await backend.getFlowDetails(book.uuid))) console.log(`${book.name} may be deleted`)
 */
export function isFinished(flows: readonly FlowDetail[]): boolean {
  return flows.length > 0 && flows.every((f) => isFinalFlowState(f.state));
}

/**
 * When a log book was last active: the latest update of the book or of its flow details. The
 * engine stamps a book when it creates it and a flow detail at every change, so for a finished
 * book this is when its last flow finished.
 * @example lastActive(book, await backend.getFlowDetails(book.uuid)) // ms since the epoch
 */
export function lastActive(book: LogBook, flows: readonly FlowDetail[]): number {
  return Math.max(book.updatedAt, ...flows.map((f) => f.updatedAt));
}

/**
 * A finished log book and its last activity.
 * @example const oldest: FinishedBook | undefined = finishedBooks(books, flows)[0]
 */
export interface FinishedBook {
  book: LogBook;
  lastActive: number;
}

/**
 * The finished log books among `books` (their flow details among `flows`), least recently active
 * first: what `listFinished` returns and `expire` judges.
 * @example const finished = finishedBooks([...books.values()], [...flows.values()]).map((f) => f.book)
 */
export function finishedBooks(books: readonly LogBook[], flows: readonly FlowDetail[]): FinishedBook[] {
  const byBook = new Map<string, FlowDetail[]>();
  for (const f of flows) {
    const list = byBook.get(f.bookUuid);
    if (list) list.push(f);
    else byBook.set(f.bookUuid, [f]);
  }
  return books
    .filter((b) => isFinished(byBook.get(b.uuid) ?? []))
    .map((book) => ({ book, lastActive: lastActive(book, byBook.get(book.uuid) ?? []) }))
    .sort((a, b) => a.lastActive - b.lastActive);
}

/**
 * {@link finishedBooks} among stored records, some of which may not read back: each is decoded,
 * a bad one is skipped and reported to `onBadRecord` (`ListOptions.onBadRecord`), and a book with
 * a flow detail that does not read back is not known to be finished, so it is left out (never
 * listed as finished, never expired). `bookOf` says which book a stored flow detail belongs to
 * (its raw `bookUuid` by default; a backend that files flow details under their book's key says
 * so from the key).
 * @example const finished = finishedAmong([...books].map(([k, v]) => [k, v, k]), [...flows].map(([k, v]) => [k, v, k]), options.onBadRecord)
 */
export function finishedAmong(
  books: Iterable<StoredEntry>, flows: Iterable<StoredEntry>, onBadRecord?: ListOptions["onBadRecord"],
  bookOf = (_key: string, raw: unknown): string => String((raw as { bookUuid?: unknown } | null)?.bookUuid),
): FinishedBook[] {
  // A flow detail that does not read back stands as one of unknown state: its book is not finished.
  const unknown: FlowDetail[] = [];
  const details = decodeEach("flow detail", flows, (key, error, raw) => {
    unknown.push({ bookUuid: bookOf(key, raw) } as FlowDetail);
    onBadRecord?.(key, error);
  });
  return finishedBooks(decodeEach("log book", books, onBadRecord), [...details, ...unknown]);
}

/**
 * The time before which a finished book's last activity makes it expire: `olderThanMs` before
 * `options.now`, or before the clock's now (pass `systemClock`, unless you inject a clock). A book
 * expires when its last activity is before it (strictly).
 * @example const limit = expiryLimit(options, systemClock); const expired = finishedBooks(books, flows).filter((f) => f.lastActive < limit)
 */
export function expiryLimit(options: ExpireOptions, clock: Pick<Clock, "now">): number {
  return (options.now ?? clock.now()) - options.olderThanMs;
}

/**
 * The unfinished flow details among stored ones (not in a final state: see `isFinalFlowState`),
 * least recently updated first: what `Backend.listUnfinished` returns. A record that does not read
 * back is skipped and reported to `onBadRecord`.
 * @example const unfinished = unfinishedAmong([...flows].map(([k, v]) => [k, v, k]), options.onBadRecord)
 */
export function unfinishedAmong(flows: Iterable<StoredEntry>, onBadRecord?: ListOptions["onBadRecord"]): FlowDetail[] {
  return unfinished(decodeEach("flow detail", flows, onBadRecord));
}

/**
 * The flow details not in a final state, least recently updated first (see {@link unfinishedAmong}).
 * @example unfinished(await backend.getFlowDetails(book.uuid)).map((f) => f.name)
 */
export function unfinished(flows: readonly FlowDetail[]): FlowDetail[] {
  return flows.filter((f) => !isFinalFlowState(f.state)).sort((a, b) => a.updatedAt - b.updatedAt);
}
