// The main module of the benchmark Worker (wrangler.jsonc).
export { BenchHost } from "./bench-host.js";

export default {
  fetch: (): Response => new Response("taskflow-ts Durable Object benchmark: nothing to serve", { status: 404 }),
} satisfies ExportedHandler;
