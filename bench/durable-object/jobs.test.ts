/**
 * Benchmark: jobs per second through the Durable Object job board in workerd.
 *
 *   npm run bench:do   (or: npx vitest run --config bench/durable-object/vitest.config.ts bench/durable-object/jobs.test.ts)
 *
 * N invoice jobs (examples/edge-board's flow: three steps) are posted to a JobBoardObject (or to
 * four, under a ShardedJobBoard), then C conductors (1, 4, 16; each one job at a time, each with
 * its own credential and RPC client) drain them, their log books on one shared LogBooks object
 * over RPC, as in the example. Prints one JSON line per case: jobs_per_s (N over the time from the
 * conductors' start to the N-th consume), claim_ms_median (a successful claim's round trip),
 * board_share (the time in board calls: claim, renew, consume, over that plus the time in the
 * flows, from the first stage to the end of the run, summed over jobs). The conductors of a case
 * share one isolate (the test's); the board and the log books are objects of their own.
 * Figures are from one run each, after a warm-up: noisy on a shared machine.
 */
import { env } from "cloudflare:workers";
import { expect, it } from "vitest";
import { DurableObjectJobBoard, jobBoardCredential, ShardedJobBoard, type JobBoardRpc } from "../../adapters/durable-object/index.js";
import { NonBlockingConductor, type JobBoard } from "../../src/jobs/index.js";
import { RemoteBackend } from "../../examples/edge-board/books.js";
import { invoiceFlows } from "../../examples/edge-board/flows.js";
import { TimedBoard } from "../timed-board.js";

const N = 96;
const now = () => performance.now();


async function boardOf(names: string[], as: string): Promise<JobBoard> {
  const credential = await jobBoardCredential(env.JOB_BOARD_SECRET, as);
  const one = (name: string) => new DurableObjectJobBoard(env.EDGE_BOARD.getByName(name) as unknown as JobBoardRpc, { credential, leaseMs: 60_000 });
  return names.length === 1 ? one(names[0] as string) : new ShardedJobBoard(Object.fromEntries(names.map((name, i) => [`s${i}`, one(name)])));
}

async function run(conductors: number, shards: number, n: number) {
  const id = crypto.randomUUID();
  const names = Array.from({ length: shards }, (_, i) => `${id}-${i}`);
  const producer = await boardOf(names, "producer");
  for (let i = 0; i < n; i++) await producer.post({ flow: "invoice", name: `c${i}`, store: { customer: `c${i}`, lines: [{ item: "bolts", quantity: i + 1, cents: 250 }] } });
  const backend = new RemoteBackend(env.EDGE_BOOKS.getByName(`books-${id}`));
  const boards: TimedBoard[] = [];
  let flowMs = 0;
  let consumed = 0;
  let done: () => void = () => {};
  const all = new Promise<void>((resolve) => (done = resolve));
  const running: NonBlockingConductor[] = [];
  for (let c = 0; c < conductors; c++) {
    const board = new TimedBoard(await boardOf(names, `conductor-${c}`));
    boards.push(board);
    const conductor = new NonBlockingConductor({ name: `conductor-${c}`, board, backend, flows: invoiceFlows(), maxJobs: 1, leaseMs: 60_000 });
    const started = new Map<string, number>();
    conductor.on("stage", ({ job, stage, phase }) => {
      if (stage === "compilation" && phase === "start") started.set(job.uuid, now());
      if (stage === "running" && phase === "end") flowMs += now() - (started.get(job.uuid) ?? now());
    });
    conductor.on("consumed", () => {
      if (++consumed === n) done();
    });
    running.push(conductor);
  }
  const start = now();
  const runs = running.map((c) => c.run());
  await all;
  const ms = now() - start;
  await Promise.all(running.map((c) => c.stop()));
  await Promise.all(runs);
  const boardMs = boards.reduce((s, b) => s + b.boardMs, 0);
  const claims = boards.flatMap((b) => b.claims).sort((a, b) => a - b);
  return { ms, boardMs, flowMs, claimMedian: claims[Math.floor(claims.length / 2)] ?? 0 };
}

const round = (x: number, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits;

it(`durable-object job board: jobs per second, n = ${N}`, { timeout: 600_000 }, async () => {
  await run(2, 1, 16); // warm-up
  for (const [conductors, shards] of [[1, 1], [4, 1], [16, 1], [16, 4]] as const) {
    const r = await run(conductors, shards, N);
    console.log(JSON.stringify({
      board: "durable-object", shards, conductors, jobs: N, ms: round(r.ms, 1), jobs_per_s: round((N * 1000) / r.ms, 1),
      claim_ms_median: round(r.claimMedian), board_share: round(r.boardMs / (r.boardMs + r.flowMs)),
    }));
    expect(r.ms).toBeGreaterThan(0);
  }
});
