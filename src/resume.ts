/**
 * taskflow-ts/resume: start or resume a flow by a user key, in one call, for a page that reloads,
 * a tab that opens or a worker that restarts (`resumeOrStart`). The key lives in the backend with
 * the log books (memory, IndexedDB, Durable Object), so workers, which have no localStorage, find
 * it too. A subpath of its own, so that apps that keep flow ids themselves do not bundle it.
 * @example
 * import { resumeOrStart } from "taskflow-ts/resume";
 * const { engine, outcome } = await resumeOrStart("signup", () => signupFlow(), { backend });
 * if (outcome !== "finished") await engine.run();
 * @module taskflow-ts/resume
 */
export { resumeOrStart, type ResumeOrStartOptions, type ResumeOrStartResult } from "./engine/resume.js";
