// An edge job board: this Worker posts jobs to a JobBoardObject, and conductor Durable Objects
// drain them, each claiming with the credential of its own name (made from the JOB_BOARD_SECRET
// secret). The jobs' log books live in one LogBooks object that every conductor shares, so a job
// whose conductor died is resumed by another, and a job started in a browser tab can be finished
// here (POST /handoff), or one started here finished in a tab (GET /log-books/<uuid>).
//   POST /jobs          {"customer": "acme", "lines": [{"item": "bolts", "quantity": 3, "cents": 250}]} (or an array)
//   GET  /jobs          every job: state, owner
//   GET  /jobs/<uuid>   the job and its flow: state, each step's result
//   POST /handoff       {"logBook": <exportLogBook's JSON>}: imported, checked, posted as a job
//   GET  /log-books/<uuid>   a log book as exportLogBook's JSON, to import elsewhere
//   GET  /conductors    what each conductor did
// Every request needs "Authorization: Bearer <API_TOKEN>". Secrets: .dev.vars for wrangler dev
// (see .dev.vars.example), `wrangler secret put` when deployed.
import { Engine, IncompatibleVersion, InvalidFormat, MemoryBackend, NotFound, readSnapshot, TaskFlowError } from "taskflow-ts";
import { exportLogBook, importLogBook, parsePortableLogBook, type JobDetails } from "taskflow-ts/jobs";
import { JobBoardObject } from "taskflow-ts/durable-object";
import { LogBooks, RemoteBackend } from "./books.js";
import { boardFor, ConductorObject, type ConductorReport } from "./conductor.js";
import { invoiceFlows, type Line } from "./flows.js";

export { LogBooks, ConductorObject };
/** The job board: a JobBoardObject, its secret read from the JOB_BOARD_SECRET binding. */
export class EdgeBoard extends JobBoardObject<Env> {}

export interface Env {
  EDGE_BOARD: DurableObjectNamespace<EdgeBoard>;
  EDGE_BOOKS: DurableObjectNamespace<LogBooks>;
  EDGE_CONDUCTORS: DurableObjectNamespace<ConductorObject>;
  /** The bearer token of the HTTP API (a secret). */
  API_TOKEN?: string;
  /** The job board's secret: every caller's credential is an HMAC under it (a secret). */
  JOB_BOARD_SECRET?: string;
  /** How many conductor objects a post wakes (default 3). */
  CONDUCTORS?: string;
  /** Over how many JobBoardObjects the jobs are spread (default 1). */
  BOARD_SHARDS?: string;
}

const error = (status: number, code: string, message: string) => Response.json({ error: { code, message } }, { status });
const conductorNames = (env: Env) => Array.from({ length: Number(env.CONDUCTORS ?? 3) }, (_, i) => `conductor-${i + 1}`);

/** Wakes every conductor: each drains the board until it has been idle a while. */
async function wakeConductors(env: Env): Promise<void> {
  await Promise.all(conductorNames(env).map((name) => env.EDGE_CONDUCTORS.getByName(name).wake(name)));
}

async function route(request: Request, env: Env): Promise<Response> {
  const { pathname } = new URL(request.url);
  const books = new RemoteBackend(env.EDGE_BOOKS.getByName("books"));
  const board = await boardFor(env, "api");
  const parts = pathname.split("/").filter(Boolean);
  if (request.method === "POST" && pathname === "/jobs") {
    const body = (await request.json()) as { customer: string; lines: Line[] } | Array<{ customer: string; lines: Line[] }>;
    const posted = [];
    for (const invoice of Array.isArray(body) ? body : [body]) {
      posted.push((await board.post({ flow: "invoice", name: invoice.customer, store: { customer: invoice.customer, lines: invoice.lines } })).uuid);
    }
    await wakeConductors(env);
    return Response.json({ jobs: posted }, { status: 202 });
  }
  if (request.method === "GET" && pathname === "/jobs") {
    const jobs = [];
    for await (const job of board.iterate({ only: "all" })) jobs.push({ uuid: job.uuid, name: job.name, state: job.state, owner: job.owner });
    return Response.json({ jobs });
  }
  if (request.method === "GET" && parts[0] === "jobs" && parts.length === 2) {
    const job = await board.get(parts[1] as string);
    const [detail] = await books.getFlowDetails(job.bookUuid).catch(() => []);
    return Response.json({ job, flow: detail ? await readSnapshot(books, detail.uuid) : undefined });
  }
  if (request.method === "POST" && pathname === "/handoff") {
    const { logBook } = (await request.json()) as { logBook: unknown };
    const data = parsePortableLogBook(logBook);
    const [flow, more] = data.flows;
    if (!flow || more) throw new InvalidFormat(`a handed-over log book must hold exactly one flow detail, not ${data.flows.length}; nothing was imported`);
    const factory = flow.detail.factory;
    if (!factory) throw new InvalidFormat(`flow detail "${flow.detail.uuid}" does not say which flow factory made it (run it with the engine's "factory" option); nothing was imported`);
    await checkDefinition(data, flow.detail.uuid, factory.name, factory.args ?? []);
    await importLogBook(books, data);
    const details: JobDetails = { flow: factory.name, args: factory.args ?? [], name: data.book.name, bookUuid: data.book.uuid, flowUuid: flow.detail.uuid };
    const job = await board.post(details);
    await wakeConductors(env);
    return Response.json({ job: job.uuid }, { status: 202 });
  }
  if (request.method === "GET" && parts[0] === "log-books" && parts.length === 2) {
    return Response.json(await exportLogBook(books, parts[1] as string));
  }
  if (request.method === "GET" && pathname === "/conductors") {
    const reports: ConductorReport[] = await Promise.all(conductorNames(env).map((name) => env.EDGE_CONDUCTORS.getByName(name).report()));
    return Response.json({ conductors: reports });
  }
  return error(404, "NotFound", "try POST /jobs (see examples/edge-board/worker.ts)");
}

/**
 * Refuses a log book that this Worker's definition of its flow cannot resume, before anything is
 * imported or posted: it is loaded into a scratch MemoryBackend and prepared there, which compares
 * the fingerprint it was run with against the definition here.
 * @throws IncompatibleVersion listing the differences; NotFound for a flow this Worker does not know
 */
async function checkDefinition(data: Parameters<typeof importLogBook>[1], flowUuid: string, name: string, args: unknown[]): Promise<void> {
  const scratch = new MemoryBackend();
  await importLogBook(scratch, data);
  await new Engine(invoiceFlows().get(name)(...args), { backend: scratch, flowDetailId: flowUuid }).prepare();
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    if (!env.API_TOKEN) return error(500, "Misconfigured", "API_TOKEN is not set: copy examples/edge-board/.dev.vars.example to .dev.vars (wrangler dev), or `wrangler secret put API_TOKEN`");
    if (request.headers.get("authorization") !== `Bearer ${env.API_TOKEN}`) return error(401, "Unauthorized", 'send "Authorization: Bearer <API_TOKEN>"');
    try {
      return await route(request, env);
    } catch (e) {
      if (e instanceof IncompatibleVersion) return error(409, e.name, e.message);
      if (e instanceof NotFound) return error(404, e.name, e.message);
      if (e instanceof InvalidFormat || e instanceof SyntaxError) return error(400, e.name, e.message);
      if (e instanceof TaskFlowError) return error(409, e.name, e.message);
      throw e;
    }
  },
} satisfies ExportedHandler<Env>;
