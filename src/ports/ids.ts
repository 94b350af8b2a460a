import { nanoid } from "nanoid/non-secure";

/**
 * Makes unique ids for log books and records. The default is nanoid's non-secure variant,
 * because the secure one imports `node:crypto` under Node's export condition and the core must
 * bundle for any runtime; ids name records, they guard nothing. Inject your own for other needs.
 * @example load(flow, { ids: () => crypto.randomUUID() })
 */
export type IdGenerator = () => string;

/**
 * The default {@link IdGenerator}: nanoid's non-secure ids, 21 URL-safe characters.
 * @example defaultIds() // "V1StGXR8_Z5jdHi6B-myT"
 */
export const defaultIds: IdGenerator = () => nanoid();

/**
 * The id of an atom's detail: the same wherever it is computed, so two hosts that start the same
 * never-started atom (two tabs on one flow) write one record, not two. A JSON pair, unambiguous
 * whatever the flow's id and the atom's name contain.
 */
export const atomDetailId = (flowUuid: string, name: string): string =>
  // Joined, not JSON.stringify([flowUuid, name]) (the same text): V8 returns that as a rope of
  // three strings, about 100 bytes, where a joined one is flat, about 50; a flow keeps one per atom.
  ["[", JSON.stringify(flowUuid), ",", JSON.stringify(name), "]"].join("");
