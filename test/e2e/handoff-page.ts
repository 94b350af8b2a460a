// The page of test/e2e/handoff.test.ts, bundled for Chromium: the invoice flow of
// examples/edge-board half-run in this tab's IndexedDB and exported, and a log book exported at
// the edge imported here and finished by a tab's conductor over the IndexedDB job board.
import { IndexedDbBackend, IndexedDbJobBoard } from "../../adapters/idb/index.js";
import { readSnapshot } from "../../src/index.js";
import { Conductor, importLogBook, type PortableLogBook } from "../../src/jobs/index.js";
import { invoiceFlows } from "../../examples/edge-board/flows.js";
import { halfRun, otherInvoiceFlows } from "../fixtures/handoff/half-run.js";

const params = new URLSearchParams(location.search);
const db = params.get("db") ?? "handoff";

const api = {
  /** Half-runs the invoice here (this app's definition, or the other one) and exports its log book. */
  async halfRun(prefix: string, definition: "same" | "other"): Promise<PortableLogBook> {
    const backend = await IndexedDbBackend.open(`${db}-${prefix}`);
    return halfRun(backend, prefix, "acme", definition === "same" ? invoiceFlows() : otherInvoiceFlows());
  },
  /**
   * Imports a log book exported elsewhere, posts it as a job on this origin's board, and lets a
   * tab's conductor run it (this app's definition, or the other one).
   */
  async finish(logBook: PortableLogBook, definition: "same" | "other") {
    const backend = await IndexedDbBackend.open(`${db}-books`);
    const board = await IndexedDbJobBoard.open(`${db}-jobs`);
    await importLogBook(backend, logBook);
    const flow = logBook.flows[0]?.detail;
    if (!flow?.factory) throw new Error("the log book has no flow detail made by a factory");
    const job = await board.post({ flow: flow.factory.name, args: flow.factory.args ?? [], bookUuid: logBook.book.uuid, flowUuid: flow.uuid });
    const executed: string[] = [];
    const flows = definition === "same" ? invoiceFlows((atom) => executed.push(atom)) : otherInvoiceFlows((atom) => executed.push(atom));
    const conductor = new Conductor({ name: "tab", board, backend, flows });
    let trashed: { name: string; message: string } | undefined;
    conductor.on("trashed", ({ error }) => (trashed = { name: (error as Error).name, message: (error as Error).message }));
    await conductor.run({ maxDispatches: 1 });
    const snapshot = await readSnapshot(backend, flow.uuid);
    return {
      job: (await board.get(job.uuid)).state, executed, trashed,
      flow: snapshot.state, results: Object.fromEntries(snapshot.atoms.map((a) => [a.name, a.result])),
    };
  },
};

(globalThis as unknown as { handoff: typeof api }).handoff = api;
document.body.dataset["ready"] = "true";
