// flows.ts: the flow the edge conductors run, in web-standard TypeScript only, so that a tab
// (IndexedDB) and a Worker (Durable Objects) run the same definition: a job started in one can
// be finished in the other (its log book exported and imported), and the fingerprint in the log
// book refuses a definition that changed in between.
import { FlowRegistry, linearFlow, task } from "taskflow-ts";

/** One line of an invoice. */
export interface Line {
  item: string;
  quantity: number;
  cents: number;
}

/**
 * The flows: "invoice" totals the lines, signs the total (SHA-256 of customer and total) and files
 * it. `executed(atom, idempotencyKey)` is told of every execution, so a host can count them.
 */
export function invoiceFlows(executed: (atom: string, idempotencyKey: string) => void = () => {}): FlowRegistry {
  return new FlowRegistry().register("invoice", () =>
    linearFlow("invoice",
      task({
        name: "total", requires: ["lines"], provides: "total",
        execute: ({ lines }: { lines: Line[] }, ctx) => {
          executed("total", ctx.idempotencyKey);
          return lines.reduce((sum, line) => sum + line.quantity * line.cents, 0);
        },
      }),
      task({
        name: "sign", requires: ["customer", "total"], provides: "signature",
        execute: async ({ customer, total }: { customer: string; total: number }, ctx) => {
          executed("sign", ctx.idempotencyKey);
          const hash = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(`${customer}:${total}`)));
          return [...hash].map((b) => b.toString(16).padStart(2, "0")).join("");
        },
      }),
      task({
        name: "file", requires: ["customer", "total", "signature"], provides: "receipt",
        execute: ({ customer, total, signature }: { customer: string; total: number; signature: string }, ctx) => {
          executed("file", ctx.idempotencyKey);
          return `${customer}/${total}/${signature.slice(0, 8)}`;
        },
      }),
    ));
}
