// Serves the wizard on 127.0.0.1: `npm run wizard` (then open the printed address).
import { build } from "esbuild";
import { readFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { fileURLToPath } from "node:url";

const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));

/** Bundles the page's script once (esbuild, in memory) and serves it with the HTML. */
export async function startWizardServer(port = 0): Promise<{ url: string; close: () => Promise<void> }> {
  const bundle = await build({
    entryPoints: [here("./app.ts")],
    bundle: true,
    write: false,
    format: "esm",
    platform: "browser",
    target: "es2022",
    minify: true,
    logLevel: "silent",
  });
  const script = bundle.outputFiles[0]?.text ?? "";
  const html = await readFile(here("./index.html"), "utf8");
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://x").pathname;
    if (path === "/app.js") res.writeHead(200, { "content-type": "text/javascript" }).end(script);
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

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { url } = await startWizardServer(Number(process.env.PORT ?? 5173));
  console.log(`booking wizard on ${url} (Ctrl-C to stop)`);
}
