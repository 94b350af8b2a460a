// The bindings of wrangler.jsonc, as `env` from "cloudflare:workers" sees them.
import type { BackendHost } from "./backend-host.js";
import type { FlowHost } from "./flow-host.js";
import type { LegacyKvHost } from "./legacy-kv-host.js";
import type { QuietJobs } from "./quiet-jobs.js";
import type { TestLocks } from "./lock-host.js";
import type { TestJobBoard } from "./job-board-host.js";
import type { TestRunner } from "./runner-host.js";
import type { ConductorObject, EdgeBoard, LogBooks } from "../../examples/edge-board/worker.js";
import type { EdgeRunner, TaskLedger, TestSimpleLinear, TestTaskObjects, TestTasks } from "./edge-hosts.js";
import type { SimpleLinearTasks } from "../../examples/edge-executor/simple-linear.js";

declare global {
  namespace Cloudflare {
    interface Env {
      BACKEND_HOST: DurableObjectNamespace<BackendHost>;
      FLOW_HOST: DurableObjectNamespace<FlowHost>;
      LEGACY_KV_HOST: DurableObjectNamespace<LegacyKvHost>;
      FLOW_RUNNER: DurableObjectNamespace<TestRunner>;
      /** The example's Jobs object (examples/edge-jobs), as its Worker reaches it. */
      JOBS: DurableObjectNamespace<QuietJobs>;
      /** The LockObject, with a clock the tests move. */
      LOCKS: DurableObjectNamespace<TestLocks>;
      /** The JobBoardObject, with a clock the tests set. */
      JOB_BOARD: DurableObjectNamespace<TestJobBoard>;
      /** examples/edge-board: its job board, shared log books and conductors. */
      EDGE_BOARD: DurableObjectNamespace<EdgeBoard>;
      EDGE_BOOKS: DurableObjectNamespace<LogBooks>;
      EDGE_CONDUCTORS: DurableObjectNamespace<ConductorObject>;
      /** A FlowRunner whose tasks run remotely (edge-hosts.ts). */
      EDGE_RUNNER: DurableObjectNamespace<EdgeRunner>;
      /** The remote Worker of the edge executor: this Worker's TestTasks entrypoint. */
      TASKS: Service<TestTasks>;
      /** The pool of TaskObjects of the edge executor. */
      TASK_OBJECTS: DurableObjectNamespace<TestTaskObjects>;
      /** Where the remote ends count what reached them. */
      LEDGER: DurableObjectNamespace<TaskLedger>;
      /** The example examples/edge-executor: its runner and its tasks Worker. */
      SIMPLE_LINEAR: DurableObjectNamespace<TestSimpleLinear>;
      SIMPLE_TASKS: Service<SimpleLinearTasks>;
      API_TOKEN: string;
      JOB_BOARD_SECRET: string;
    }
  }
}
