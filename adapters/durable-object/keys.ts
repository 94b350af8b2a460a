/**
 * Where each record lives in a Durable Object's key-value storage.
 *
 * - `lb:<book>`: a log book
 * - `fd:<book>:<flow>`: a flow detail, listed with its book by prefix (`getFlowDetails`)
 * - `fp:<flow>`: the flow's parent, its book's uuid. `getFlowDetail` finds the record through it,
 *   and a commit checks an atom's parent by reading it: a flow detail holds the fingerprint of
 *   the whole definition, so reading (and deserializing) the record itself on every commit grows
 *   with the flow (about 0.5 ms per commit at 300 atoms, measured in workerd) where this stays tiny.
 * - `ad:<flow>:<atom>`: an atom detail, listed with its flow by prefix (`getAtomDetails`)
 * - `tr:<flow>:<n>`: the flow's audit trail (issue 15, item 3), one record per commit (the
 *   transitions it made, `{ flowUuid, entries }`), `n` counting from 1 in ten digits so that the
 *   keys list in commit order; `tn:<flow>` holds the last `n`.
 * - `fe:<flow>`: the flow's fencing token (issue 12), the newest it was claimed or written with.
 *   A fenced commit reads it in its transaction: reading the flow detail itself would cost what
 *   the parent pointer saves (about 0.5 ms per commit at 1,000 atoms, measured by `bench:do`).
 *   The flow detail read back carries the larger of its own `epoch` and this one.
 * - `ky:<key>`: a user key (issue 15, item 2), the uuid of the flow detail it points at (see
 *   `KeyBinding`); bound in a commit's transaction, kept when the flow's book is deleted.
 *
 * Each uuid is percent-encoded (`encodeURIComponent` turns `:` into `%3A` and `%` into `%25`),
 * so a key part never contains the separator: the prefix `ad:x:` cannot match the atoms of a
 * flow called `x:y`. Ids made by the engine are nanoids, which pass through unchanged, and for
 * atoms JSON pairs of flow id and name (`["…","charge"]`), whose quotes and brackets are encoded.
 */
const part = (uuid: string): string => encodeURIComponent(uuid);

export const BOOKS_PREFIX = "lb:";
export const bookKey = (book: string): string => BOOKS_PREFIX + part(book);
export const FLOWS_PREFIX = "fd:";
export const bookFlowsPrefix = (book: string): string => `${FLOWS_PREFIX}${part(book)}:`;
export const flowKey = (book: string, flow: string): string => bookFlowsPrefix(book) + part(flow);
export const flowParentKey = (flow: string): string => `fp:${part(flow)}`;
export const flowEpochKey = (flow: string): string => `fe:${part(flow)}`;
export const flowAtomsPrefix = (flow: string): string => `ad:${part(flow)}:`;
export const atomKey = (flow: string, atom: string): string => flowAtomsPrefix(flow) + part(atom);
export const flowTrailPrefix = (flow: string): string => `tr:${part(flow)}:`;
export const trailKey = (flow: string, n: number): string => flowTrailPrefix(flow) + String(n).padStart(10, "0");
export const trailCountKey = (flow: string): string => `tn:${part(flow)}`;
export const userKey = (key: string): string => `ky:${part(key)}`;

/** The book's uuid in a flow detail's key (`fd:<book>:<flow>`). */
export function bookOfFlowKey(key: string): string {
  return decoded(key, key.slice(FLOWS_PREFIX.length, key.lastIndexOf(":")));
}

/** The uuid at the end of a key made above. */
export function uuidOfKey(key: string): string {
  return decoded(key, key.slice(key.lastIndexOf(":") + 1));
}

/**
 * A key part decoded; for a part that does not decode (a foreign write: no key made here is
 * malformed), the whole key, which names no record, so the record is reported, not read.
 */
function decoded(key: string, part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return key;
  }
}
