// conductor.ts: a conductor at the edge, one Durable Object per conductor name. Woken (by the
// Worker after a post, or by its own alarm), it claims jobs from the board with the credential of
// its own name and runs them (up to 4 at once, renewing each claim) until the board has had no
// job for it for IDLE_MS; if jobs are still held by others then (one of them may die), it looks
// again a lease later. Its log books are the shared LogBooks object's.
import { DurableObject } from "cloudflare:workers";
import { NotFound } from "taskflow-ts";
import { DurableObjectJobBoard, ShardedJobBoard, jobBoardCredential, type JobBoardRpc } from "taskflow-ts/durable-object";
import { NonBlockingConductor, type ClaimOptions, type ClaimUpdate, type Job, type JobBoard, type JobClaim, type JobDetails, type JobFilter, type WaitOptions } from "taskflow-ts/jobs";
import { RemoteBackend } from "./books.js";
import { invoiceFlows } from "./flows.js";
import type { Env } from "./worker.js";

/** How long a conductor waits for a job before it sleeps (ms). */
const IDLE_MS = 2_000;
/** Each claim's lease (ms): renewed every third of it while its flow runs. */
const LEASE_MS = 30_000;

/**
 * The board as a Worker sees it: one JobBoardObject, or `BOARD_SHARDS` of them under one
 * ShardedJobBoard. `name` is the caller's: its credential is made from the secret here, where
 * the secret is kept (split the conductors into a Worker of their own and give each its
 * credential as a secret instead).
 */
export async function boardFor(env: Env, name: string): Promise<JobBoard> {
  if (!env.JOB_BOARD_SECRET) throw new Error("JOB_BOARD_SECRET is not set: copy examples/edge-board/.dev.vars.example to .dev.vars (wrangler dev), or `wrangler secret put JOB_BOARD_SECRET`");
  const credential = await jobBoardCredential(env.JOB_BOARD_SECRET, name);
  const one = (shard: string) => new DurableObjectJobBoard(env.EDGE_BOARD.getByName(shard) as unknown as JobBoardRpc, { credential, leaseMs: LEASE_MS });
  const shards = Number(env.BOARD_SHARDS ?? 1);
  return shards > 1 ? new ShardedJobBoard(Object.fromEntries(Array.from({ length: shards }, (_, i) => [`s${i}`, one(`jobs-${i}`)]))) : one("jobs");
}

/** A board whose `wait` gives up after `idleMs` with NotFound: the conductor's run then ends. */
class IdleBoard implements JobBoard {
  constructor(private readonly inner: JobBoard, private readonly idleMs: number) {}
  post(details: JobDetails): Promise<Job> { return this.inner.post(details); }
  get(uuid: string): Promise<Job> { return this.inner.get(uuid); }
  iterate(filter?: JobFilter): AsyncIterable<Job> { return this.inner.iterate(filter); }
  claim(uuid: string, owner: string, options?: ClaimOptions): Promise<JobClaim> { return this.inner.claim(uuid, owner, options); }
  claimMany(uuids: string[], owner: string, options?: ClaimOptions): Promise<JobClaim[]> { return this.inner.claimMany(uuids, owner, options); }
  renew(claim: JobClaim, options?: ClaimOptions): Promise<JobClaim> { return this.inner.renew(claim, options); }
  updateMany(updates: ClaimUpdate[], options?: ClaimOptions): Promise<Array<JobClaim | undefined>> { return this.inner.updateMany(updates, options); }
  consume(claim: JobClaim): Promise<void> { return this.inner.consume(claim); }
  abandon(claim: JobClaim): Promise<void> { return this.inner.abandon(claim); }
  trash(claim: JobClaim): Promise<void> { return this.inner.trash(claim); }
  wait(options: WaitOptions = {}): Promise<Job[]> { return this.inner.wait({ ...options, timeoutMs: this.idleMs }); }
  close(): Promise<void> { return this.inner.close(); }
}

/** What a conductor did, for GET /conductors and the tests. */
export interface ConductorReport {
  name: string;
  consumed: number;
  trashed: Array<{ job: string; error: string }>;
  /** Executions of each atom, by idempotency key (one per atom of each flow detail). */
  executed: Record<string, number>;
}

/** One conductor: `wake(name)` starts it draining the board (in its alarm). */
export class ConductorObject extends DurableObject<Env> {
  #draining = false;

  /** Starts draining at once (if it is not already). */
  async wake(name: string): Promise<void> {
    this.ctx.storage.kv.put("name", name);
    if (!this.#draining) await this.ctx.storage.setAlarm(Date.now());
  }

  override async alarm(): Promise<void> {
    const name = this.ctx.storage.kv.get<string>("name");
    if (name === undefined || this.#draining) return;
    this.#draining = true;
    try {
      const kv = this.ctx.storage.kv;
      const board = await boardFor(this.env, name);
      const conductor = new NonBlockingConductor({
        name, board: new IdleBoard(board, IDLE_MS), backend: new RemoteBackend(this.env.EDGE_BOOKS.getByName("books")),
        flows: invoiceFlows((atom, key) => kv.put(`executed:${key}`, (kv.get<number>(`executed:${key}`) ?? 0) + 1)),
        maxJobs: 4, leaseMs: LEASE_MS,
      });
      conductor.on("consumed", () => kv.put("consumed", (kv.get<number>("consumed") ?? 0) + 1));
      conductor.on("trashed", ({ job, error }) => kv.put(`trashed:${job.uuid}`, `${(error as Error).name}: ${(error as Error).message}`));
      conductor.on("error", ({ error }) => {
        if (!(error instanceof NotFound)) console.error(`conductor ${name}:`, error); // NotFound: the board was idle
      });
      await conductor.run();
      // Jobs held by others may come back (their holder died): look again a lease later.
      for await (const job of board.iterate()) {
        void job;
        await this.ctx.storage.setAlarm(Date.now() + LEASE_MS);
        break;
      }
    } finally {
      this.#draining = false;
    }
  }

  /** What this conductor did. */
  report(): ConductorReport {
    const kv = this.ctx.storage.kv;
    const executed: Record<string, number> = {};
    for (const [key, count] of kv.list<number>({ prefix: "executed:" })) executed[key.slice("executed:".length)] = count;
    const trashed = [...kv.list<string>({ prefix: "trashed:" })].map(([key, error]) => ({ job: key.slice("trashed:".length), error }));
    return { name: kv.get<string>("name") ?? "", consumed: kv.get<number>("consumed") ?? 0, trashed, executed };
  }
}
