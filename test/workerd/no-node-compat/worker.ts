// A Worker bundled and run by wrangler as a user would deploy it, on a compatibility date before
// Node.js compatibility became the default (2026-08-04) and without the nodejs_compat flag: a
// `node:` import anywhere in the core or the adapter would fail to load here. Driven by
// test/unit/durable-object-bundle.test.ts.
import { DurableObject } from "cloudflare:workers";
import { DurableObjectBackend } from "../../../adapters/durable-object/index.js";
import { linearFlow, run, task } from "../../../src/index.js";

export class Checkout extends DurableObject {
  override async fetch(): Promise<Response> {
    const backend = new DurableObjectBackend(this.ctx.storage);
    const flow = linearFlow(
      "checkout",
      task({ name: "quote", requires: ["price"], provides: "total", execute: ({ price }: { price: number }) => price * 2 }),
      task({ name: "charge", requires: ["total"], provides: "receipt", execute: ({ total }: { total: number }) => `paid ${total}` }),
    );
    const results = await run(flow, { backend, store: { price: 21 } });
    const [book] = await backend.listLogBooks();
    const states = book ? (await backend.getFlowDetails(book.uuid)).map((f) => f.state) : [];
    return Response.json({ results, states, nodeGlobals: typeof (globalThis as { process?: unknown }).process });
  }
}

interface Env {
  CHECKOUT: DurableObjectNamespace<Checkout>;
}

export default {
  fetch: (_request: Request, env: Env): Promise<Response> => env.CHECKOUT.get(env.CHECKOUT.idFromName("one")).fetch("http://checkout/"),
} satisfies ExportedHandler<Env>;
