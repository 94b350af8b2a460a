// The main module of the workerd test Worker (wrangler.jsonc): the Durable Objects under test.
export { BackendHost } from "./backend-host.js";
export { FlowHost } from "./flow-host.js";
export { LegacyKvHost } from "./legacy-kv-host.js";
export { TestRunner } from "./runner-host.js";
export { QuietJobs } from "./quiet-jobs.js";
export { TestLocks } from "./lock-host.js";
export { TestJobBoard } from "./job-board-host.js";
export { EdgeBoard, LogBooks, ConductorObject } from "../../examples/edge-board/worker.js";
export { EdgeRunner, TaskLedger, TestSimpleLinear, TestTaskObjects, TestTasks } from "./edge-hosts.js";
export { SimpleLinearTasks } from "../../examples/edge-executor/simple-linear.js";

export default {
  fetch: (): Response => new Response("taskflow-ts workerd tests: nothing to serve", { status: 404 }),
} satisfies ExportedHandler;
