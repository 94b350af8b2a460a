import { FlowRunner, type FlowRunnerOptions } from "taskflow-ts/durable-object";
import type { Engine } from "taskflow-ts";
import { jobFlows } from "./provision-tenant.js";
import { TenantRecords } from "./services.js";
import type { Env } from "./worker.js";

/**
 * The Durable Object that runs the jobs: a FlowRunner with the job flows, writing its tenant
 * records beside the log books in its own storage.
 */
export class Jobs extends FlowRunner<Env> {
  protected readonly flows = jobFlows(new TenantRecords(this.ctx.storage.kv));
  // The two providers are called together.
  protected override readonly options: FlowRunnerOptions = { engine: "parallel" };

  /** Prints each step to the wrangler dev console, to follow a job as it runs and resumes. */
  protected override observe(engine: Engine, id: string): void {
    engine.on("atom", (e) => console.log(`[job ${id}] ${e.name}: ${e.oldState} -> ${e.state}${e.failure ? ` (${e.failure.exceptionStr})` : ""}`));
    engine.on("flow", (e) => console.log(`[job ${id}] flow ${e.state}`));
  }
}
