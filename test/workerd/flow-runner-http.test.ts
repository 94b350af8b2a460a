// The FlowRunner's HTTP surface, as a Worker that forwards requests reaches it: the bearer
// token in front (a request without it changes nothing), JSON bodies checked, TaskFlow's errors
// as 400/404/409, and the same flows as over RPC.
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { serveHttp } from "../../adapters/durable-object/runner-http.js";
import { CHECKOUT_STORE, freshRunner, untilEnded, type RunnerStub } from "./runner-helpers.js";

const AUTH = { Authorization: `Bearer ${env.API_TOKEN}` };

function call(runner: RunnerStub, method: string, path: string, body?: unknown, headers: Record<string, string> = AUTH): Promise<Response> {
  const init: RequestInit = { method, headers: { ...headers, "Content-Type": "application/json" } };
  if (body !== undefined) init.body = typeof body === "string" ? body : JSON.stringify(body);
  return runner.fetch(new Request(`https://jobs.example${path}`, init));
}

/** The status and the error (code and message) of a refused request. */
async function refusal(response: Promise<Response>): Promise<{ status: number; code: string; message: string }> {
  const r = await response;
  const { error } = (await r.json()) as { error: { code: string; message: string } };
  return { status: r.status, ...error };
}

const START = { id: "order-1", flow: "checkout", store: CHECKOUT_STORE };

