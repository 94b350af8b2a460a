import { Duplicate, InvalidFormat, NotFound } from "../errors.js";
import type { AtomDetail, FlowDetail, LogBook, Transition } from "../persistence/models.js";
import { decodeTrail } from "../persistence/trail.js";
import { decodeRecord } from "../persistence/validate.js";
import type { Backend } from "../ports/backend.js";
import { checkAtomDetails } from "../snapshot/rules.js";

/**
 * The version of the portable log book format this build writes; it reads this one and every
 * older one (version 1: without audit trails), and refuses a newer one.
 * @example if (data.version > PORTABLE_LOG_BOOK_VERSION) console.log("exported by a newer taskflow-ts")
 */
export const PORTABLE_LOG_BOOK_VERSION = 2;

/**
 * A log book as JSON that any backend can take in: the book, each flow detail (with its
 * fingerprint: the definition it ran, compared when a host resumes it), its atom details and
 * (since version 2) its audit trail, every transition in commit order.
 * Values are plain data (what `checkStorable` admits); Dates, Maps, Sets and byte arrays do not
 * survive `JSON.stringify` as such, so keep results JSON-shaped if a log book travels as text.
 * @example const text = JSON.stringify(await exportLogBook(backend, bookUuid))
 */
export interface PortableLogBook {
  format: "taskflow-ts/log-book";
  version: typeof PORTABLE_LOG_BOOK_VERSION;
  book: LogBook;
  flows: Array<{ detail: FlowDetail; atoms: AtomDetail[]; trail: Transition[] }>;
}

/**
 * Exports a stored log book, to import it in another backend (a tab's IndexedDB to a Durable
 * Object, or back), with {@link importLogBook}.
 * @throws NotFound for an unknown book; InvalidFormat when one of its records does not read back
 * @example
 * const data = await exportLogBook(idbBackend, job.bookUuid);
 * await importLogBook(edgeBackend, data);
 */
export async function exportLogBook(backend: Backend, bookUuid: string): Promise<PortableLogBook> {
  const book = await backend.getLogBook(bookUuid);
  const details = await backend.getFlowDetails(bookUuid);
  const flows = await Promise.all(details.map(async (detail) => ({
    detail,
    atoms: await backend.getAtomDetails(detail.uuid),
    // The trail as committed: its numbers are the order of the list, given again where it is imported.
    trail: ((await backend.getTrail?.(detail.uuid)) ?? []).map(({ seq: _seq, ...t }) => t),
  })));
  return { format: "taskflow-ts/log-book", version: PORTABLE_LOG_BOOK_VERSION, book, flows };
}

/**
 * Reads a portable log book (the parsed JSON of {@link exportLogBook}): checks its format and
 * version (a version 1 book, exported before audit trails, reads with empty ones), migrates and
 * validates every record and trail entry as a backend does on read, and checks that they
 * belong together (each flow detail in the book, each atom detail its flow's own record, under
 * the id the engine gives it) and that each flow detail has its fingerprint.
 * @throws InvalidFormat listing every problem
 * @example const data = parsePortableLogBook(JSON.parse(text))
 */
