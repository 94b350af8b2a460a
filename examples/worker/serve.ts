// Serves the Web Worker example on 127.0.0.1: `npm run worker-example` (then open the printed address).
import { build } from "esbuild";
import { readFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { fileURLToPath } from "node:url";

const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));

/** Bundles the page's script and the worker's (esbuild, in memory) and serves them with the HTML. */
export async function startWorkerExampleServer(port = 0): Promise<{ url: string; close: () => Promise<void> }> {
  const scripts = new Map<string, string>();
  for (const [path, entry] of [["/main.js", "./main.ts"], ["/flows.worker.js", "./flows.worker.ts"]] as const) {
    const bundle = await build({ entryPoints: [here(entry)], bundle: true, write: false, format: "esm", platform: "browser", target: "es2022", minify: true, logLevel: "silent" });
    scripts.set(path, bundle.outputFiles[0]?.text ?? "");
  }
  const html = await readFile(here("./index.html"), "utf8");
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://x").pathname;
    const script = scripts.get(path);
    if (script !== undefined) res.writeHead(200, { "content-type": "text/javascript" }).end(script);
    else if (path === "/") res.writeHead(200, { "content-type": "text/html" }).end(html);
    else res.writeHead(404).end("not found");
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  const address = server.address();
  const url = `http://127.0.0.1:${typeof address === "object" && address ? address.port : port}/`;
  return { url, close: () => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))) };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { url } = await startWorkerExampleServer(Number(process.env.PORT ?? 5174));
  console.log(`Web Worker example on ${url} (Ctrl-C to stop)`);
}
