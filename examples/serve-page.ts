// Serves an example's page on 127.0.0.1 (the wizard, the Web Worker example): its index.html and
// its scripts, each bundled once by esbuild, in memory.
import { build } from "esbuild";
import { readFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { fileURLToPath } from "node:url";

/** A page served until `close()`. */
export interface ServedPage {
  url: string;
  close: () => Promise<void>;
}

/**
 * Serves `index.html` of the folder `dir` at `/`, and each script of `scripts` (served path →
 * entry file in `dir`) bundled for the browser. Port 0: any free port. `api`, if given, sees each
 * request first, and answers those it returns true for (an example's own endpoints).
 */
export async function servePage(dir: URL, scripts: Record<string, string>, port = 0, api?: (req: IncomingMessage, res: ServerResponse) => boolean): Promise<ServedPage> {
  const here = (file: string) => fileURLToPath(new URL(file, dir));
  const bundled = new Map<string, string>();
  for (const [path, entry] of Object.entries(scripts)) {
    const bundle = await build({ entryPoints: [here(entry)], bundle: true, write: false, format: "esm", platform: "browser", target: "es2022", minify: true, logLevel: "silent" });
    bundled.set(path, bundle.outputFiles[0]?.text ?? "");
  }
  const html = await readFile(here("./index.html"), "utf8");
  const server: Server = createServer((req, res) => {
    if (api?.(req, res)) return;
    const path = new URL(req.url ?? "/", "http://x").pathname;
    const script = bundled.get(path);
    if (script !== undefined) res.writeHead(200, { "content-type": "text/javascript" }).end(script);
    else if (path === "/") res.writeHead(200, { "content-type": "text/html" }).end(html);
    else if (path === "/favicon.ico") res.writeHead(204).end();
    else res.writeHead(404).end("not found");
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  const address = server.address();
  const url = `http://127.0.0.1:${typeof address === "object" && address ? address.port : port}/`;
  // Browsers keep connections alive: close them too, or close() waits for them.
  return { url, close: () => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))) };
}

/** Whether `moduleUrl` is the script node was started with (`tsx examples/…/serve.ts`). */
export const isMain = (moduleUrl: string): boolean => process.argv[1] !== undefined && fileURLToPath(moduleUrl) === process.argv[1];
