import * as z from "zod/mini";
import type { FailureData } from "../failure.js";
import { ATOM_STATES, FLOW_STATES, INTENTIONS, type AtomState, type FlowState, type Intention } from "../states.js";
import { SCHEMA_VERSION } from "./models.js";
import { invalidRecord, migrateRecord } from "./validate.js";

// What judges stored records for a garbage collection comes with the schemas, in the chunk a
// page loads on its first read: a page that only runs flows pays for neither.
export { expiryLimit, finishedBooks } from "./expiry.js";

/** `path.to.field: message; …`, shorter than zod's pretty printer and without its weight. */
function describeIssues(issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }>): string {
  return issues.map((i) => `${i.path.map(String).join(".") || "(record)"}: ${i.message}`).join("; ");
}

/**
 * A loose object typed as a plain one: it keeps the keys it does not name (a newer writer's, at
 * any depth, as the backends' check does), while its output type names only its own fields.
 */
const loose = <S extends z.core.$ZodLooseShape>(shape: S) => z.looseObject(shape) as unknown as z.ZodMiniObject<S>;

/**
 * The schema of a stored failure (an atom detail's `failure`).
 * @example
 * const failure = parseRecord(failureDataSchema, "failure", atomUuid, stored.failure);
 * console.log(failure.exceptionStr);
 */
export const failureDataSchema: z.ZodMiniType<FailureData> = loose({
  version: z.literal(1),
  exceptionStr: z.string(),
  excTypeNames: z.array(z.string()).check(z.minLength(1)),
  tracebackStr: z.optional(z.string()),
  causes: z.array(z.lazy(() => failureDataSchema)),
  extra: z.optional(z.unknown()),
});

// zod/mini keeps a page's bundle small (about 6 KiB against about 90 KiB for the classic API).
const meta = z.record(z.string(), z.unknown());
const uuid = z.string().check(z.minLength(1));
const count = z.int().check(z.gte(0));
const schemaVersion = z.literal(SCHEMA_VERSION);
const atomStates = ATOM_STATES as [AtomState, ...AtomState[]];

// Records are loose objects: a field this version does not know (a newer minor writer's), at the
// top level or nested, is kept, as the backends' own check keeps it. The model types (models.ts) are the
// output of these schemas, less the index signature: test/types/records.test-d.ts checks it.

/**
 * The schema of a stored log book record.
 * @example
 * const book = parseRecord(logBookSchema, "log book", uuid, JSON.parse(text));
 */
export const logBookSchema = z.looseObject({
  schemaVersion,
  uuid,
  name: z.string(),
  createdAt: z.number(),
  updatedAt: z.number(),
  meta,
});

const fingerprintSchema = z.array(
  loose({
    name: z.string(),
    kind: z.enum(["task", "retry"]),
    requires: z.array(z.string()),
    optional: z.array(z.string()),
    provides: z.array(z.string()),
    version: z.string(),
  }),
);

/**
 * The schema of a stored flow detail record.
 * @example
 * const flow = parseRecord(flowDetailSchema, "flow detail", uuid, stored);
 * if (flow.state === "SUSPENDED") console.log(flow.waitingFor);
 */
export const flowDetailSchema = z.looseObject({
  schemaVersion,
  uuid,
  bookUuid: uuid,
  name: z.string(),
  state: z.enum(FLOW_STATES as [FlowState, ...FlowState[]]),
  createdAt: z.number(),
  updatedAt: z.number(),
  fingerprint: z.optional(fingerprintSchema),
  flows: z.optional(
    z.array(
      loose({
        name: z.string(),
        pattern: z.enum(["linear", "unordered", "graph"]),
        parent: z.optional(count),
        items: z.array(z.string()),
        links: z.optional(z.array(z.array(z.string()))),
      }),
    ),
  ),
  factory: z.optional(loose({ name: z.string(), args: z.array(z.unknown()) })),
  store: z.optional(meta),
  suspendedReason: z.optional(z.string()),
  wakeAt: z.optional(z.number()),
  cancelled: z.optional(loose({ reason: z.string(), at: z.number() })),
  epoch: z.optional(count),
  inputs: z.optional(meta),
  waitingFor: z.optional(z.array(loose({ name: z.string(), description: z.optional(z.string()), deadline: z.optional(z.number()) }))),
  meta,
});

/**
 * The schema of a stored atom detail record.
 * @example
 * const atoms = rows.map((row) => parseRecord(atomDetailSchema, "atom detail", row.key, row.value));
 */
export const atomDetailSchema = z.looseObject({
  schemaVersion,
  uuid,
  flowUuid: uuid,
  name: uuid,
  kind: z.enum(["task", "retry"]),
  state: z.enum(atomStates),
  intention: z.enum(INTENTIONS as [Intention, ...Intention[]]),
  result: z.optional(z.unknown()),
  failure: z.optional(failureDataSchema),
  revertResult: z.optional(z.unknown()),
  revertFailure: z.optional(failureDataSchema),
  version: z.string(),
  progress: z.optional(z.number()),
  progressDetails: z.optional(loose({ atProgress: z.number(), details: z.optional(z.unknown()) })),
  injected: z.optional(meta),
  timestamps: z.optional(z.partialRecord(z.enum(atomStates), z.number())),
  wakeAt: z.optional(z.number()),
  deadline: z.optional(z.number()),
  requeue: z.optional(z.boolean()),
  generation: z.optional(count),
  attempts: z.optional(count),
  workers: z.optional(z.array(loose({ attempt: count, worker: z.string(), revert: z.optional(z.boolean()) }))),
  meta,
  updatedAt: z.number(),
});

/**
 * Validates a record with one of these schemas, as the backends do on read (they check the same
 * rules by hand, see validate.ts, to keep zod out of an app's bundle). A record of an older
 * schema version is migrated first, as on a backend's read; `kind` names it ("log book", "flow
 * detail", "atom detail").
 * @throws InvalidFormat naming the record's kind and key, with what is wrong; the stored record
 * is left untouched.
 * @example
 * const book = parseRecord(logBookSchema, "log book", key, await kv.get(key)); // InvalidFormat if it does not read back
 */
export function parseRecord<T>(schema: z.ZodMiniType<T>, kind: string, key: string, value: unknown): T {
  const parsed = schema.safeParse(migrateRecord(kind, value));
  if (parsed.success) return parsed.data;
  throw invalidRecord(kind, key, value, describeIssues(parsed.error.issues));
}
