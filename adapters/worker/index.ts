/**
 * taskflow-ts/worker: run flows in a Web Worker (or a SharedWorker, where the browser has one)
 * and drive them from the page over Comlink, so a CPU-heavy task never blocks the page. The
 * worker serves named flows with `exposeRunner`; the page connects with `connectRunner`, typed by
 * those flows. Errors keep their class across the boundary; only plain data crosses, checked
 * before it is sent.
 * @example
 * // flows.worker.ts
 * exposeRunner({ flows: { checkout: (cart: string) => checkoutFlow(cart) }, backend: IndexedDbBackend.open("flows") });
 * // the page
 * const runner = connectRunner<Flows>(new Worker(new URL("./flows.worker.ts", import.meta.url), { type: "module" }));
 * await runner.run((await runner.start("checkout", ["cart-1"])).uuid);
 * @module taskflow-ts/worker
 */
export { exposeRunner, RunnerHost, type ExposeRunnerOptions, type FlowFactories, type KeyedFlowRecords, type ResumeOrStartRunnerOptions, type RunnerScope, type RunnerStats, type StartOptions } from "./host.js";
export { connectRunner, RunnerClient, type ResumedOrStarted, type RunnerTarget, type StartArguments } from "./client.js";
export type { AtomTransition, FlowLog, FlowRecords, RunnerEvents, RunnerListeners } from "./wire.js";
export { installTransferHandlers } from "./transfer.js";
export { serveTasks, WorkerPool, WorkerLost, type ServeTasksOptions, type TaskImplementation, type WorkerTaskContext, type WorkerPoolOptions } from "./pool.js";
