// examples/edge-board as deployed: its Worker posts jobs to the JobBoardObject and wakes the
// conductor objects, which claim with their own credentials, run each flow on the shared log
// books and consume the jobs (issue 13, the edge example). Conductors run in their alarms, as
// under wrangler dev; the test polls the Worker's API until the jobs are done.
import { describe, expect, it } from "vitest";
import { reports, send, settled, type JobRow } from "./edge-board-api.js";

const invoice = (customer: string, n: number) => ({ customer, lines: [{ item: "bolts", quantity: n, cents: 250 }, { item: "nuts", quantity: 2, cents: 100 }] });

describe("examples/edge-board", { timeout: 30_000 }, () => {
  it("posts 12 invoices; the conductors drain the board: every job consumed once, every step executed once, each receipt filed", async () => {
    const before = await reports();
    const posted = await send("POST", "/jobs", Array.from({ length: 12 }, (_, i) => invoice(`customer-${i}`, i + 1)));
    expect(posted.status).toBe(202);
    const { jobs } = (await posted.json()) as { jobs: string[] };
    expect(jobs.length).toBe(12);
    const rows = await settled(jobs);
    expect(rows.map((j) => j.state)).toEqual(jobs.map(() => "COMPLETE"));

    for (const [i, uuid] of jobs.entries()) {
      const { flow } = (await (await send("GET", `/jobs/${uuid}`)).json()) as { flow: { state: string; atoms: Array<{ name: string; result: unknown }> } };
      expect(flow.state).toBe("SUCCESS");
      const total = (i + 1) * 250 + 200;
      expect(flow.atoms.find((a) => a.name === "total")?.result).toBe(total);
      expect(flow.atoms.find((a) => a.name === "file")?.result).toMatch(new RegExp(`^customer-${i}/${total}/[0-9a-f]{8}$`));
    }
    const after = await reports();
    expect(after.reduce((n, r) => n + r.consumed, 0) - before.reduce((n, r) => n + r.consumed, 0)).toBe(12);
    // Each step of each flow executed once, whichever conductor ran it.
    const executed = new Map<string, number>();
    for (const report of after) for (const [key, count] of Object.entries(report.executed)) executed.set(key, (executed.get(key) ?? 0) + count);
    for (const report of before) for (const [key, count] of Object.entries(report.executed)) executed.set(key, (executed.get(key) ?? 0) - count);
    const fresh = [...executed.entries()].filter(([, n]) => n !== 0);
    expect(fresh.length).toBe(12 * 3);
    expect(fresh.every(([, n]) => n === 1)).toBe(true);
  });

  it("refuses a request without the token, and posts nothing", async () => {
    const refused = await send("POST", "/jobs", invoice("mallory", 1), {});
    expect(refused.status).toBe(401);
    const { jobs } = (await (await send("GET", "/jobs")).json()) as { jobs: JobRow[] };
    expect(jobs.some((j) => j.name === "mallory")).toBe(false);
  });
});
