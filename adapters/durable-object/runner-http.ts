// The HTTP surface of a FlowRunner: routes to the same methods as RPC (so the same validation
// and the same errors), a bearer token in front, and TaskFlow's errors as 4xx statuses (a stored
// record that does not read back is a 500: the runner's fault, not the request's).
import { DependencyFailure, DisallowedAccess, Duplicate, IncompatibleVersion, InvalidFormat, NotFound } from "taskflow-ts";
import type { FlowRunner } from "./flow-runner.js";
import { cancelBody, flowId, inputName, parse, startBody, valueBody } from "./runner-requests.js";

type Runner = Pick<FlowRunner, "start" | "get" | "logBook" | "provide" | "revise" | "suspend" | "resume" | "cancel">;

/**
 * Answers one request. `token` is the secret a request must show as `Authorization: Bearer
 * <token>`; nothing is read or changed for a request that does not (401), and nothing is served
 * when no token is configured (500, saying how to set one).
 */
export async function serveHttp(request: Request, runner: Runner, token: string | undefined, tokenName: string): Promise<Response> {
  if (!token) {
    return failure(500, "Misconfigured", `the HTTP API is off: the Worker has no ${tokenName} secret; set one with \`wrangler secret put ${tokenName}\` (or in .dev.vars for wrangler dev)`);
  }
  if (!(await bearerMatches(request.headers.get("Authorization"), token))) {
    return failure(401, "Unauthorized", `send the ${tokenName} secret as "Authorization: Bearer <token>"`, { "WWW-Authenticate": 'Bearer realm="flows"' });
  }
  try {
    return await route(request, runner);
  } catch (e) {
    return errorResponse(e);
  }
}

async function route(request: Request, runner: Runner): Promise<Response> {
  const { method } = request;
  const parts = new URL(request.url).pathname.split("/").slice(1).map(segment);
  const [root, rawId, action, name, extra] = parts;
  if (root !== "flows" || extra !== undefined) return notFound(method, request.url);
  if (rawId === undefined || rawId === "") {
    if (method !== "POST") return notAllowed("POST");
    const body = await readBody(request, startBody, BODIES.start);
    const started = await runner.start(body.id, body.flow, body.args ?? [], body.store ?? {});
    return json(started, started.created ? 202 : 200, { Location: `/flows/${encodeURIComponent(body.id)}` });
  }
  const id = parse(flowId, rawId, "flow id");
  if (action === undefined) return method === "GET" ? json(await runner.get(id)) : notAllowed("GET");
  if (action === "log" && name === undefined) return method === "GET" ? json(await runner.logBook(id)) : notAllowed("GET");
  if ((action === "inputs" || action === "revise") && name !== undefined) {
    if (method !== "POST") return notAllowed("POST");
    const input = parse(inputName, name, "input name");
    const { value } = await readBody(request, valueBody, BODIES.value);
    return json(action === "inputs" ? await runner.provide(id, input, value) : await runner.revise(id, input, value), 202);
  }
  if (!(action === "suspend" || action === "resume" || action === "cancel") || name !== undefined) return notFound(method, request.url);
  if (method !== "POST") return notAllowed("POST");
  if (action === "suspend") return json(await runner.suspend(id));
  if (action === "resume") return json(await runner.resume(id), 202);
  const { reason } = await readBody(request, cancelBody, BODIES.cancel, {}); // empty, not `null`
  return json(await runner.cancel(id, reason));
}

/** The largest request body read, in bytes: a flow's store and each input are stored whole, and a Durable Object value holds at most 2 MB. */
export const MAX_BODY_BYTES = 1024 * 1024;

/** A request body over {@link MAX_BODY_BYTES}: answered 413. */
class PayloadTooLarge extends InvalidFormat {
  static {
    this.prototype.name = "PayloadTooLarge";
  }
}

/**
 * Maps TaskFlow's errors to statuses; the body carries the error's name and message. A record
 * that does not read back is the runner's StorageFailure (500), not the request's fault.
 */
export function errorResponse(e: unknown): Response {
  const error = e instanceof Error ? e : new Error(String(e));
  if (error instanceof PayloadTooLarge) return failure(413, error.name, error.message);
  if (error instanceof NotFound) return failure(404, error.name, error.message);
  if (error instanceof InvalidFormat || error instanceof DependencyFailure) return failure(400, error.name, error.message);
  if (error instanceof Duplicate || error instanceof DisallowedAccess || error instanceof IncompatibleVersion) return failure(409, error.name, error.message);
  return failure(500, error.name, error.message);
}

