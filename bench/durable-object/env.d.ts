// The bindings of wrangler.jsonc, as `env` from "cloudflare:workers" sees them.
import type { BenchHost } from "./bench-host.js";

declare global {
  namespace Cloudflare {
    interface Env {
      BENCH_HOST: DurableObjectNamespace<BenchHost>;
    }
  }
}
