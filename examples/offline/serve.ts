// Serves the offline-first example on 127.0.0.1: `npm run offline` (then open the printed
// address in two tabs). The server stands for the site's backend: POST /uploads receives a
// submission and answers with a receipt number.
import type { IncomingMessage, ServerResponse } from "node:http";
import { isMain, servePage, type ServedPage } from "../serve-page.js";
import { UPLOADS_PATH } from "./flows.js";

/** One upload the server received. */
export interface Upload {
  name: string;
  message: string;
  digest: string;
  idempotencyKey: string;
}

/** The served page, and every upload received, in order (the e2e test counts them). */
export interface OfflineServer extends ServedPage {
  uploads: Upload[];
}

/** Bundles the page (esbuild, in memory) and serves it with its upload endpoint. */
export async function startOfflineServer(port = 0): Promise<OfflineServer> {
  const uploads: Upload[] = [];
  const receive = (req: IncomingMessage, res: ServerResponse): boolean => {
    if (req.method !== "POST" || new URL(req.url ?? "/", "http://x").pathname !== UPLOADS_PATH) return false;
    let body = "";
    req.on("data", (chunk: Buffer) => (body += chunk.toString()));
    req.on("end", () => {
      const upload = { ...(JSON.parse(body) as Omit<Upload, "idempotencyKey">), idempotencyKey: String(req.headers["idempotency-key"]) };
      uploads.push(upload);
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ receipt: uploads.length }));
    });
    return true;
  };
  const page = await servePage(new URL(".", import.meta.url), { "/app.js": "./app.ts" }, port, receive);
  return { ...page, uploads };
}

if (isMain(import.meta.url)) {
  const { url } = await startOfflineServer(Number(process.env.PORT ?? 5175));
  console.log(`offline-first submissions on ${url} (Ctrl-C to stop)`);
}
