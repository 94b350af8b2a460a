// TaskFlow's jobboard_produce_consume_colors, ported: producers post jobs (a color each) to a
// job board; conductors claim them, run each job's flow and consume it. Every job is run by one
// conductor, whichever claims it first. `npm run jobs-colors`
import { fileURLToPath } from "node:url";
import { FlowRegistry, linearFlow, MemoryBackend, task } from "taskflow-ts";
import { Conductor, MemoryJobBoard, type JobBoard } from "taskflow-ts/jobs";

const COLORS = ["red", "blue", "green", "yellow", "purple", "orange", "white", "black"];

/** The flow each job names: mix a color, then paint with it. */
export const flows = new FlowRegistry().register("paint", (color: string) =>
  linearFlow(`paint-${color}`,
    task({ name: "mix", requires: ["wall"], provides: "paint", execute: ({ wall }: { wall: string }) => ({ color, liters: wall.length }) }),
    task({ name: "paint", requires: ["paint", "wall"], provides: "report", execute: ({ paint, wall }: { paint: { color: string; liters: number }; wall: string }) => `painted ${wall} ${paint.color} (${paint.liters} l)` }),
  ));

/** One producer: posts `count` jobs, a color each. */
async function produce(board: JobBoard, name: string, count: number, log: (line: string) => void): Promise<void> {
  for (let i = 0; i < count; i++) {
    const color = COLORS[(Number(name.at(-1)) * 5 + i * 3) % COLORS.length] as string;
    const job = await board.post({ name: `${name}: ${color} #${i}`, flow: "paint", args: [color], store: { wall: `wall ${i} of ${name}` }, priority: i === 0 ? "HIGH" : "NORMAL" });
    log(`${name} posted ${job.name}`);
  }
}

/** Runs `producers` producers posting `jobs` jobs each, and `workers` conductors until every job is consumed. */
export async function main(options: { producers?: number; workers?: number; jobs?: number; log?: (line: string) => void } = {}): Promise<string[]> {
  const { producers = 2, workers = 3, jobs = 5, log = console.log } = options;
  const board = new MemoryJobBoard();
  const backend = new MemoryBackend();
  const reports: string[] = [];
  const total = producers * jobs;
  let left = total;
  let allDone!: () => void;
  const done = new Promise<void>((resolve) => (allDone = resolve));
  const conductors = Array.from({ length: workers }, (_, i) => {
    const name = `worker-${i + 1}`;
    const conductor = new Conductor({ name, board, backend, flows, onEngine: (engine) => engine.on("atom", (e) => {
      if (e.name === "paint" && e.state === "SUCCESS") reports.push(`${name} ${String(e.result)}`);
    }) });
    conductor.on("claimed", ({ job }) => log(`${name} claimed ${job.name}`));
    conductor.on("consumed", ({ job }) => {
      log(`${name} consumed ${job.name}`);
      if (--left === 0) allDone();
    });
    return conductor;
  });
  const running = conductors.map((c, i) => c.run().catch((e: unknown) => log(`worker-${i + 1} failed: ${String(e)}`)));
  await Promise.all(Array.from({ length: producers }, (_, i) => produce(board, `producer-${i + 1}`, jobs, log)));
  await done;
  await Promise.all(conductors.map((c) => c.stop()));
  await Promise.all(running);
  for (const line of reports) log(line);
  log(`${total} jobs posted, ${total} consumed, each by one worker`);
  return reports;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await main();
