import * as z from "zod/mini";
import type { FailureData } from "../failure.js";
import { ATOM_STATES, FLOW_STATES, INTENTIONS } from "../states.js";
import type { AtomDetail, FlowDetail, LogBook } from "./models.js";
import { invalidRecord } from "./validate.js";

// What judges stored records for a garbage collection comes with the schemas, in the chunk a
// page loads on its first read: a page that only runs flows pays for neither.
export { expiryLimit, finishedBooks } from "./expiry.js";

/** `path.to.field: message; …`, shorter than zod's pretty printer and without its weight. */
function describeIssues(issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }>): string {
  return issues.map((i) => `${i.path.map(String).join(".") || "(record)"}: ${i.message}`).join("; ");
}

export const failureDataSchema: z.ZodMiniType<FailureData> = z.object({
  version: z.literal(1),
  exceptionStr: z.string(),
  excTypeNames: z.array(z.string()).check(z.minLength(1)),
  tracebackStr: z.optional(z.string()),
  causes: z.array(z.lazy(() => failureDataSchema)),
  extra: z.optional(z.unknown()),
});

// zod/mini keeps a page's bundle small (about 6 KiB against about 90 KiB for the classic API).
const meta = z.record(z.string(), z.unknown());

export const logBookSchema: z.ZodMiniType<LogBook> = z.object({
  schemaVersion: z.literal(1),
  uuid: z.string().check(z.minLength(1)),
  name: z.string(),
  createdAt: z.number(),
  updatedAt: z.number(),
  meta,
});

const fingerprintSchema = z.array(
  z.object({
    name: z.string(),
    kind: z.enum(["task", "retry"]),
    requires: z.array(z.string()),
    optional: z.array(z.string()),
    provides: z.array(z.string()),
    version: z.string(),
  }),
);

export const flowDetailSchema: z.ZodMiniType<FlowDetail> = z.object({
  schemaVersion: z.literal(1),
  uuid: z.string().check(z.minLength(1)),
  bookUuid: z.string().check(z.minLength(1)),
  name: z.string(),
  state: z.enum(FLOW_STATES as [string, ...string[]]),
  createdAt: z.number(),
  updatedAt: z.number(),
  meta: z.catchall(
    z.object({
      fingerprint: z.optional(fingerprintSchema),
      factory: z.optional(z.object({ name: z.string(), args: z.array(z.unknown()) })),
      store: z.optional(meta),
      suspendedReason: z.optional(z.string()),
      wakeAt: z.optional(z.number()),
      cancelled: z.optional(z.object({ reason: z.string(), at: z.number() })),
      inputs: z.optional(meta),
      waitingFor: z.optional(z.array(z.object({ name: z.string(), description: z.optional(z.string()), deadline: z.optional(z.number()) }))),
    }),
    z.unknown(),
  ),
}) as unknown as z.ZodMiniType<FlowDetail>;

export const atomDetailSchema: z.ZodMiniType<AtomDetail> = z.object({
  schemaVersion: z.literal(1),
  uuid: z.string().check(z.minLength(1)),
  flowUuid: z.string().check(z.minLength(1)),
  name: z.string().check(z.minLength(1)),
  kind: z.enum(["task", "retry"]),
  state: z.enum(ATOM_STATES as [string, ...string[]]),
  intention: z.enum(INTENTIONS as [string, ...string[]]),
  result: z.optional(z.unknown()),
  failure: z.optional(failureDataSchema),
  revertResult: z.optional(z.unknown()),
  revertFailure: z.optional(failureDataSchema),
  version: z.string(),
  meta,
  updatedAt: z.number(),
}) as unknown as z.ZodMiniType<AtomDetail>;

/**
 * Validates a record with one of these schemas, as the backends do on read (they check the same
 * rules by hand, see validate.ts, to keep zod out of an app's bundle).
 * @throws InvalidFormat naming the record's kind and key, with what is wrong; the stored record
 * is left untouched.
 */
export function parseRecord<T>(schema: z.ZodMiniType<T>, kind: string, key: string, value: unknown): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  throw invalidRecord(kind, key, value, describeIssues(parsed.error.issues));
}