export function parsePortableLogBook(value: unknown): PortableLogBook {
  const problems: string[] = [];
  const v = value as Partial<PortableLogBook> | null;
  if (typeof v !== "object" || v === null || v.format !== "taskflow-ts/log-book") {
    throw new InvalidFormat(`not a portable log book: expected an object with format "taskflow-ts/log-book" (from exportLogBook); nothing was imported`);
  }
  const version: unknown = v.version;
  if (version !== PORTABLE_LOG_BOOK_VERSION && version !== 1) {
    throw new InvalidFormat(`portable log book version ${JSON.stringify(v.version)} is not 1 or ${PORTABLE_LOG_BOOK_VERSION}${typeof v.version === "number" && v.version > PORTABLE_LOG_BOOK_VERSION ? ": it was exported by a newer taskflow-ts; upgrade to import it" : ""}; nothing was imported`);
  }
  const attempt = <T>(what: () => T): T | undefined => {
    try {
      return what();
    } catch (e) {
      problems.push((e as Error).message);
      return undefined;
    }
  };
  const book = attempt(() => decodeRecord("log book", v.book));
  if (!Array.isArray(v.flows)) problems.push(`"flows" must be an array of { detail, atoms }`);
  const flows: PortableLogBook["flows"] = [];
  const seen = new Set<string>();
  for (const [i, entry] of (Array.isArray(v.flows) ? v.flows : []).entries()) {
    const detail = attempt(() => decodeRecord("flow detail", (entry as { detail?: unknown } | null)?.detail));
    const rawAtoms = (entry as { atoms?: unknown } | null)?.atoms;
    if (!Array.isArray(rawAtoms)) problems.push(`flows[${i}].atoms must be an array of atom details`);
    const atoms = (Array.isArray(rawAtoms) ? rawAtoms : []).flatMap((raw) => attempt(() => decodeRecord("atom detail", raw)) ?? []);
    const rawTrail = version === 1 ? [] : (entry as { trail?: unknown } | null)?.trail;
    if (!Array.isArray(rawTrail)) problems.push(`flows[${i}].trail must be an array of transitions`);
    if (!detail) continue;
    const trail = attempt(() => decodeTrail(detail.uuid, Array.isArray(rawTrail) ? rawTrail : []).map(({ seq: _seq, ...t }) => t)) ?? [];
    if (seen.has(detail.uuid)) problems.push(`flow detail "${detail.uuid}" is listed twice`);
    seen.add(detail.uuid);
    if (book && detail.bookUuid !== book.uuid) problems.push(`flow detail "${detail.uuid}" belongs to log book "${detail.bookUuid}", not to "${book.uuid}"`);
    if (!detail.fingerprint) problems.push(`flow detail "${detail.uuid}" has no fingerprint, so no host could check it resumes the definition it ran`);
    attempt(() => checkAtomDetails(detail.uuid, atoms));
    flows.push({ detail, atoms, trail });
  }
  if (problems.length > 0 || !book) throw new InvalidFormat(`portable log book refused, nothing was imported:\n  - ${problems.join("\n  - ")}`);
  return { format: "taskflow-ts/log-book", version: PORTABLE_LOG_BOOK_VERSION, book, flows };
}

/**
 * Imports a portable log book into `backend` in one commit (all of it or nothing, its audit
 * trails appended as that commit's transitions), after
 * {@link parsePortableLogBook}'s checks. A job posted with its `bookUuid` then resumes its flow
 * there, where it stopped: SUCCESS atoms do not run again, and the fingerprint refuses another
 * definition of the flow.
 * @throws InvalidFormat (see parsePortableLogBook); Duplicate when the book or one of its flow
 * details is stored already (destroy it first): nothing is imported
 * @example await importLogBook(backend, JSON.parse(text)); await board.post({ flow: "checkout", bookUuid })
 */
export async function importLogBook(backend: Backend, value: unknown): Promise<LogBook> {
  const data = parsePortableLogBook(value);
  const exists = async (read: () => Promise<unknown>): Promise<boolean> =>
    read().then(() => true, (e: unknown) => {
      if (e instanceof NotFound) return false;
      throw e;
    });
  const taken = [
    ...((await exists(() => backend.getLogBook(data.book.uuid))) ? [`log book "${data.book.uuid}"`] : []),
    ...(await Promise.all(data.flows.map(async ({ detail }) => ((await exists(() => backend.getFlowDetail(detail.uuid))) ? [`flow detail "${detail.uuid}"`] : [])))).flat(),
  ];
  if (taken.length > 0) throw new Duplicate(`cannot import log book "${data.book.uuid}": ${taken.join(", ")} ${taken.length > 1 ? "are" : "is"} stored already; destroy the stored book first (backend.destroyLogBook) to replace it. Nothing was imported`);
  await backend.commit({ logBooks: [data.book], flows: data.flows.map((f) => f.detail), atoms: data.flows.flatMap((f) => f.atoms), transitions: data.flows.flatMap((f) => f.trail) });
  return data.book;
}
