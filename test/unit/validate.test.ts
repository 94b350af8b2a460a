import { describe, expect, it } from "vitest";
import { Failure, InvalidFormat } from "../../src/index.js";
import { atomDetailSchema, flowDetailSchema, logBookSchema, parseRecord } from "../../src/schemas.js";
import { readRecord } from "../../src/persistence/validate.js";

// The backends check records by hand (src/persistence/validate.ts) to keep zod out of an app's
// bundle; the zod schemas users get from `taskflow-ts/schemas` must accept and refuse the same
// records, and return the same copies.

const failure = { ...Failure.fromError(new Error("boom")).toJSON(), causes: [Failure.fromError(new TypeError("inner")).toJSON()] };
const records = {
  "log book": [logBookSchema, { schemaVersion: 1, uuid: "lb", name: "book", createdAt: 1, updatedAt: 2, meta: { a: 1 } }],
  "flow detail": [flowDetailSchema, {
    schemaVersion: 1, uuid: "fd", bookUuid: "lb", name: "flow", state: "RUNNING", createdAt: 1, updatedAt: 2,
    meta: {
      fingerprint: [{ name: "a", kind: "task", requires: ["x"], optional: [], provides: ["y"], version: "1.0" }],
      factory: { name: "f", args: [1, "two"] }, store: { x: 1 }, suspendedReason: "why", wakeAt: 5,
      cancelled: { reason: "r", at: 3 }, inputs: { room: "suite" }, waitingFor: [{ name: "room", description: "d", deadline: 9 }], other: true,
    },
  }],
  "atom detail": [atomDetailSchema, {
    schemaVersion: 1, uuid: "ad", flowUuid: "fd", name: "a", kind: "retry", state: "FAILURE", intention: "REVERT",
    result: { r: [1] }, failure, revertResult: null, revertFailure: failure, version: "1.0", meta: { progress: 0.5 }, updatedAt: 4,
  }],
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
  for (const [kind, [schema, valid]] of Object.entries(records)) {
    it(`agree on every ${kind} with one field wrong, missing or extra`, () => {
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
    expect(() => readRecord("flow detail", "fd", { ...valid, schemaVersion: 2, state: "EXPLODED" })).toThrow(
      /^flow detail "fd" in the log book is corrupted or foreign \(schema version 2; this build reads version 1: upgrade taskflow-ts\): schemaVersion: .*; state: /,
    );
  });
});
