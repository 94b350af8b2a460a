// What a FlowRunner accepts, checked before anything is stored: RPC arguments arrive as
// structured clones from any caller, HTTP bodies as any JSON, so both go through these schemas.
import * as z from "zod/mini";
import { InvalidFormat } from "taskflow-ts";

/**
 * A JSON value: what flow arguments, stores and HTTP bodies are made of.
 * @example
 * const store: { [name: string]: Json } = { cart: { items: ["tea"] }, price: 12.5 };
 * await jobs.start("order-1", "checkout", [], store);
 */
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
 * How deep arrays and objects may nest in what a runner accepts: checking (and later storing and
 * comparing) a value 10,000 levels deep would exhaust the stack, and no flow input needs it.
 */
export const MAX_JSON_DEPTH = 100;

/**
 * The value as `schema` accepts it.
 * @throws InvalidFormat naming `what` and each problem, e.g. `invalid store: price: expected a JSON value`
 */
export function parse<T>(schema: z.ZodMiniType<T>, value: unknown, what: string): T {
  if (nestedDeeper(value, MAX_JSON_DEPTH)) throw new InvalidFormat(`invalid ${what}: nested deeper than ${MAX_JSON_DEPTH} levels; flatten it`);
  const result = schema.safeParse(value, { reportInput: true });
  if (result.success) return result.data;
  throw new InvalidFormat(`invalid ${what}: ${problemsOf(result.error)}`);
}

/** Each issue of a refused value as `path: what is wrong`, joined by "; ". */
export function problemsOf(error: z.core.$ZodError): string {
  return error.issues.map((i) => (i.path.length > 0 ? `${i.path.map(String).join(".")}: ${explain(i)}` : explain(i))).join("; ");
}

/**
 * Whether arrays and objects nest deeper than `max` in `value`: iteratively (no stack to exhaust),
 * an object shared by several parents (an RPC value may be a graph) walked again only when reached
 * deeper than before, so a cycle counts as too deep and sharing costs no more than `max` walks.
 */
function nestedDeeper(value: unknown, max: number): boolean {
  const deepest = new Map<object, number>();
  const stack: Array<[unknown, number]> = [[value, 0]];
  for (let item = stack.pop(); item; item = stack.pop()) {
    const [v, depth] = item;
    if (v === null || typeof v !== "object" || (deepest.get(v) ?? -1) >= depth) continue;
    if (depth >= max) return true;
    deepest.set(v, depth);
    for (const child of Object.values(v)) stack.push([child, depth + 1]);
  }
  return false;
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
