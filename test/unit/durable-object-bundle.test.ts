import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { unstable_startWorker } from "wrangler";

// The workerd test project cannot show this: its runner turns Node.js compatibility on for
// itself. Here wrangler bundles and runs a Worker as `wrangler dev` would, without nodejs_compat.
const config = fileURLToPath(new URL("../workerd/no-node-compat/wrangler.jsonc", import.meta.url));

/** Rejects after `ms` with `message`: a request to a Worker that failed to load never returns. */
function within<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(message)), ms)));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

describe("the core with the Durable Object adapter, as a Worker", () => {
  it("bundles and runs a flow on a Durable Object's storage without nodejs_compat", async () => {
    // logLevel "error": a module the runtime cannot load (`No such module "node:…"`) is printed.
    const starting = unstable_startWorker({ config, dev: { persist: false, inspector: false, logLevel: "error", server: { port: 0 } } });
    const answered = starting.then(async (worker) => (await worker.ready, worker.fetch("http://worker/")));
    try {
      const response = await within(answered, 20_000, "the Worker did not answer within 20 s: see the error above (a node: import in the core or the adapter?)");
      expect(response.status, await response.clone().text()).toBe(200);
      expect(await response.json()).toEqual({
        results: { price: 21, total: 42, receipt: "paid 42" },
        states: ["SUCCESS"],
        nodeGlobals: "undefined", // Node.js compatibility really is off in there
      });
    } finally {
      void starting.then((worker) => worker.dispose());
    }
  }, 60_000);
});
