// What a FlowRunner accepts, checked before anything is stored: RPC arguments arrive as
// structured clones from any caller, HTTP bodies as any JSON, so both go through these schemas.
import * as z from "zod/mini";
import { InvalidFormat } from "taskflow-ts";

/** A JSON value: what flow arguments, stores and HTTP bodies are made of. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const json = z.json() as z.ZodMiniType<Json>;

/** Caller-given flow ids go into URLs and storage keys: keep them short and plain. */
export const flowId = z.string().check(
  z.regex(/^[\w.~:-]{1,128}$/, "a flow id is 1 to 128 letters, digits, or any of _ . ~ : -"),
);
export const flowName = z.string().check(z.minLength(1, "name a flow of the runner's registry"));
/**
 * Arguments of the flow factory and the store of inputs. JSON only: a repeated start is told
 * apart from a conflicting one by comparing them, and the HTTP surface returns them as JSON.
 */
export const flowArgs = z.array(json);
export const flowStore = z.record(z.string(), json);
export const inputName = z.string().check(z.minLength(1, "name the input"));
export const reason = z.string().check(z.maxLength(1000, "keep the reason under 1000 characters"));

/** `POST /flows` */
export const startBody = z.strictObject({
  id: flowId,
  flow: flowName,
  args: z.optional(flowArgs),
  store: z.optional(flowStore),
});
/** `POST /flows/:id/inputs/:name` and `POST /flows/:id/revise/:name` */
export const valueBody = z.strictObject({ value: json });
/** `POST /flows/:id/cancel` (the body may be empty) */
export const cancelBody = z.strictObject({ reason: z.optional(reason) });

/**
 * The value as `schema` accepts it.
 * @throws InvalidFormat naming `what` and each problem, e.g. `invalid store: price: expected a JSON value`
 */
export function parse<T>(schema: z.ZodMiniType<T>, value: unknown, what: string): T {
  const result = schema.safeParse(value, { reportInput: true });
  if (result.success) return result.data;
  const problems = result.error.issues.map((i) => (i.path.length > 0 ? `${i.path.map(String).join(".")}: ${explain(i)}` : explain(i)));
  throw new InvalidFormat(`invalid ${what}: ${problems.join("; ")}`);
}

/**
 * zod/mini carries no English messages (its default is "Invalid input", unless the whole app
 * loads a locale with `z.config`, which a library must not do for its users): say it here.
 */
function explain(issue: z.core.$ZodIssue): string {
  if (issue.message !== "Invalid input") return issue.message; // a message of our own schemas
  switch (issue.code) {
    case "invalid_type":
      return issue.input === undefined ? `required (expected ${issue.expected})` : `expected ${issue.expected}, got ${describe(issue.input)}`;
    case "unrecognized_keys":
      return `unknown ${issue.keys.length > 1 ? "keys" : "key"} ${issue.keys.map((k) => `"${k}"`).join(", ")}`;
    case "invalid_union":
      if (issue.input === undefined) return "required (a JSON value)";
      return `expected a JSON value (null, a boolean, a finite number, a string, an array or an object), got ${describe(issue.input)}`;
    default:
      return `${issue.code.replaceAll("_", " ")}`;
  }
}

function describe(value: unknown): string {
  if (typeof value === "number" && !Number.isFinite(value)) return String(value);
  if (Array.isArray(value)) return "an array";
  return value === null ? "null" : typeof value;
}
