import type { ExpireOptions } from "../ports/backend.js";
import type { Clock } from "../ports/clock.js";
import { isFinalFlowState } from "../snapshot/rules.js";
import type { FlowDetail, LogBook } from "./models.js";

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
 * The time before which a finished book's last activity makes it expire: `olderThanMs` before
 * `options.now`, or before the clock's now (pass `systemClock`, unless you inject a clock). A book
 * expires when its last activity is before it (strictly).
 * @example const limit = expiryLimit(options, systemClock); const expired = finishedBooks(books, flows).filter((f) => f.lastActive < limit)
 */
export function expiryLimit(options: ExpireOptions, clock: Pick<Clock, "now">): number {
  return (options.now ?? clock.now()) - options.olderThanMs;
}
