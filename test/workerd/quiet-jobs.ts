import { Jobs } from "../../examples/edge-jobs/jobs.js";

/** The example's Jobs object, without its console log of every step (the tests read the status instead). */
export class QuietJobs extends Jobs {
  protected override observe(): void {}
}