/**
 * What each route's JSON body holds, named in the error for a body that does not fit, so a
 * client learns the shape from the refusal (`curl` users do not read the schemas).
 */
const BODIES = {
  start: '{"id": "<flow id>", "flow": "<a flow of the registry>", "args"?: [<JSON>, …], "store"?: {"<name>": <JSON>, …}}',
  value: '{"value": <any JSON value>}, e.g. {"value": 2}',
  cancel: '{"reason"?: "<why>"} or an empty body',
} as const;

/**
 * The body as `schema` accepts it (`empty` for an empty body, when the route allows one).
 * @throws InvalidFormat saying what is wrong and the shape expected; PayloadTooLarge over {@link MAX_BODY_BYTES}
 */
async function readBody<T>(request: Request, schema: Parameters<typeof parse<T>>[0], shape: string, empty?: unknown): Promise<T> {
  try {
    const raw = await jsonBody(request);
    return parse(schema, raw === undefined && empty !== undefined ? empty : raw, "request body");
  } catch (e) {
    if (e instanceof PayloadTooLarge || !(e instanceof InvalidFormat)) throw e;
    throw new InvalidFormat(`${e.message}; send ${shape}`, { cause: e });
  }
}

/**
 * The parsed body, or undefined when it is empty.
 * @throws PayloadTooLarge over {@link MAX_BODY_BYTES}; InvalidFormat when it is not JSON
 */
async function jsonBody(request: Request): Promise<unknown> {
  const tooLarge = () => new PayloadTooLarge(`request body is over ${MAX_BODY_BYTES} bytes; store large values elsewhere and send a reference`);
  if (Number(request.headers.get("Content-Length") ?? 0) > MAX_BODY_BYTES) throw tooLarge(); // not even read
  const bytes = await request.arrayBuffer();
  if (bytes.byteLength > MAX_BODY_BYTES) throw tooLarge();
  const text = new TextDecoder().decode(bytes);
  if (text.trim() === "") return undefined;
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (e) {
    throw new InvalidFormat(`request body is not JSON: ${(e as Error).message}`);
  }
  return body; // checked by `parse`, which refuses it nested too deeply (see MAX_JSON_DEPTH)
}

function segment(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new InvalidFormat(`path segment "${raw}" is not valid percent-encoding`);
  }
}

/**
 * Compares SHA-256 digests byte by byte without stopping early, so the time taken does not tell
 * how much of a guessed token was right (and the lengths do not matter). Parsed as ASCII, as HTTP
 * defines it: the token is visible ASCII, set off by spaces and tabs only (`\s` would also take a
 * no-break space or a form feed for a separator, and accept a token with one glued to it).
 */
async function bearerMatches(header: string | null, token: string): Promise<boolean> {
  const match = /^Bearer[ \t]+([!-~]+)[ \t]*$/i.exec(header ?? "");
  if (!match) return false;
  const encoder = new TextEncoder();
  const [given, expected] = await Promise.all([match[1] as string, token].map((t) => crypto.subtle.digest("SHA-256", encoder.encode(t))));
  const a = new Uint8Array(given as ArrayBuffer);
  const b = new Uint8Array(expected as ArrayBuffer);
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= (a[i] as number) ^ (b[i] as number);
  return diff === 0;
}

const ROUTES = "POST /flows, GET /flows/:id, GET /flows/:id/log, POST /flows/:id/inputs/:name, POST /flows/:id/revise/:name, POST /flows/:id/suspend|resume|cancel";

function notFound(method: string, url: string): Response {
  return failure(404, "NotFound", `no route for ${method} ${new URL(url).pathname}; routes: ${ROUTES}`);
}

function notAllowed(allow: string): Response {
  return failure(405, "MethodNotAllowed", `use ${allow} here; routes: ${ROUTES}`, { Allow: allow });
}

function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return Response.json(body, { status, headers });
}

function failure(status: number, code: string, message: string, headers: Record<string, string> = {}): Response {
  return json({ error: { code, message } }, status, headers);
}
