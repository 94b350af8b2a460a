// The page of bench/jobs.ts, bundled for Chromium: one tab among several of one context, sharing
// an IndexedDbJobBoard and log books in IndexedDB. The first tab posts the jobs; on "go" (over a
// BroadcastChannel) every tab runs a conductor (one job at a time) until all are consumed.
import { IndexedDbBackend, IndexedDbJobBoard } from "../adapters/idb/index.js";
import { Conductor, type JobBoard } from "../src/jobs/index.js";
import { invoiceFlows } from "../examples/edge-board/flows.js";
import { TimedBoard } from "./timed-board.js";

/** What one tab measured. */
export interface JobsFigure {
  consumed: number;
  /** ms from "go" to the last consume heard (all tabs'), in the first tab. */
  ms: number;
  boardMs: number;
  flowMs: number;
  claims: number[];
}

const params = new URLSearchParams(location.search);
const db = params.get("db") ?? "bench-jobs";
const tab = params.get("tab") ?? "0";
const channel = new BroadcastChannel(`bench-jobs/${db}`);


const inner = await IndexedDbJobBoard.open(`${db}-jobs`, { leaseMs: 60_000 });
const board = new TimedBoard(inner);
const backend = await IndexedDbBackend.open(`${db}-books`);
let consumedAll = 0;
let total = Infinity;
let started = 0;
let finished: (ms: number) => void = () => {};
const allDone = new Promise<number>((resolve) => (finished = resolve));
const count = () => {
  if (++consumedAll === total) finished(performance.now() - started);
};
let go: () => void = () => {};
const going = new Promise<void>((resolve) => (go = resolve));
channel.onmessage = (e: MessageEvent<{ type: "go"; total: number } | { type: "consumed" }>) => {
  if (e.data.type === "go") {
    total = e.data.total;
    started = performance.now();
    go();
  } else count();
};

const conductor = new Conductor({ name: `tab-${tab}`, board, backend, flows: invoiceFlows(), maxJobs: 1, leaseMs: 60_000 });
let flowMs = 0;
let mine = 0;
const stages = new Map<string, number>();
conductor.on("stage", ({ job, stage, phase }) => {
  if (stage === "compilation" && phase === "start") stages.set(job.uuid, performance.now());
  if (stage === "running" && phase === "end") flowMs += performance.now() - (stages.get(job.uuid) ?? performance.now());
});
conductor.on("consumed", () => {
  mine++;
  channel.postMessage({ type: "consumed" });
  count();
});

const api = {
  async post(n: number): Promise<void> {
    for (let i = 0; i < n; i++) await inner.post({ flow: "invoice", name: `c${i}`, store: { customer: `c${i}`, lines: [{ item: "bolts", quantity: i + 1, cents: 250 }] } });
  },
  /** Starts every tab's conductor (this one's too) and resolves when all `n` jobs are consumed. */
  async start(n: number): Promise<number> {
    total = n;
    started = performance.now();
    channel.postMessage({ type: "go", total: n });
    go();
    return allDone;
  },
  /** Runs this tab's conductor once "go" is heard, until it is told to stop. */
  async conduct(): Promise<void> {
    await going;
    await conductor.run();
  },
  async stop(): Promise<JobsFigure> {
    await conductor.stop();
    return { consumed: mine, ms: 0, boardMs: board.boardMs, flowMs, claims: board.claims };
  },
};
(globalThis as unknown as { jobsBench: typeof api }).jobsBench = api;
document.body.dataset["ready"] = "true";
