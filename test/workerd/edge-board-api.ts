// examples/edge-board's HTTP API as its tests call it: the Worker's fetch handler with the test
// Worker's bindings (test/workerd/wrangler.jsonc binds the example's objects under its names).
import { env } from "cloudflare:workers";
import type { ConductorReport } from "../../examples/edge-board/conductor.js";
import worker, { type Env } from "../../examples/edge-board/worker.js";

const AUTH = { Authorization: `Bearer ${env.API_TOKEN}` };
export type JobRow = { uuid: string; name: string; state: string; owner?: string };

export function send(method: string, path: string, body?: unknown, headers: Record<string, string> = AUTH): Promise<Response> {
  const init: RequestInit = { method, headers: { ...headers, "Content-Type": "application/json" } };
  if (body !== undefined) init.body = JSON.stringify(body);
  return worker.fetch(new Request(`https://edge-board.example${path}`, init), env as unknown as Env);
}

/** Polls GET /jobs until the given jobs are all COMPLETE or TRASHED (the conductors' alarms run them meanwhile). */
export async function settled(uuids: string[], timeoutMs = 20_000): Promise<JobRow[]> {
  let rows: JobRow[] = [];
  for (const end = Date.now() + timeoutMs; Date.now() < end; ) {
    rows = ((await (await send("GET", "/jobs")).json()) as { jobs: JobRow[] }).jobs.filter((j) => uuids.includes(j.uuid));
    if (rows.length === uuids.length && rows.every((j) => j.state === "COMPLETE" || j.state === "TRASHED")) return rows;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`jobs not settled in ${timeoutMs} ms: ${JSON.stringify(rows)}`);
}

export async function reports(): Promise<ConductorReport[]> {
  return ((await (await send("GET", "/conductors")).json()) as { conductors: ConductorReport[] }).conductors;
}

