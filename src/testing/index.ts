/**
 * taskflow-ts/testing: prove your own flows survive their host dying at any write.
 * @example
 * import { assertCrashSafe } from "taskflow-ts/testing";
 * await assertCrashSafe({ makeFlow: () => myFlow(), store: { userId: "u1" } });
 * @module taskflow-ts/testing
 */
export { checkCrashPoints, assertCrashSafe, CrashSafetyError, type CrashCheckOptions, type CrashProblem, type CrashReport } from "./crash-points.js";
export { FaultyBackend, describe as describeBatch, type CrashMode } from "./faulty-backend.js";
export { ManualClock } from "./manual-clock.js";
