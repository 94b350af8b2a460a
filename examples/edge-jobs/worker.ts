// A Worker that runs jobs ("provision a tenant") in a FlowRunner Durable Object, over HTTP:
//   POST /flows                    {"id": "acme", "flow": "provision-tenant", "store": {...}, "args": [{...}]}
//   GET  /flows/acme               state, steps, results
//   GET  /flows/acme/log           every record of the log book
//   POST /flows/acme/suspend | resume | cancel
// Every request needs "Authorization: Bearer <API_TOKEN>" (a secret: .dev.vars for wrangler dev,
// `wrangler secret put API_TOKEN` when deployed). The Durable Object checks it: it has no URL of
// its own, so this Worker's code is the only way in, and it forwards only /flows.
import type { Jobs } from "./jobs.js";

export { Jobs } from "./jobs.js";

export interface Env {
  JOBS: DurableObjectNamespace<Jobs>;
  /** The bearer token of the HTTP API. */
  API_TOKEN?: string;
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const { pathname } = new URL(request.url);
    if (pathname === "/flows" || pathname.startsWith("/flows/")) {
      // One object holds every job here: simple, and plenty for an example. To spread the load,
      // route each job to its own object by id (getByName(id)) and send its start there.
      return env.JOBS.getByName("jobs").fetch(request);
    }
    return Response.json({ error: { code: "NotFound", message: "try POST /flows (see examples/edge-jobs/worker.ts)" } }, { status: 404 });
  },
} satisfies ExportedHandler<Env>;
