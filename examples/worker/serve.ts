// Serves the Web Worker example on 127.0.0.1: `npm run worker-example` (then open the printed address).
import { isMain, servePage, type ServedPage } from "../serve-page.js";

/** Bundles the page's script and the worker's (esbuild, in memory) and serves them with the HTML. */
export function startWorkerExampleServer(port = 0): Promise<ServedPage> {
  return servePage(new URL(".", import.meta.url), { "/main.js": "./main.ts", "/flows.worker.js": "./flows.worker.ts" }, port);
}

if (isMain(import.meta.url)) {
  const { url } = await startWorkerExampleServer(Number(process.env.PORT ?? 5174));
  console.log(`Web Worker example on ${url} (Ctrl-C to stop)`);
}
