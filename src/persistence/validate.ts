import { InvalidFormat } from "../errors.js";
import { setOwn } from "./clone.js";
import { ATOM_STATES, FLOW_STATES, INTENTIONS } from "../states.js";
import { SCHEMA_VERSION, type AtomDetail, type FlowDetail, type LogBook } from "./models.js";

/**
 * The check every backend runs on a record it reads back, by hand rather than with zod: zod was
 * most of a minimal app's bundle (about 7 KiB min+gzip of 27), and this is also faster on the
 * read path. The zod schemas (`taskflow-ts/schemas`) describe the same records for users; a test
 * (test/unit/validate.test.ts) checks that both accept and refuse the same records.
 *
 * A record of an older schema version is migrated first (migrate.ts). Like zod's `z.looseObject`,
 * a record keeps the keys the check does not know, at any depth (a newer writer's field, in a
 * failure or a wait too, survives the engine's next change of the record, which spreads the old
 * one). Every issue is collected as `path: what is wrong`.
 */
type Check = (value: unknown, path: string, issues: string[]) => unknown;

const test = (ok: (v: unknown) => boolean, expected: string): Check => (v, path, issues) => {
  if (!ok(v)) issues.push(`${path || "(record)"}: expected ${expected}`);
  return v;
};
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const string = /* @__PURE__ */ test((v) => typeof v === "string", "a string");
const id = /* @__PURE__ */ test((v) => typeof v === "string" && v !== "", "a non-empty string");
const number = /* @__PURE__ */ test(Number.isFinite, "a number");
const record = /* @__PURE__ */ test(isObject, "an object");
const boolean = /* @__PURE__ */ test((v) => typeof v === "boolean", "a boolean");
const count = /* @__PURE__ */ test((v) => Number.isInteger(v) && (v as number) >= 0, "a whole number ≥ 0");
const unknown: Check = (v) => v;
const oneOf = (values: readonly unknown[]) => test((v) => values.includes(v), `one of ${values.join(", ")}`);

const array = (item: Check, min = 0): Check => {
  const isArray = test((v) => Array.isArray(v) && v.length >= min, min ? `an array of at least ${min}` : "an array");
  return (v, path, issues) => (Array.isArray(v) && v.length >= min ? v.map((x, i) => item(x, `${path}.${i}`, issues)) : isArray(v, path, issues));
};

/** Keys ending in `?` are optional; keys the shape does not name are kept. */
const object = (shape: Record<string, Check>): Check => {
  const fields = Object.entries(shape).map(([name, check]) => ({ key: name.replace(/\?$/, ""), check, optional: name.endsWith("?") }));
  return (v, path, issues) => {
    if (!isObject(v)) return record(v, path, issues);
    const out: Record<string, unknown> = { ...v };
    for (const { key, check, optional } of fields) {
      const at = path ? `${path}.${key}` : key;
      if (v[key] !== undefined) out[key] = check(v[key], at, issues);
      else if (!optional) issues.push(`${at}: required`);
      else if (key in v) out[key] = undefined;
    }
    return out;
  };
};

const version = /* @__PURE__ */ oneOf([1]);
const schemaVersion = /* @__PURE__ */ oneOf([SCHEMA_VERSION]);
const failureData: Check = (v, path, issues) => failureShape(v, path, issues);
const failureShape = /* @__PURE__ */ object({
  version, exceptionStr: string, excTypeNames: array(string, 1), "tracebackStr?": string, causes: array(failureData), "extra?": unknown,
});
const strings = /* @__PURE__ */ array(string);
const atomState = /* @__PURE__ */ oneOf(ATOM_STATES);
/** When each atom state was entered: keys are atom states, values numbers. */
const stamps: Check = (v, path, issues) => {
  if (!isObject(v)) return record(v, path, issues);
  for (const k in v) {
    atomState(k, `${path}.${k}`, issues);
    number(v[k], `${path}.${k}`, issues);
  }
  return { ...v };
};

// Built on first use: an app that only rebuilds failures (Failure.fromJSON) bundles the failure
// check alone.
let checks: Record<RecordKind, Check> | undefined;
const recordChecks = (): Record<RecordKind, Check> => (checks ??= {
  "log book": object({ schemaVersion, uuid: id, name: string, createdAt: number, updatedAt: number, meta: record }),
  "flow detail": object({
    schemaVersion, uuid: id, bookUuid: id, name: string, state: oneOf(FLOW_STATES), createdAt: number, updatedAt: number,
    "fingerprint?": array(object({ name: string, kind: oneOf(["task", "retry"]), requires: strings, optional: strings, provides: strings, version: string })),
    "flows?": array(object({
      name: string, pattern: oneOf(["linear", "unordered", "graph"]), "parent?": count, items: strings,
      "links?": array(strings),
    })),
    "factory?": object({ name: string, args: array(unknown) }),
    "store?": record,
    "suspendedReason?": string,
    "wakeAt?": number,
    "cancelled?": object({ reason: string, at: number }),
    "epoch?": count,
    "inputs?": record,
    "waitingFor?": array(object({ name: string, "description?": string, "deadline?": number })),
    meta: record,
  }),
  "atom detail": object({
    schemaVersion, uuid: id, flowUuid: id, name: id, kind: oneOf(["task", "retry"]), state: atomState, intention: oneOf(INTENTIONS),
    "result?": unknown, "failure?": failureData, "revertResult?": unknown, "revertFailure?": failureData, version: string,
    "progress?": number, "progressDetails?": object({ atProgress: number, "details?": unknown }), "injected?": record,
    "timestamps?": stamps, "wakeAt?": number, "deadline?": number, "requeue?": boolean, "generation?": count, "attempts?": count,
    "workers?": array(object({ attempt: count, worker: string, "revert?": boolean })),
    meta: record, updatedAt: number,
  }),
});

