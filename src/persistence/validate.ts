import { InvalidFormat } from "../errors.js";
import { ATOM_STATES, FLOW_STATES, INTENTIONS } from "../states.js";
import type { AtomDetail, FlowDetail, LogBook } from "./models.js";

/**
 * The check every backend runs on a record it reads back, by hand rather than with zod: zod was
 * most of a minimal app's bundle (about 7 KiB min+gzip of 27), and this is also faster on the
 * read path. The zod schemas (`taskflow-ts/schemas`) describe the same records for users; a test
 * (test/unit/validate.test.ts) checks that both accept and refuse the same records.
 *
 * Like zod's `z.object`, a check returns a copy without the keys it does not know (except in a
 * flow detail's `meta`, which keeps them), and collects every issue as `path: what is wrong`.
 */
type Check = (value: unknown, path: string, issues: string[]) => unknown;

const test = (ok: (v: unknown) => boolean, expected: string): Check => (v, path, issues) => {
  if (!ok(v)) issues.push(`${path || "(record)"}: expected ${expected}`);
  return v;
};
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const string = test((v) => typeof v === "string", "a string");
const id = test((v) => typeof v === "string" && v !== "", "a non-empty string");
const number = test(Number.isFinite, "a number");
const record = test(isObject, "an object");
const unknown: Check = (v) => v;
const oneOf = (values: readonly unknown[]) => test((v) => values.includes(v), `one of ${values.join(", ")}`);

const array = (item: Check, min = 0): Check => {
  const isArray = test((v) => Array.isArray(v) && v.length >= min, min ? `an array of at least ${min}` : "an array");
  return (v, path, issues) => (Array.isArray(v) && v.length >= min ? v.map((x, i) => item(x, `${path}.${i}`, issues)) : isArray(v, path, issues));
};

/** Keys ending in `?` are optional; `keep` keeps the keys the shape does not name. */
const object = (shape: Record<string, Check>, keep = false): Check => {
  const fields = Object.entries(shape).map(([name, check]) => ({ key: name.replace(/\?$/, ""), check, optional: name.endsWith("?") }));
  return (v, path, issues) => {
    if (!isObject(v)) return record(v, path, issues);
    const out: Record<string, unknown> = keep ? { ...v } : {};
    for (const { key, check, optional } of fields) {
      const at = path ? `${path}.${key}` : key;
      if (v[key] !== undefined) out[key] = check(v[key], at, issues);
      else if (!optional) issues.push(`${at}: required`);
      else if (key in v) out[key] = undefined;
    }
    return out;
  };
};

const version = oneOf([1]);
const failureData: Check = (v, path, issues) => failureShape(v, path, issues);
const failureShape = object({
  version, exceptionStr: string, excTypeNames: array(string, 1), "tracebackStr?": string, causes: array(failureData), "extra?": unknown,
});
const strings = array(string);

const CHECKS = {
  "log book": object({ schemaVersion: version, uuid: id, name: string, createdAt: number, updatedAt: number, meta: record }),
  "flow detail": object({
    schemaVersion: version, uuid: id, bookUuid: id, name: string, state: oneOf(FLOW_STATES), createdAt: number, updatedAt: number,
    meta: object({
      "fingerprint?": array(object({ name: string, kind: oneOf(["task", "retry"]), requires: strings, optional: strings, provides: strings, version: string })),
      "factory?": object({ name: string, args: array(unknown) }),
      "store?": record,
      "suspendedReason?": string,
      "wakeAt?": number,
      "cancelled?": object({ reason: string, at: number }),
      "inputs?": record,
      "waitingFor?": array(object({ name: string, "description?": string, "deadline?": number })),
    }, true),
  }),
  "atom detail": object({
    schemaVersion: version, uuid: id, flowUuid: id, name: id, kind: oneOf(["task", "retry"]), state: oneOf(ATOM_STATES), intention: oneOf(INTENTIONS),
    "result?": unknown, "failure?": failureData, "revertResult?": unknown, "revertFailure?": failureData, version: string, meta: record, updatedAt: number,
  }),
};

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
 * Validates a record read back from a backend.
 * @throws InvalidFormat naming the record's kind and key, with what is wrong; the stored record
 * is left untouched.
 */
export function readRecord<K extends RecordKind>(kind: K, key: string, value: unknown): RecordOf[K] {
  const issues: string[] = [];
  const record = CHECKS[kind](value, "", issues);
  if (issues.length > 0) throw invalidRecord(kind, key, value, issues.join("; "));
  return record as RecordOf[K];
}

/** The error for a record that does not validate, with a hint when a newer version wrote it. */
export function invalidRecord(kind: string, key: string, value: unknown, issues: string): InvalidFormat {
  const hint = isObject(value) && "schemaVersion" in value && value.schemaVersion !== 1
    ? ` (schema version ${String(value.schemaVersion)}; this build reads version 1: upgrade taskflow-ts)`
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
