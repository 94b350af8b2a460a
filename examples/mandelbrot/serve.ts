// Serves the Mandelbrot example on 127.0.0.1: `npm run mandelbrot` (then open the printed address).
import { isMain, servePage, type ServedPage } from "../serve-page.js";

/** Bundles the page's script and the pool's worker (esbuild, in memory) and serves them with the HTML. */
export function startMandelbrotServer(port = 0): Promise<ServedPage> {
  return servePage(new URL(".", import.meta.url), { "/main.js": "./main.ts", "/mandelbrot.worker.js": "./mandelbrot.worker.ts" }, port);
}

if (isMain(import.meta.url)) {
  const { url } = await startMandelbrotServer(Number(process.env.PORT ?? 5175));
  console.log(`Mandelbrot example on ${url} (Ctrl-C to stop)`);
}