/**
 * A stored record brought to the current schema version (a new object), or the value itself when
 * it is not of an older version: the check then accepts or refuses it.
 * @example const current = migrateRecord("atom detail", JSON.parse(stored))
 */
export function migrateRecord(kind: RecordKind | (string & {}), value: unknown): unknown {
  if (!isObject(value) || value.schemaVersion !== 1) return value;
  // Migrations of stored records, applied on read: a backend never rewrites what it stores, the
  // engine writes the current version with its next change. Never edit a step that has shipped; a
  // new version adds one. Version 1 kept the engine's fields in `meta`; version 2 has them at the
  // top level (`duration`, the duration listener's, stays in meta: a user-side annotation).
  const MOVED_IN_2: Record<string, string[]> = {
    "flow detail": "fingerprint factory store suspendedReason wakeAt inputs waitingFor cancelled".split(" "),
    "atom detail": "progress progressDetails injected timestamps wakeAt deadline requeue generation attempts".split(" "),
  };
  const out: Record<string, unknown> = { ...value, schemaVersion: 2 };
  if (isObject(value.meta)) {
    const meta: Record<string, unknown> = (out.meta = {});
    for (const [key, v] of Object.entries(value.meta)) {
      if (!MOVED_IN_2[kind]?.includes(key)) setOwn(meta, key, v);
      else if (v !== undefined) out[key] = v;
    }
  }
  return out;
}

/** What is wrong with a stored failure (`failure.version: expected one of 1; …`), if anything. */
export function failureProblems(value: unknown): string | undefined {
  const issues: string[] = [];
  failureData(value, "failure", issues);
  return issues.length > 0 ? issues.join("; ") : undefined;
}

/**
 * The record each kind of stored record decodes to.
 * @example const read = <K extends RecordKind>(kind: K, raw: unknown): RecordOf[K] => decodeRecord(kind, raw)
 */
export interface RecordOf { "log book": LogBook; "flow detail": FlowDetail; "atom detail": AtomDetail }
/**
 * The kinds of stored records, as error messages name them.
 * @example const kind: RecordKind = "flow detail"
 */
export type RecordKind = keyof RecordOf;

/**
 * Validates a record read back from a backend, migrated first if an older version wrote it.
 * @throws InvalidFormat naming the record's kind and key, with what is wrong; the stored record
 * is left untouched.
 */
export function readRecord<K extends RecordKind>(kind: K, key: string, value: unknown): RecordOf[K] {
  const issues: string[] = [];
  const record = recordChecks()[kind](migrateRecord(kind, value), "", issues);
  if (issues.length > 0) throw invalidRecord(kind, key, value, issues.join("; "));
  return record as RecordOf[K];
}

/** The error for a record that does not validate, with a hint when a newer version wrote it. */
export function invalidRecord(kind: string, key: string, value: unknown, issues: string): InvalidFormat {
  const hint = isObject(value) && typeof value.schemaVersion === "number" && value.schemaVersion > SCHEMA_VERSION
    ? ` (schema version ${value.schemaVersion}; this build reads versions up to ${SCHEMA_VERSION}: upgrade taskflow-ts)`
    : "";
  return new InvalidFormat(`${kind} "${key}" in the log book is corrupted or foreign${hint}: ${issues}`);
}

/**
 * Decodes a record read back from a backend: validates it and, when the backend stores it under
 * a key that holds its uuid, checks that it is the record its key says (a foreign write may not
 * be). `where.key` is what errors name (the record's own uuid by default); `where.uuid` is the
 * uuid the key holds.
 * @throws InvalidFormat naming the record and what is wrong; the stored record is left untouched.
 * @example
 * const book = decodeRecord("log book", await store.get(uuid), { uuid });
 */
export function decodeRecord<K extends RecordKind>(kind: K, raw: unknown, where: { key?: string; uuid?: string } = {}): RecordOf[K] {
  const key = where.key ?? where.uuid ?? String((raw as { uuid?: unknown } | null)?.uuid);
  const record = readRecord(kind, key, raw);
  if (where.uuid !== undefined && record.uuid !== where.uuid) {
    throw new InvalidFormat(`${kind} "${key}" in the log book is corrupted or foreign: it is stored under "${where.uuid}" but says its uuid is "${record.uuid}"`);
  }
  return record;
}

/**
 * A stored record as a backend lists it: the key that names it, its raw value and, when the key
 * holds the record's uuid, that uuid (checked as {@link decodeRecord} does).
 * @example const entries: StoredEntry[] = [...store.entries()].map(([uuid, raw]) => [uuid, raw, uuid])
 */
export type StoredEntry = readonly [key: string, raw: unknown, uuid?: string];

/**
 * Decodes many stored records as {@link decodeRecord} does, skipping each that does not read back:
 * its key and error go to `onBadRecord` (with its raw value), so one bad record does not block a
 * listing or a clean-up (see `ListOptions.onBadRecord`).
 * @example
 * const books = decodeEach("log book", [...store.entries()].map(([uuid, raw]) => [uuid, raw, uuid]), options.onBadRecord);
 */
export function decodeEach<K extends RecordKind>(
  kind: K, entries: Iterable<StoredEntry>, onBadRecord?: (key: string, error: InvalidFormat, raw: unknown) => void,
): Array<RecordOf[K]> {
  return [...entries].flatMap(([key, raw, uuid]) => {
    try {
      return [decodeRecord(kind, raw, { key, uuid })];
    } catch (e) {
      onBadRecord?.(key, e as InvalidFormat, raw); // decodeRecord throws nothing else
      return [];
    }
  });
}
