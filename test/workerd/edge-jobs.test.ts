// The edge-jobs example as deployed: its Worker's fetch handler, its Jobs object (quiet), and
// real alarms (no test knob: the runner's default runs a flow at once, timers at their time).
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { billing, dns, mailer, type TenantRecord } from "../../examples/edge-jobs/services.js";
import worker, { type Env } from "../../examples/edge-jobs/worker.js";
import type { FlowStatus } from "../../adapters/durable-object/index.js";

const AUTH = { Authorization: `Bearer ${env.API_TOKEN}` };

function send(method: string, path: string, body?: unknown, headers: Record<string, string> = AUTH): Promise<Response> {
  const init: RequestInit = { method, headers: { ...headers, "Content-Type": "application/json" } };
  if (body !== undefined) init.body = JSON.stringify(body);
  return worker.fetch(new Request(`https://edge-jobs.example${path}`, init), env as unknown as Env);
}

const job = (tenant: string, propagationMs: number) => ({
  id: tenant,
  flow: "provision-tenant",
  store: { tenant, plan: "pro", adminEmail: `admin@${tenant}.test` },
  args: [{ propagationMs }],
});

/** Polls the job until `done` says so (the alarms run it meanwhile); returns every status seen. */
async function watch(id: string, done: (s: FlowStatus) => boolean, timeoutMs = 8_000): Promise<FlowStatus[]> {
  const seen: FlowStatus[] = [];
  for (const end = Date.now() + timeoutMs; Date.now() < end; ) {
    const status = (await (await send("GET", `/flows/${id}`)).json()) as FlowStatus;
    seen.push(status);
    if (done(status)) return seen;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`job "${id}" did not get there in ${timeoutMs} ms; last: ${JSON.stringify(seen.at(-1))}`);
}

const record = (tenant: string) =>
  runInDurableObject(env.JOBS.getByName("jobs"), (_, state) => state.storage.kv.get<TenantRecord>(`tenant:${tenant}`));

describe("examples/edge-jobs", () => {
  it("provisions a tenant: the billing call fails once, its retry waits out its backoff in an alarm, the welcome goes out", async () => {
    const started = Date.now();
    expect((await send("POST", "/flows", job("acme", 0))).status).toBe(202);
    const seen = await watch("acme", (s) => s.state === "SUCCESS" && !s.pending);
    const end = seen.at(-1) as FlowStatus;
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_000); // the first backoff is 1 s
    expect(seen.some((s) => s.suspendedReason === "waiting" && s.wakeAt !== undefined)).toBe(true);
    expect(end.atoms["billing-account"]).toEqual({ state: "SUCCESS", result: { accountId: "acct_acme", plan: "pro" } });
    expect(end.atoms["billing-account_retry"]?.result).toBe(2); // the second try answered
    expect(end.atoms["dns-zone"]?.result).toMatchObject({ zone: "acme.example.net" });
    expect(billing.calls.filter((c) => c.includes("acme"))).toEqual(["createAccount acme: 503", "createAccount acme"]);
    expect(mailer.calls).toContain("send admin@acme.test: Welcome to acme: https://acme.example.net");
    expect(await record("acme")).toMatchObject({ tenant: "acme", plan: "pro" });
  });

  it("cancels a job waiting for DNS to propagate: account closed, zone deleted, records removed", async () => {
    expect((await send("POST", "/flows", job("globex", 3_600_000))).status).toBe(202);
    await watch("globex", (s) => s.atoms["dns-propagation"]?.state === "PENDING" && s.suspendedReason === "waiting" && s.atoms["billing-account"]?.state === "SUCCESS");
    expect(await record("globex")).toBeDefined();

    const cancelled = await send("POST", "/flows/globex/cancel", { reason: "customer left" });
    expect(cancelled.status).toBe(200);
    const end = (await cancelled.json()) as FlowStatus;
    expect(end).toMatchObject({ state: "REVERTED", pending: false });
    expect(end.atoms["create-records"]?.state).toBe("REVERTED");
    expect(billing.closed).toContain("acct_globex");
    expect(dns.deleted).toContain("globex.example.net");
    expect(await record("globex")).toBeUndefined();
    expect(mailer.calls.some((c) => c.includes("globex"))).toBe(false);
  });

  it("cancelling a second job for a tenant undoes only what that job did: the first job's records, account and zone stay", async () => {
    expect((await send("POST", "/flows", { ...job("wayne", 0), id: "wayne-a" })).status).toBe(202);
    await watch("wayne-a", (s) => s.state === "SUCCESS" && !s.pending);
    const first = await record("wayne");
    expect(first).toMatchObject({ tenant: "wayne" });

    expect((await send("POST", "/flows", { ...job("wayne", 3_600_000), id: "wayne-b" })).status).toBe(202);
    await watch("wayne-b", (s) => s.suspendedReason === "waiting" && s.atoms["billing-account"]?.state === "SUCCESS" && s.atoms["dns-zone"]?.state === "SUCCESS");
    const cancelled = await send("POST", "/flows/wayne-b/cancel", { reason: "ordered twice" });
    expect(((await cancelled.json()) as FlowStatus).state).toBe("REVERTED");

    const a = (await (await send("GET", "/flows/wayne-a")).json()) as FlowStatus;
    expect(a.state).toBe("SUCCESS");
    const account = (a.atoms["billing-account"]?.result as { accountId: string }).accountId;
    expect(await record("wayne")).toEqual(first);
    expect(billing.closed).not.toContain(account);
    expect(billing.closed).toContain("acct_wayne_2"); // the second job's own account is undone
    expect(dns.deleted).not.toContain("wayne.example.net");
  });

  it("refuses a job without the token and stores nothing; serves nothing but /flows", async () => {
    const refused = await send("POST", "/flows", job("initech", 0), {});
    expect(refused.status).toBe(401);
    expect((await send("GET", "/flows/initech")).status).toBe(404);
    expect(await record("initech")).toBeUndefined();
    expect((await send("GET", "/")).status).toBe(404);
  });
});
