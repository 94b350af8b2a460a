import { nanoid } from "nanoid/non-secure";

/**
 * Makes unique ids for log books and records. The default is nanoid's non-secure variant,
 * because the secure one imports `node:crypto` under Node's export condition and the core must
 * bundle for any runtime; ids name records, they guard nothing. Inject your own for other needs.
 */
export type IdGenerator = () => string;

export const defaultIds: IdGenerator = () => nanoid();
