// The bindings of wrangler.jsonc, as `env` from "cloudflare:workers" sees them.
declare namespace Cloudflare {
  interface Env {
    BACKEND_HOST: DurableObjectNamespace<import("./backend-host.js").BackendHost>;
    FLOW_HOST: DurableObjectNamespace<import("./flow-host.js").FlowHost>;
  }
}