describe("FlowRunner over HTTP", () => {
  it("refuses a request without the bearer token (401), and it changes nothing", async () => {
    const runner = freshRunner();
    const withoutToken: Array<Record<string, string>> = [{}, { Authorization: "Bearer not-the-token" }, { Authorization: env.API_TOKEN }];
    for (const headers of withoutToken) {
      const refused = await refusal(call(runner, "POST", "/flows", START, headers));
      expect(refused).toMatchObject({ status: 401, code: "Unauthorized" });
      expect(refused.message).toContain("Authorization: Bearer");
    }
    expect((await call(runner, "GET", "/flows/order-1", undefined, {})).headers.get("WWW-Authenticate")).toMatch(/^Bearer/);
    expect((await refusal(call(runner, "GET", "/flows/order-1"))).status).toBe(404); // nothing was started
    expect(await runner.alarmAt()).toBeNull();

    // A flow that exists: a cancel without the token leaves it as it was.
    expect((await call(runner, "POST", "/flows", START)).status).toBe(202);
    const before = await runner.get("order-1");
    expect((await call(runner, "POST", "/flows/order-1/cancel", { reason: "nope" }, {})).status).toBe(401);
    expect(await runner.get("order-1")).toEqual(before);
    expect(await runner.tally()).toEqual({});
  });

  it("serves nothing while no token is configured (500, saying how to set one)", async () => {
    const unreachable = new Proxy({}, {
      get: () => {
        throw new Error("the runner must not be reached");
      },
    }) as Parameters<typeof serveHttp>[1];
    const response = await serveHttp(new Request("https://jobs.example/flows", { method: "POST", headers: AUTH, body: JSON.stringify(START) }), unreachable, undefined, "API_TOKEN");
    expect(response.status).toBe(500);
    const { error } = (await response.json()) as { error: { message: string } };
    expect(error.message).toContain("`wrangler secret put API_TOKEN`");
  });

  it("starts, repeats, reads and finishes a flow", async () => {
    const runner = freshRunner();
    const started = await call(runner, "POST", "/flows", START);
    expect(started.status).toBe(202);
    expect(started.headers.get("Location")).toBe("/flows/order-1");
    expect(await started.json()).toMatchObject({ created: true, id: "order-1", flow: "checkout", state: "PENDING", pending: true });
    const repeated = await call(runner, "POST", "/flows", { ...START, args: [] });
    expect(repeated.status).toBe(200);
    expect(await repeated.json()).toMatchObject({ created: false });

    await untilEnded(runner, "order-1");
    const status = (await (await call(runner, "GET", "/flows/order-1")).json()) as { state: string; atoms: Record<string, { result?: unknown }> };
    expect(status.state).toBe("SUCCESS");
    expect(status.atoms.email?.result).toBe("sent receipt R-1");
    const log = (await (await call(runner, "GET", "/flows/order-1/log")).json()) as { flowDetail: { state: string }; atomDetails: unknown[] };
    expect(log.flowDetail.state).toBe("SUCCESS");
    expect(log.atomDetails).toHaveLength(4);
  });

  it("answers bad requests with 400 and the schema's or the engine's message, and stores nothing", async () => {
    const runner = freshRunner();
    const cases: Array<[string, string, unknown, RegExp]> = [
      ["POST", "/flows", "{not json", /^request body is not JSON/],
      ["POST", "/flows", undefined, /^invalid request body: .*expected object/],
      ["POST", "/flows", { id: "x", store: CHECKOUT_STORE }, /^invalid request body: flow: /],
      ["POST", "/flows", { ...START, stor: {} }, /^invalid request body: .*"stor"/],
      ["POST", "/flows", { ...START, id: "a/b" }, /^invalid request body: id: a flow id is 1 to 128/],
      ["POST", "/flows", { ...START, flow: "refund" }, /no flow factory named "refund"; registered: checkout/],
      ["POST", "/flows", { ...START, store: { cart: "c" } }, /atom "charge" requires "price"/],
      ["POST", "/flows", { ...START, args: "none" }, /^invalid request body: args: /],
    ];
    for (const [method, path, body, message] of cases) {
      const refused = await refusal(call(runner, method, path, body));
      expect(refused.status, `${JSON.stringify(body)}`).toBe(400);
      expect(refused.message).toMatch(message);
    }
    expect((await refusal(call(runner, "GET", "/flows/x"))).status).toBe(404);
    expect(await runner.alarmAt()).toBeNull();

    // An input the wait's schema refuses: 400 with its message, and the flow still waits.
    expect((await call(runner, "POST", "/flows", { id: "stay", flow: "booking", store: { room: "single" } })).status).toBe(202);
    expect(await runDurableObjectAlarm(runner)).toBe(true); // runs until it waits for "nights"
    for (const [body, message] of [[{ value: 0 }, /^value for "nights" refused/], [{ value: "two" }, /^value for "nights" refused/], [{ nights: 2 }, /unknown key "nights"/], [undefined, /required/]] as const) {
      const refused = await refusal(call(runner, "POST", "/flows/stay/inputs/nights", body));
      expect(refused.status, JSON.stringify(body)).toBe(400);
      expect(refused.message).toMatch(message);
    }
    expect(await runner.get("stay")).toMatchObject({ state: "SUSPENDED", suspendedReason: "input", pending: false });
    const provided = await call(runner, "POST", "/flows/stay/inputs/nights", { value: 2 });
    expect(provided.status).toBe(202);
    expect(await provided.json()).toMatchObject({ pending: true });
    expect((await untilEnded(runner, "stay")).atoms.quote?.result).toBe(160);
  });

  it("names the body it expected when a body does not fit (POST /flows/:id/inputs/:name takes {\"value\": …})", async () => {
    const runner = freshRunner();
    expect((await call(runner, "POST", "/flows", { id: "stay", flow: "booking", store: { room: "single" } })).status).toBe(202);
    expect(await runDurableObjectAlarm(runner)).toBe(true); // waits for "nights"
    const expected = 'send {"value": <any JSON value>}, e.g. {"value": 2}';
    for (const body of [{ nights: 2 }, 2, "{nights: 2}", undefined, { value: 2, note: "x" }]) {
      const refused = await refusal(call(runner, "POST", "/flows/stay/inputs/nights", body));
      expect(refused, JSON.stringify(body)).toMatchObject({ status: 400, code: "InvalidFormat" });
      expect(refused.message.endsWith(expected), refused.message).toBe(true);
    }
    const revise = await refusal(call(runner, "POST", "/flows/stay/revise/room", { room: "double" }));
    expect(revise.message).toMatch(/^invalid request body: .*unknown key "room".*; send \{"value": /);
    const start = await refusal(call(runner, "POST", "/flows", { id: "x", name: "booking" }));
    expect(start.message).toContain('; send {"id": "<flow id>", "flow": "<a flow of the registry>"');
    const cancel = await refusal(call(runner, "POST", "/flows/stay/cancel", { why: "no" }));
    expect(cancel.message).toContain('; send {"reason"?: "<why>"} or an empty body');
    // A value the input's own schema refuses is not a shape problem: its message is the schema's.
    expect((await refusal(call(runner, "POST", "/flows/stay/inputs/nights", { value: 0 }))).message).not.toContain("send {");
    expect(await runner.get("stay")).toMatchObject({ state: "SUSPENDED", suspendedReason: "input" });
  });

  it("answers unknown flows and routes with 404, conflicts with 409, wrong methods with 405", async () => {
    const runner = freshRunner();
    expect(await refusal(call(runner, "GET", "/flows/nobody"))).toMatchObject({ status: 404, code: "NotFound" });
    expect(await refusal(call(runner, "POST", "/flows/nobody/suspend"))).toMatchObject({ status: 404, code: "NotFound" });
    expect(await refusal(call(runner, "GET", "/jobs"))).toMatchObject({ status: 404, message: expect.stringContaining("routes: POST /flows") });
    expect(await refusal(call(runner, "POST", "/flows/order-1/explode"))).toMatchObject({ status: 404 });
    const wrong = await call(runner, "DELETE", "/flows/order-1");
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get("Allow")).toBe("GET");

    expect((await call(runner, "POST", "/flows", START)).status).toBe(202);
    const conflict = await refusal(call(runner, "POST", "/flows", { ...START, store: { ...CHECKOUT_STORE, price: 1 } }));
    expect(conflict).toMatchObject({ status: 409, code: "Duplicate" });
    expect(conflict.message).toContain('flow id "order-1" is taken');
    await untilEnded(runner, "order-1");
    expect(await refusal(call(runner, "POST", "/flows/order-1/cancel"))).toMatchObject({ status: 409, code: "DisallowedAccess" });
  });

  it("suspends, resumes and cancels", async () => {
    const runner = freshRunner();
    await call(runner, "POST", "/flows", { id: "call", flow: "flaky" });
    expect(await runDurableObjectAlarm(runner)).toBe(true); // up to its backoff
    const suspended = await call(runner, "POST", "/flows/call/suspend");
    expect(suspended.status).toBe(200);
    expect(await suspended.json()).toMatchObject({ state: "SUSPENDED", suspendedReason: "suspended", pending: false });
    expect((await call(runner, "POST", "/flows/call/resume")).status).toBe(202);
    const cancelled = await call(runner, "POST", "/flows/call/cancel", { reason: "no longer needed" });
    expect(cancelled.status).toBe(200);
    expect(await cancelled.json()).toMatchObject({ state: "REVERTED", pending: false });
  });

  it("refuses a token followed or preceded by other whitespace than ASCII spaces and tabs", async () => {
    const token = env.API_TOKEN;
    const runner = freshRunner();
    for (const header of [`Bearer ${token}\f`, `Bearer\v${token}`, `Bearer\f${token}`]) {
      expect((await refusal(call(runner, "POST", "/flows", START, { Authorization: header }))).status, JSON.stringify(header)).toBe(401);
    }
    // Unicode whitespace, as a header arriving from the network may hold it (Headers would
    // re-encode such a value here, and say so on the console): served to the parser directly.
    const unreachable = new Proxy({}, {
      get: () => {
        throw new Error("the runner must not be reached");
      },
    }) as Parameters<typeof serveHttp>[1];
    for (const space of ["\u00a0", "\u2003", "\u3000", "\ufeff", "\u2028"]) {
      for (const header of [`Bearer ${token}${space}`, `Bearer${space}${token}`]) {
        const request = { method: "GET", url: "https://jobs.example/flows/x", headers: { get: (name: string) => (name === "Authorization" ? header : null) } } as unknown as Request;
        expect((await serveHttp(request, unreachable, token, "API_TOKEN")).status, JSON.stringify(header)).toBe(401);
      }
    }
    expect((await call(runner, "POST", "/flows", START, { Authorization: `bearer \t${token}` })).status).toBe(202);
  });

  it("answers a body over 1 MiB with 413, and JSON nested deeper than 100 levels or a null cancel body with 400, storing nothing", async () => {
    const runner = freshRunner();
    const big = "x".repeat(8 * 1024 * 1024);
    expect(await refusal(call(runner, "POST", "/flows", { ...START, store: { ...CHECKOUT_STORE, note: big } }))).toMatchObject({ status: 413, code: "PayloadTooLarge" });
    const deep = `${"[".repeat(10_000)}${"]".repeat(10_000)}`;
    const tooDeep = await refusal(call(runner, "POST", "/flows", `{"id":"deep","flow":"checkout","store":{"cart":${deep},"price":1}}`));
    expect(tooDeep).toMatchObject({ status: 400, code: "InvalidFormat", message: expect.stringMatching(/nested deeper than 100/) });
    expect((await refusal(call(runner, "GET", "/flows/order-1"))).status).toBe(404);
    expect((await refusal(call(runner, "GET", "/flows/deep"))).status).toBe(404);

    expect((await call(runner, "POST", "/flows", { id: "stay", flow: "booking", store: { room: "single" } })).status).toBe(202);
    expect(await refusal(call(runner, "POST", "/flows/stay/inputs/nights", { value: big }))).toMatchObject({ status: 413 });
    expect(await refusal(call(runner, "POST", "/flows/stay/cancel", "null"))).toMatchObject({ status: 400, code: "InvalidFormat" });
    expect((await runner.get("stay")).state).toBe("PENDING");
  });

  it("answers 500 when what is stored is corrupted (the request was fine), naming the record", async () => {
    const runner = freshRunner();
    for (const id of ["entry", "record"]) expect((await call(runner, "POST", "/flows", { ...START, id })).status).toBe(202);
    await runInDurableObject(runner, (_, state) => {
      const { kv } = state.storage;
      kv.put("runner:flow:entry", { id: "entry", flow: 7 });
      const flowOf = kv.get<{ flowDetailId: string }>("runner:flow:record")?.flowDetailId as string;
      const [key, flow] = [...kv.list<Record<string, unknown>>({ prefix: "fd:" })].find(([, f]) => f.uuid === flowOf) ?? [];
      kv.put(key as string, { ...flow, state: "EXPLODED" });
    });
    const entry = await refusal(call(runner, "GET", "/flows/entry"));
    expect(entry).toMatchObject({ status: 500, code: "StorageFailure", message: expect.stringContaining('runner entry "runner:flow:entry" is corrupted') });
    const record = await refusal(call(runner, "GET", "/flows/record"));
    expect(record).toMatchObject({ status: 500, code: "StorageFailure", message: expect.stringMatching(/flow "record": .*state: expected one of/) });
    expect((await refusal(call(runner, "GET", "/flows/record/log"))).status).toBe(500);
  });
});
