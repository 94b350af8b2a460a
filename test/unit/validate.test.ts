import { describe, expect, it } from "vitest";
import { Failure, InvalidFormat, SCHEMA_VERSION } from "../../src/index.js";
import { atomDetailSchema, flowDetailSchema, logBookSchema, parseRecord } from "../../src/schemas.js";
import { migrateRecord, readRecord } from "../../src/persistence/validate.js";

// The backends check records by hand (src/persistence/validate.ts) to keep zod out of an app's
// bundle; the zod schemas users get from `taskflow-ts/schemas` must accept and refuse the same
// records, and return the same copies.

const failure = { ...Failure.fromError(new Error("boom")).toJSON(), causes: [Failure.fromError(new TypeError("inner")).toJSON()] };
const flowFields = {
  fingerprint: [{ name: "a", kind: "task", requires: ["x"], optional: [], provides: ["y"], version: "1.0" }],
  factory: { name: "f", args: [1, "two"] }, store: { x: 1 }, suspendedReason: "why", wakeAt: 5,
  cancelled: { reason: "r", at: 3 }, inputs: { room: "suite" }, waitingFor: [{ name: "room", description: "d", deadline: 9 }],
};
/** The flows of the definition (issue 11, item 18): a field version 1 never had. */
const flows = [{ name: "flow", pattern: "linear", items: ["g"] }, { name: "g", pattern: "graph", parent: 0, items: ["a", "b"], links: [["a", "b"], ["b", "a", "ATOM"]] }];
const atomFields = {
  progress: 0.5, progressDetails: { atProgress: 0.5, details: { step: 1 } }, injected: { y: 2 }, timestamps: { RUNNING: 1, FAILURE: 2 },
  wakeAt: 7, deadline: 8, requeue: true, generation: 1, attempts: 2,
};
const atomBase = {
  uuid: "ad", flowUuid: "fd", name: "a", kind: "retry", state: "FAILURE", intention: "REVERT",
  result: { r: [1] }, failure, revertResult: null, revertFailure: failure, version: "1.0", updatedAt: 4,
};
const flowBase = { uuid: "fd", bookUuid: "lb", name: "flow", state: "RUNNING", createdAt: 1, updatedAt: 2 };
/** Records of the current version, each with a top-level field of a newer writer (`later`) and a user key in meta. */
const records = {
  "log book": [logBookSchema, { schemaVersion: SCHEMA_VERSION, uuid: "lb", name: "book", createdAt: 1, updatedAt: 2, meta: { a: 1 }, later: "x" }],
  "flow detail": [flowDetailSchema, { schemaVersion: SCHEMA_VERSION, ...flowBase, ...flowFields, flows, meta: { other: true }, later: { y: 1 } }],
  "atom detail": [atomDetailSchema, { schemaVersion: SCHEMA_VERSION, ...atomBase, ...atomFields, meta: { duration: 0.2 }, later: [1] }],
} as const;
/** The same records as version 1 wrote them: the engine's fields in meta. */
const version1 = {
  "log book": [logBookSchema, { schemaVersion: 1, uuid: "lb", name: "book", createdAt: 1, updatedAt: 2, meta: { a: 1 } }],
  "flow detail": [flowDetailSchema, { schemaVersion: 1, ...flowBase, meta: { ...flowFields, other: true } }],
  "atom detail": [atomDetailSchema, { schemaVersion: 1, ...atomBase, meta: { ...atomFields, duration: 0.2 } }],
} as const;

const WRONG: unknown[] = [undefined, null, "", "x", 0, Number.NaN, 2, -1, true, [], ["x"], [1], {}, { name: 1 }];

/** Every record with one field (at any depth) replaced by each wrong value, or removed. */
function* mutations(value: unknown, path: string[] = []): Generator<[string, unknown]> {
  if (value === null || typeof value !== "object") return;
  for (const [key, field] of Object.entries(value)) {
    const at = [...path, key];
    const set = (v: unknown) => (Array.isArray(value) ? value.map((x, i) => (String(i) === key ? v : x)) : { ...value, [key]: v });
    const { [key]: _, ...without } = value as Record<string, unknown>;
    yield [`${at.join(".")} removed`, without];
    for (const wrong of WRONG) yield [`${at.join(".")} = ${JSON.stringify(wrong)}`, set(wrong)];
    for (const [name, inner] of mutations(field, at)) yield [name, set(inner)];
  }
}

function outcome(read: () => unknown): unknown {
  try {
    return { ok: read() };
  } catch (e) {
    expect(e).toBeInstanceOf(InvalidFormat);
    return { refused: (e as Error).message.includes('"key"') && (e as Error).message.includes("corrupted or foreign") };
  }
}

