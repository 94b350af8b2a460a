// The bindings of wrangler.jsonc, as `env` from "cloudflare:workers" sees them.
import type { BenchHost } from "./bench-host.js";
import type { EdgeBoard, LogBooks } from "../../examples/edge-board/worker.js";

declare global {
  namespace Cloudflare {
    interface Env {
      BENCH_HOST: DurableObjectNamespace<BenchHost>;
      EDGE_BOARD: DurableObjectNamespace<EdgeBoard>;
      EDGE_BOOKS: DurableObjectNamespace<LogBooks>;
      JOB_BOARD_SECRET: string;
    }
  }
}
