// Portable log books (issue 13, item 4): a flow started on one backend, exported to JSON,
// imported into another, and finished there by a conductor; bad imports refused whole.
import { describe, expect, it } from "vitest";
import { Duplicate, FlowRegistry, IncompatibleVersion, InvalidFormat, linearFlow, MemoryBackend, readSnapshot, task } from "../../src/index.js";
import { Conductor, exportLogBook, importLogBook, MemoryJobBoard, parsePortableLogBook, type PortableLogBook } from "../../src/jobs/index.js";
import { ManualClock } from "../../src/testing/index.js";

function registry(counts: Record<string, number>, extra = false) {
  const step = (name: string) => task({ name, provides: name, execute: () => ((counts[name] = (counts[name] ?? 0) + 1), `${name} done`) });
  return new FlowRegistry().register("two", () => linearFlow("two", step("first"), step("second"), ...(extra ? [task({ name: "third", requires: ["nope"], execute: () => 1 })] : [])));
}

/** A flow whose first task succeeded and which was then suspended, in its own backend. */
async function halfDone() {
  const counts: Record<string, number> = {};
  const backend = new MemoryBackend();
  const engine = registry(counts).load("two", [], { backend, book: { name: "handoff" } });
  engine.on("atom", (e) => {
    if (e.name === "first" && e.state === "SUCCESS") engine.suspend();
  });
  await engine.run();
  expect(engine.storage.flowDetail.state).toBe("SUSPENDED");
  return { backend, counts, bookUuid: engine.storage.flowDetail.bookUuid, flowUuid: engine.flowDetailId };
}

