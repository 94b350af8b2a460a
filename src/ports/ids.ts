import { nanoid } from "nanoid/non-secure";

/**
 * Makes unique ids for log books and records. The default is nanoid's non-secure variant,
 * because the secure one imports `node:crypto` under Node's export condition and the core must
 * bundle for any runtime; ids name records, they guard nothing. Inject your own for other needs.
 */
export type IdGenerator = () => string;

export const defaultIds: IdGenerator = () => nanoid();

/**
 * An id that is the same wherever it is computed from the same parts: a 128-bit hash (four
 * murmur-style 32-bit lanes), as 32 hex digits. Atom details get theirs from their flow and name,
 * so two hosts that start the same never-started atom (two tabs on one flow) write one record,
 * not two.
 */
export function deriveId(...parts: string[]): string {
  const text = parts.join("\u0000");
  const lanes = [0x9747b28c, 0x85ebca6b, 0xc2b2ae35, 0x27d4eb2f];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    for (let k = 0; k < 4; k++) lanes[k] = Math.imul((lanes[k] as number) ^ c, 0x5bd1e995 + 2 * k) ^ ((lanes[k] as number) >>> 15);
  }
  return lanes.map((h, k) => {
    h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) ^ text.length ^ k;
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
    return ((h ^ (h >>> 16)) >>> 0).toString(16).padStart(8, "0");
  }).join("");
}
