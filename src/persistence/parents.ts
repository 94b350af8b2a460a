import { NotFound } from "../errors.js";
import type { WriteBatch } from "./models.js";

/**
 * What a backend answers about its stored records, for {@link checkParents}.
 * @example const stored: StoredParents = { hasBook: (id) => books.has(id), hasFlow: (id) => flows.has(id) }
 */
export interface StoredParents {
  hasBook(uuid: string): boolean;
  hasFlow(uuid: string): boolean;
}

/**
 * The parent check every backend makes on commit: a flow detail whose log book is neither stored
 * nor in the batch, or an atom detail whose flow detail is neither, is refused with `NotFound`
 * (the first one, in batch order: log books, then flow details). `stored` is asked about each
 * parent outside the batch once, in that order, skipping the flow details in `knownFlows` (those
 * a backend knows are stored), so a synchronous store answers inside its write transaction. Call
 * it before writing anything of the batch, or inside the transaction a throw rolls back.
 *
 * A store that looks parents up asynchronously calls it twice: once with a `stored` that records
 * what it is asked (and answers true), then, with the answers of one round of lookups, to judge.
 * @example
 * checkParents(batch, { hasBook: (id) => books.has(id), hasFlow: (id) => flows.has(id) });
 */
export function checkParents(batch: WriteBatch, stored: StoredParents, knownFlows?: ReadonlySet<string>): void {
  // Lists, not sets: a batch holds a flow or two (an engine's batch, one), and this runs on every
  // commit, so on every atom's path. An engine's usual batch (atoms of one stored flow, nothing
  // else) makes no list but the empty one of its books.
  const books = batch.logBooks.map((b) => b.uuid);
  for (const f of batch.flows) {
    if (books.includes(f.bookUuid)) continue;
    if (!stored.hasBook(f.bookUuid)) throw missingParent("log book", f.bookUuid, f.uuid);
    books.push(f.bookUuid);
  }
  let last: string | undefined;
  let seen: string[] | undefined; // the flows checked, from the second one on
  for (const a of batch.atoms) {
    const id = a.flowUuid;
    if (id === last || seen?.includes(id)) continue;
    if (last !== undefined) (seen ??= [last]).push(id);
    last = id;
    if (batch.flows.some((f) => f.uuid === id) || knownFlows?.has(id)) continue;
    if (!stored.hasFlow(id)) throw missingParent("flow detail", id, a.uuid);
  }
}

/**
 * The error of a record whose parent is not stored: what is missing, for whom, and what to do.
 * @example if (!books.has(flow.bookUuid)) throw missingParent("log book", flow.bookUuid, flow.uuid)
 */
export function missingParent(kind: "log book" | "flow detail", parent: string, child: string): NotFound {
  const childKind = kind === "log book" ? "flow detail" : "atom detail";
  return new NotFound(`${childKind} "${child}": ${kind} "${parent}" is not stored; save the ${kind} first`);
}
