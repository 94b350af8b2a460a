// Serves the wizard on 127.0.0.1: `npm run wizard` (then open the printed address).
import { isMain, servePage, type ServedPage } from "../serve-page.js";

/** Bundles the page's script and the worker's once (esbuild, in memory) and serves them with the HTML. */
export function startWizardServer(port = 0): Promise<ServedPage> {
  return servePage(new URL(".", import.meta.url), { "/app.js": "./app.ts", "/booking.worker.js": "./booking.worker.ts" }, port);
}

if (isMain(import.meta.url)) {
  const { url } = await startWizardServer(Number(process.env.PORT ?? 5173));
  console.log(`booking wizard on ${url} (Ctrl-C to stop)`);
}
