import { FlowRegistry, linearFlow, MemoryBackend, task } from "taskflow-ts";
import { Conductor, MemoryJobBoard } from "taskflow-ts/jobs";

const flows = new FlowRegistry().register("resize", (size: number) =>
  linearFlow("resize",
    task({ name: "fetch", requires: ["url"], provides: "image", execute: ({ url }: { url: string }) => ({ url, bytes: 1000 }) }),
    task({ name: "shrink", requires: ["image"], provides: "thumbnail", execute: ({ image }: { image: { url: string } }) => `${image.url}@${size}px` }),
  ));
const board = new MemoryJobBoard(); // or a board shared by tabs, or at the edge
const backend = new MemoryBackend(); // where each job's log book lives

await board.post({ name: "cat", flow: "resize", args: [64], store: { url: "/cat.png" }, priority: "HIGH" });
const conductor = new Conductor({ name: "worker-1", board, backend, flows, leaseMs: 30_000 });
conductor.on("consumed", ({ job, state }) => console.log(`${job.name}: ${state}`)); // "cat: SUCCESS"
await conductor.run({ maxDispatches: 1 }); // claims, runs (renewing its lease), consumes
