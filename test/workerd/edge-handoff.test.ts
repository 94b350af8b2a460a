// A job handed between runtimes (issue 13), the edge's half: see test/e2e/handoff.test.ts. Here,
// in workerd, through examples/edge-board's Worker:
// - the invoice flow half-run at the edge (on the Worker's shared log books) exports, through
//   GET /log-books/<uuid>, as test/fixtures/handoff/edge-half-run.json, which a tab finishes;
// - tab-half-run.json, exported by a tab's IndexedDB, is posted with POST /handoff and finished
//   by the edge's conductors, its first step not run again; a log book run by another definition
//   of the flow is refused with 409 IncompatibleVersion, and nothing is imported or posted.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { RemoteBackend } from "../../examples/edge-board/books.js";
import type { PortableLogBook } from "../../src/jobs/index.js";
import tabHalfRun from "../fixtures/handoff/tab-half-run.json" with { type: "json" };
import tabOtherDefinition from "../fixtures/handoff/tab-half-run-other-definition.json" with { type: "json" };
import { halfRun } from "../fixtures/handoff/half-run.js";
import { reports, send, settled } from "./edge-board-api.js";

describe("a job handed between a tab and the edge", { timeout: 30_000 }, () => {
  it("the edge half-runs the invoice and exports its log book: the fixture a tab finishes", async () => {
    const books = new RemoteBackend(env.EDGE_BOOKS.getByName("books"));
    await halfRun(books, "edge", "globex");
    const response = await send("GET", "/log-books/edge-book");
    expect(response.status).toBe(200);
    const exported = (await response.json()) as PortableLogBook;
    expect(exported.flows[0]?.atoms.map((a) => [a.name, a.state])).toEqual([["total", "SUCCESS"]]);
    await expect(`${JSON.stringify(exported, null, 2)}\n`).toMatchFileSnapshot("../fixtures/handoff/edge-half-run.json");
  });

  it("the edge finishes the invoice a tab half-ran: its first step is not run again", async () => {
    const handed = await send("POST", "/handoff", { logBook: tabHalfRun });
    expect(handed.status).toBe(202);
    const { job } = (await handed.json()) as { job: string };
    expect((await settled([job]))[0]?.state).toBe("COMPLETE");
    const { flow } = (await (await send("GET", `/jobs/${job}`)).json()) as { flow: { uuid: string; state: string; atoms: Array<{ name: string; result: unknown }> } };
    expect(flow.uuid).toBe("tab-flow");
    expect(flow.state).toBe("SUCCESS");
    expect(flow.atoms.find((a) => a.name === "total")?.result).toBe(1400); // the tab's result
    expect(flow.atoms.find((a) => a.name === "file")?.result).toMatch(/^acme\/1400\/[0-9a-f]{8}$/);
    // What ran at the edge: sign and file, once each; total ran in the tab.
    const ran = (await reports()).flatMap((r) => Object.entries(r.executed)).filter(([key]) => key.startsWith("tab-flow:"));
    expect(ran.map(([key, n]) => [key.split(":")[1], n]).sort()).toEqual([["file", 1], ["sign", 1]]);
  });

  it("refuses a log book run by another definition of the flow: 409 IncompatibleVersion, nothing imported, nothing posted", async () => {
    const before = ((await (await send("GET", "/jobs")).json()) as { jobs: unknown[] }).jobs.length;
    const refused = await send("POST", "/handoff", { logBook: tabOtherDefinition });
    expect(refused.status).toBe(409);
    const { error } = (await refused.json()) as { error: { code: string; message: string } };
    expect(error.code).toBe("IncompatibleVersion");
    expect(error.message).toContain('atom "sign": provides changed from [seal] to [signature]');
    expect((await send("GET", "/log-books/tab-other-book")).status).toBe(404);
    expect(((await (await send("GET", "/jobs")).json()) as { jobs: unknown[] }).jobs.length).toBe(before);
  });
});
