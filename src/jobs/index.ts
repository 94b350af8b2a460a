/**
 * taskflow-ts/jobs: TaskFlow's distributed half. A job names a flow factory and its inputs and
 * owns a log book; it is posted to a job board, claimed by one conductor at a time (a lease it
 * renews), run, and consumed. Runtime-agnostic: boards for a page's tabs and for the edge build on
 * the {@link JobBoard} port.
 * @module taskflow-ts/jobs
 */
export type { JobBoard, ClaimOptions, WaitOptions } from "./board.js";
export {
  JOB_PRIORITIES, byPriority, checkJobDetails, matches,
  type ClaimUpdate, type Job, type JobClaim, type JobDetails, type JobFilter, type JobPriority, type JobState,
} from "./job.js";
export { MemoryJobBoard, leaseOf, type MemoryJobBoardOptions } from "./memory.js";
export {
  Conductor, BlockingConductor, NonBlockingConductor,
  type ConductorEvents, type ConductorOptions, type ConductorRunOptions,
} from "./conductor.js";
export { exportLogBook, importLogBook, parsePortableLogBook, PORTABLE_LOG_BOOK_VERSION, type PortableLogBook } from "./portable.js";
export { checkClaim, checkOwner, checkUpdates, claimJob, claimJobs, heldJob, jobAt, newJob, nextExpiry, settleJob, updateJobs, waitForJobs, type JobWaitSource } from "./rules.js";