describe("portable log books", () => {
  it("exports a half-done flow to JSON; another backend imports it and a conductor finishes it there, without running what succeeded", async () => {
    const { backend, counts, bookUuid, flowUuid } = await halfDone();
    const text = JSON.stringify(await exportLogBook(backend, bookUuid));
    const data = JSON.parse(text) as PortableLogBook;
    expect(data).toMatchObject({ format: "taskflow-ts/log-book", version: 2, book: { uuid: bookUuid } });
    expect(data.flows[0]?.detail.fingerprint?.map((a) => a.name)).toEqual(["first", "second"]);
    // The audit trail travels with it: the first run's transitions, kept there under the second.
    const firstRun = data.flows[0]?.trail.map((t) => `${t.atom ?? "flow"} ${t.to}`);
    expect(firstRun?.slice(0, 3)).toEqual(["flow RUNNING", "first RUNNING", "first SUCCESS"]);

    const edge = new MemoryBackend();
    await importLogBook(edge, data);
    expect(await exportLogBook(edge, bookUuid)).toEqual(data);
    const clock = new ManualClock(0);
    const board = new MemoryJobBoard({ clock });
    const job = await board.post({ flow: "two", bookUuid });
    await new Conductor({ name: "edge", board, backend: edge, flows: registry(counts), clock }).run({ maxDispatches: 1 });
    expect((await board.get(job.uuid)).state).toBe("COMPLETE");
    expect(counts).toEqual({ first: 1, second: 1 });
    const snap = await readSnapshot(edge, flowUuid);
    expect(snap.state).toBe("SUCCESS");
    expect(snap.atoms.map((a) => a.result)).toEqual(["first done", "second done"]);
    const trail = (await readSnapshot(edge, flowUuid, { trail: true })).trail ?? [];
    expect(trail.slice(0, firstRun?.length).map((t) => `${t.atom ?? "flow"} ${t.to}`)).toEqual(firstRun);
    expect(trail.slice(-2).map((t) => `${t.atom ?? "flow"} ${t.to}`)).toEqual(["second SUCCESS", "flow SUCCESS"]);
    expect(trail.map((t) => t.seq)).toEqual(trail.map((_, i) => i + 1));
  });

  it("reads a version 1 export (before audit trails) with empty trails, and imports it", async () => {
    const { backend, bookUuid, flowUuid } = await halfDone();
    const v2 = JSON.parse(JSON.stringify(await exportLogBook(backend, bookUuid))) as PortableLogBook;
    const v1 = { ...v2, version: 1, flows: v2.flows.map(({ detail, atoms }) => ({ detail, atoms })) };
    expect(parsePortableLogBook(v1).flows.map((f) => f.trail)).toEqual([[]]);
    const edge = new MemoryBackend();
    await importLogBook(edge, v1);
    expect((await readSnapshot(edge, flowUuid, { trail: true })).trail).toEqual([]);
    expect((await readSnapshot(edge, flowUuid)).atoms.map((a) => a.state)).toEqual(["SUCCESS", "PENDING"]);
  });

  it("the fingerprint guards the definition: a job whose flow differs from the imported one is trashed, and nothing runs", async () => {
    const { backend, bookUuid } = await halfDone();
    const edge = new MemoryBackend();
    await importLogBook(edge, await exportLogBook(backend, bookUuid));
    const counts: Record<string, number> = {};
    const board = new MemoryJobBoard({ clock: new ManualClock(0) });
    const flows = new FlowRegistry().register("two", () => linearFlow("two", task({ name: "first", execute: () => 1, version: "2.0" })));
    const c = new Conductor({ name: "edge", board, backend: edge, flows, clock: new ManualClock(0) });
    const trashed = new Promise<unknown>((resolve) => c.on("trashed", (e) => resolve(e.error)));
    const job = await board.post({ flow: "two", bookUuid });
    await c.run({ maxDispatches: 1 });
    expect(await trashed).toBeInstanceOf(IncompatibleVersion);
    expect((await board.get(job.uuid)).state).toBe("TRASHED");
    expect(counts).toEqual({});
  });

  it("refuses a bad import whole, saying why, and stores nothing", async () => {
    const { backend, bookUuid } = await halfDone();
    const good = await exportLogBook(backend, bookUuid);
    const copy = () => JSON.parse(JSON.stringify(good)) as PortableLogBook;
    const cases: Array<[string, (d: PortableLogBook) => unknown, RegExp]> = [
      ["not one", () => ({ hello: "world" }), /not a portable log book/],
      ["newer", (d) => ({ ...d, version: 3 }), /newer taskflow-ts/],
      ["trail not a list", (d) => ((d.flows[0] as { trail: unknown }).trail = "none", d), /trail must be an array/],
      ["another flow's transition", (d) => (d.flows[0]!.trail.push({ ...d.flows[0]!.trail[0]!, flowUuid: "elsewhere" }), d), /audit trail .* is corrupted/],
      ["corrupted state", (d) => ((d.flows[0]!.detail as { state: string }).state = "BOGUS", d), /state/],
      ["another book's flow", (d) => ((d.flows[0]!.detail.bookUuid = "elsewhere"), d), /belongs to log book "elsewhere"/],
      ["foreign atom record", (d) => (d.flows[0]!.atoms.push({ ...d.flows[0]!.atoms[0]!, uuid: "copy", state: "PENDING" }), d), /not its atoms' records/],
      ["no fingerprint", (d) => (delete d.flows[0]!.detail.fingerprint, d), /no fingerprint/],
      ["atoms not a list", (d) => ((d.flows[0] as { atoms: unknown }).atoms = "none", d), /atoms must be an array/],
    ];
    for (const [what, spoil, message] of cases) {
      const target = new MemoryBackend();
      const error = await importLogBook(target, spoil(copy())).catch((e: unknown) => e);
      expect(error, what).toBeInstanceOf(InvalidFormat);
      expect((error as Error).message, what).toMatch(message);
      expect(await target.listLogBooks(), what).toEqual([]);
    }
  });

  it("refuses to import over a stored book (Duplicate), and changes nothing", async () => {
    const { backend, bookUuid, flowUuid } = await halfDone();
    const data = await exportLogBook(backend, bookUuid);
    const before = await exportLogBook(backend, bookUuid);
    data.flows[0]!.detail.state = "SUCCESS";
    await expect(importLogBook(backend, data)).rejects.toBeInstanceOf(Duplicate);
    expect(await exportLogBook(backend, bookUuid)).toEqual(before);
    expect((await backend.getFlowDetail(flowUuid)).state).toBe("SUSPENDED");
  });
});
