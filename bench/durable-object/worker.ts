// The main module of the benchmark Worker (wrangler.jsonc).
export { BenchHost } from "./bench-host.js";
// The job board and shared log books of examples/edge-board, for the jobs-per-second cases (jobs.test.ts).
export { EdgeBoard, LogBooks } from "../../examples/edge-board/worker.js";

export default {
  fetch: (): Response => new Response("taskflow-ts Durable Object benchmark: nothing to serve", { status: 404 }),
} satisfies ExportedHandler;
