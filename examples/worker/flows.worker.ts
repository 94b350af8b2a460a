// flows.worker.ts: a Web Worker that runs reports; the number crunching never blocks the page.
import { linearFlow, task, waitFor } from "taskflow-ts";
import { IndexedDbBackend } from "taskflow-ts/idb";
import { exposeRunner } from "taskflow-ts/worker";

const flows = {
  report: (year: number) =>
    linearFlow(`report-${year}`, [
      task({
        name: "crunch",
        provides: "total",
        execute: (_args, { updateProgress }) => {
          let total = 0;
          for (let i = 1; i <= 30_000_000; i++) {
            total += i % 7;
            if (i % 3_000_000 === 0) updateProgress(i / 30_000_000);
          }
          return total;
        },
      }),
      waitFor("title", { description: "A title for the report" }),
      task({
        name: "publish",
        requires: ["title", "total"],
        provides: "published",
        execute: ({ title, total }: { title: string; total: number }) => `${title} (${year}): ${total}`,
      }),
    ]),
};
export type Flows = typeof flows; // the page's client is typed by it

exposeRunner({ flows, backend: IndexedDbBackend.open("reports") });