describe("the backends' record check and the zod schemas", () => {
  for (const [kind, [schema, valid], v] of [...Object.entries(records).map(([k, r]) => [k, r, SCHEMA_VERSION] as const), ...Object.entries(version1).map(([k, r]) => [k, r, 1] as const)]) {
    it(`agree on every ${kind} of version ${v} with one field wrong, missing or extra`, () => {
      const cases: Array<[string, unknown]> = [["valid", valid], ["extra key", { ...valid, extra: 1 }], ["not an object", "x"], ["null", null], ["array", []], ...mutations(valid)];
      expect(cases.length).toBeGreaterThan(100);
      for (const [name, value] of cases) {
        const ours = outcome(() => readRecord(kind as keyof typeof records, "key", value));
        const zod = outcome(() => parseRecord(schema as typeof logBookSchema, kind, "key", value));
        expect(ours, `${kind}: ${name}`).toEqual(zod);
      }
    });
  }

  it("names the field and gives the upgrade hint for a newer schema version", () => {
    const [, valid] = records["flow detail"];
    const newer = { ...valid, schemaVersion: SCHEMA_VERSION + 1, state: "EXPLODED" };
    for (const read of [() => readRecord("flow detail", "fd", newer), () => parseRecord(flowDetailSchema, "flow detail", "fd", newer)]) {
      expect(read).toThrow(
        new RegExp(`^flow detail "fd" in the log book is corrupted or foreign \\(schema version ${SCHEMA_VERSION + 1}; this build reads versions up to ${SCHEMA_VERSION}: upgrade taskflow-ts\\): schemaVersion: .*; state: `),
      );
    }
  });

  it("refuses a corrupt engine field with its record's key and the field's path", () => {
    const [, atom] = records["atom detail"];
    expect(() => readRecord("atom detail", "ad", { ...atom, wakeAt: "soon" })).toThrow(/^atom detail "ad" in the log book is corrupted or foreign: wakeAt: expected a number$/);
    expect(() => readRecord("atom detail", "ad", { ...atom, attempts: 1.5, timestamps: { RUNNING: "x", LATER: 1 } })).toThrow(
      /timestamps\.RUNNING: expected a number; timestamps\.LATER: expected one of .*; attempts: expected a whole number ≥ 0/,
    );
    // A corrupt field of a version 1 record is refused after its migration, by its new path.
    const [, old] = version1["atom detail"];
    expect(() => readRecord("atom detail", "ad", { ...old, meta: { ...old.meta, wakeAt: "soon" } })).toThrow(/: wakeAt: expected a number$/);
    const [, oldFlow] = version1["flow detail"];
    expect(() => readRecord("flow detail", "fd", { ...oldFlow, meta: { ...oldFlow.meta, waitingFor: [{}] } })).toThrow(/: waitingFor\.0\.name: required$/);
  });

  it("keeps the top-level fields it does not know, in both checks", () => {
    for (const [kind, [schema, valid]] of Object.entries(records)) {
      expect(readRecord(kind as keyof typeof records, "key", valid)).toEqual(valid);
      expect(parseRecord(schema as typeof logBookSchema, kind, "key", valid)).toEqual(valid);
    }
  });

  it("keeps the fields it does not know at any depth (a failure and its causes, a wait, a fingerprint entry), in both checks", () => {
    const newer = { ...failure, code: "E1", causes: [{ ...failure.causes[0], retryable: true }] };
    const [, flow] = records["flow detail"];
    const [, atom] = records["atom detail"];
    const cases = [
      ["flow detail", flowDetailSchema, {
        ...flow, fingerprint: [{ ...flowFields.fingerprint[0], hash: "h" }], factory: { ...flowFields.factory, registry: "r" },
        cancelled: { reason: "r", at: 3, by: "ada" }, waitingFor: [{ name: "room", widget: "select" }],
      }],
      ["atom detail", atomDetailSchema, { ...atom, failure: newer, revertFailure: newer, progressDetails: { atProgress: 0.5, unit: "rows" } }],
    ] as const;
    for (const [kind, schema, value] of cases) {
      expect(readRecord(kind, "key", value), kind).toEqual(value);
      expect(parseRecord(schema as typeof logBookSchema, kind, "key", value), kind).toEqual(value);
    }
  });

  it("migrates a version 1 record on read: the engine's fields move out of meta; duration and the user's keys stay", () => {
    for (const [kind, [schema, old]] of Object.entries(version1)) {
      const [, current] = records[kind as keyof typeof records];
      const { later: _, flows: __, ...expected } = current as Record<string, unknown>;
      expect(readRecord(kind as keyof typeof records, "key", old), kind).toEqual(expected);
      expect(parseRecord(schema as typeof logBookSchema, kind, "key", old), kind).toEqual(expected);
      expect(migrateRecord(kind, old)).toEqual(expected);
    }
    expect(migrateRecord("atom detail", version1["atom detail"][1])).not.toBe(version1["atom detail"][1]);
    expect(version1["atom detail"][1].meta).toHaveProperty("attempts", 2); // the stored value is not changed
  });

  it("keeps a user's \"__proto__\" key of a version 1 record's meta an own key (issue 11, item 13)", () => {
    const old = { ...version1["atom detail"][1], meta: JSON.parse('{ "__proto__": { "x": 1 }, "attempts": 2 }') };
    const meta = (migrateRecord("atom detail", old) as { meta: Record<string, unknown> }).meta;
    expect(Object.getPrototypeOf(meta)).toBe(Object.prototype);
    expect(JSON.stringify(meta)).toBe('{"__proto__":{"x":1}}');
  });
});
