/**
 * taskflow-ts/durable-object: log books in a Durable Object's SQLite-backed storage, so flows
 * run at the edge and resume after the object is evicted or restarted.
 * @example
 * import { DurableObjectBackend } from "taskflow-ts/durable-object";
 * const backend = new DurableObjectBackend(this.ctx.storage);
 * @example
 * import { FlowRunner } from "taskflow-ts/durable-object";
 * export class Jobs extends FlowRunner<Env> { protected readonly flows = registry; }
 * @example
 * import { DurableObjectLockService } from "taskflow-ts/durable-object"; // and export { LockObject } from the Worker
 * const lock = new DurableObjectLockService(env.LOCKS.getByName("flows"));
 * @example
 * import { DurableObjectJobBoard, jobBoardCredential } from "taskflow-ts/durable-object"; // and export { JobBoardObject }
 * const board = new DurableObjectJobBoard(env.JOB_BOARD.getByName("jobs"), { credential: await jobBoardCredential(env.JOB_BOARD_SECRET, "conductor-1") });
 * @example
 * import { EdgeExecutor, TaskEntrypoint } from "taskflow-ts/durable-object"; // a FlowRunner's tasks run in another Worker
 * protected override readonly options = { executor: EdgeExecutor.service(this.env.TASKS) };
 * @module taskflow-ts/durable-object
 */
export { DurableObjectBackend, type SqliteStorage } from "./backend.js";
export { FlowRunner, type FlowRunnerOptions, type Started } from "./flow-runner.js";
export type { AtomStatus, Cloneable, FlowLog, FlowStatus, Wire } from "./runner-status.js";
export type { Json } from "./runner-requests.js";
export { DurableObjectLockService, LockObject, type DurableObjectLockOptions, type Grant, type GrantOptions, type LockObjectRpc } from "./lock-object.js";
export {
  DurableObjectJobBoard, JobBoardObject, jobBoardCredential,
  type DurableObjectJobBoardOptions, type JobBoardCredential, type JobBoardReply, type JobBoardRpc,
} from "./job-board.js";
export { ShardedJobBoard, type ShardedJobBoardOptions } from "./sharded-board.js";
export { EdgeExecutor, WorkerLost, type EdgeExecutorOptions, type EdgeRoute, type TaskService } from "./edge-executor.js";
export { TaskEntrypoint, TaskObject, runTask, type EdgeTaskImplementation } from "./task-service.js";
