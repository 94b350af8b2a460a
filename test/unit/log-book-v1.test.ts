/**
 * A log book written by schema version 1 still loads (issue 10, item 6). The fixture
 * (test/fixtures/log-book-v1.json) is the `MemoryBackend.dump()` of a real run by the last
 * version 1 build (commit d9247ff), of the flow below with a ManualClock (autoAdvance, from
 * 1_700_000_000_000) and the duration listener: `charge` failed on its first try and its retry
 * backed off a second, `cool-off` slept, and the flow SUSPENDED waiting for "confirm". Version 1
 * kept the engine's fields in `meta`; read now, they are top-level fields. Never regenerate the
 * fixture with a newer build: it stands for log books already stored.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { durationListener, linearFlow, load, MemoryBackend, readSnapshot, SCHEMA_VERSION, sleep, task, Times, waitFor, type AtomEvent, type MemoryDump, provide } from "../../src/index.js";
import { memoryBackendFromDump } from "../../src/backend.js";
import { ManualClock } from "../../src/testing/index.js";

const FIXTURE = new URL("../fixtures/log-book-v1.json", import.meta.url);
const FLOW_ID = "id-2";
const SUSPENDED_AT = 1_700_000_006_000;

/** The flow the fixture was written with (the same names, requirements and versions), counting the calls of each task. */
function booking(calls: Record<string, number>) {
  const count = (n: string) => (calls[n] = (calls[n] ?? 0) + 1);
  return linearFlow(
    "booking",
    task({ name: "reserve", provides: "seat", execute: () => (count("reserve"), "12A") }),
    linearFlow(
      "payment",
      { retry: new Times(3, { name: "charge-retry", provides: "try", backoff: { initialMs: 1_000 } }) },
      task<{ try: number; seat: string }>({
        name: "charge", requires: ["try", "seat"], provides: "receipt",
        execute: ({ try: t, seat }) => {
          count("charge");
          if (t < 2) throw new Error("card declined");
          return `paid ${seat} on try ${t}`;
        },
      }),
    ),
    sleep("cool-off", 5_000),
    waitFor("confirm", { description: "Confirm the booking", timeoutMs: 3_600_000 }),
    task<{ receipt: string; confirm: boolean }>({
      name: "finish", requires: ["receipt", "confirm"], provides: "done",
      execute: ({ receipt, confirm }) => (count("finish"), `${receipt}, confirmed ${confirm}`),
    }),
  );
}

const fixture = (): MemoryDump => JSON.parse(readFileSync(FIXTURE, "utf8")) as MemoryDump;
/** A record as stored, of any version. */
type Stored = { schemaVersion: number; name: string; meta: Record<string, unknown> };
const stored = (records: unknown[]) => records as Stored[];

describe("a log book of schema version 1", () => {
  it("is what version 1 wrote: the engine's fields in meta", () => {
    const dump = fixture();
    expect(stored([...dump.logBooks, ...dump.flows, ...dump.atoms]).map((r) => r.schemaVersion)).toEqual(Array(7).fill(1));
    expect(stored(dump.atoms).find((a) => a.name === "charge")?.meta).toMatchObject({ attempts: 2, generation: 1, duration: 0 });
    expect(stored(dump.flows)[0]?.meta).toMatchObject({ suspendedReason: "input", store: { customer: "ada" } });
  });

  it("reads back as version 2, the engine's fields moved out of meta, duration left in it", async () => {
    const backend = memoryBackendFromDump(fixture());
    const flow = await backend.getFlowDetail(FLOW_ID);
    expect(flow).toMatchObject({
      schemaVersion: SCHEMA_VERSION, state: "SUSPENDED", suspendedReason: "input", store: { customer: "ada" }, meta: {},
      waitingFor: [{ name: "confirm", description: "Confirm the booking", deadline: SUSPENDED_AT + 3_600_000 }],
    });
    expect(flow.fingerprint?.map((a) => a.name)).toEqual(["reserve", "charge-retry", "charge", "cool-off", "wait:confirm", "finish"]);
    const atoms = Object.fromEntries((await backend.getAtomDetails(FLOW_ID)).map((d) => [d.name, d]));
    expect(Object.keys(atoms)).toEqual(["reserve", "charge-retry", "charge", "cool-off", "wait:confirm"]);
    for (const d of Object.values(atoms)) {
      expect(d.schemaVersion).toBe(SCHEMA_VERSION);
      expect(Object.keys(d.meta).filter((k) => k !== "duration"), d.name).toEqual([]);
    }
    expect(atoms.charge).toMatchObject({ state: "SUCCESS", attempts: 2, generation: 1, progress: 1, meta: { duration: 0 } });
    expect(atoms.charge?.timestamps).toMatchObject({ FAILURE: 1_700_000_000_000, SUCCESS: 1_700_000_001_000 });
    expect(atoms["charge-retry"]).toMatchObject({ state: "SUCCESS", attempts: 2, wakeAt: 1_700_000_001_000 });
    expect(atoms["cool-off"]).toMatchObject({ state: "SUCCESS", wakeAt: SUSPENDED_AT });
    expect(atoms["wait:confirm"]).toMatchObject({ state: "PENDING", deadline: SUSPENDED_AT + 3_600_000, meta: {} });
    const snapshot = await readSnapshot(backend, FLOW_ID);
    expect(snapshot).toMatchObject({ state: "SUSPENDED", suspendedReason: "input", wakeAt: SUSPENDED_AT + 3_600_000 });
    expect(snapshot.waitingFor.map((w) => w.name)).toEqual(["confirm"]);
    expect(snapshot.atoms.map((a) => [a.name, a.state, a.attempts])).toEqual([
      ["reserve", "SUCCESS", 1], ["charge-retry", "SUCCESS", 2], ["charge", "SUCCESS", 2], ["cool-off", "SUCCESS", 1], ["wait:confirm", "PENDING", 0], ["finish", "PENDING", 0],
    ]);
  });

  it("resumes with this build to SUCCESS: nothing that succeeded runs again, attempts and generations carry over", async () => {
    const backend = memoryBackendFromDump(fixture());
    const clock = new ManualClock(SUSPENDED_AT + 60_000);
    const calls: Record<string, number> = {};
    const engine = load(booking(calls), { backend, clock, flowDetailId: FLOW_ID });
    durationListener(engine);
    const ran: string[] = [];
    engine.on("atom", (e: AtomEvent) => {
      if (e.state === "RUNNING") ran.push(e.name);
    });
    await engine.run(); // still waiting for its input
    expect(engine.storage.flowState).toBe("SUSPENDED");
    expect(engine.storage.flowDetail.suspendedReason).toBe("input");
    clock.advance(60_000);
    await provide(engine, "confirm", true);
    expect(engine.storage.flowState).toBe("SUCCESS");
    expect(engine.storage.fetch("done")).toBe("paid 12A on try 2, confirmed true");
    expect(calls).toEqual({ finish: 1 });
    expect(ran).toEqual(["wait:confirm", "finish"]);

    // What is stored now is version 2, read back through a JSON round trip.
    const reread = memoryBackendFromDump(JSON.parse(JSON.stringify(backend.dump())) as MemoryDump);
    const flow = await reread.getFlowDetail(FLOW_ID);
    expect(flow).toMatchObject({ schemaVersion: SCHEMA_VERSION, state: "SUCCESS", store: { customer: "ada" }, meta: {} });
    expect(flow.suspendedReason).toBeUndefined();
    const atoms = Object.fromEntries((await reread.getAtomDetails(FLOW_ID)).map((d) => [d.name, d]));
    expect(atoms.charge).toMatchObject({ state: "SUCCESS", attempts: 2, generation: 1 });
    expect(atoms["charge-retry"]).toMatchObject({ state: "SUCCESS", attempts: 2 });
    expect(atoms.reserve).toMatchObject({ state: "SUCCESS", attempts: 1, updatedAt: 1_700_000_000_000 });
    expect(atoms.finish).toMatchObject({ schemaVersion: SCHEMA_VERSION, state: "SUCCESS", attempts: 1, timestamps: { RUNNING: SUSPENDED_AT + 120_000 } });
    expect(atoms.finish?.meta).toHaveProperty("duration");
    const written = backend.dump();
    expect(stored(written.flows)[0]?.schemaVersion).toBe(SCHEMA_VERSION);
    expect(stored(written.atoms).filter((a) => a.schemaVersion === SCHEMA_VERSION).map((a) => a.name).sort()).toEqual(["finish", "wait:confirm"]);
  });

  it("keeps a top-level field it does not know (a newer writer's) through the engine's changes of the record", async () => {
    const dump = fixture();
    const flow = stored(dump.flows)[0] as Stored & Record<string, unknown>;
    flow.later = { note: "kept" };
    const wait = stored(dump.atoms).find((a) => a.name === "wait:confirm") as Stored & Record<string, unknown>;
    wait.later = 7;
    const backend = memoryBackendFromDump(dump);
    const engine = load(booking({}), { backend, clock: new ManualClock(SUSPENDED_AT + 60_000), flowDetailId: FLOW_ID });
    await provide(engine, "confirm", true);
    expect(engine.storage.flowState).toBe("SUCCESS");
    expect(await backend.getFlowDetail(FLOW_ID)).toMatchObject({ schemaVersion: SCHEMA_VERSION, state: "SUCCESS", later: { note: "kept" } });
    expect((await backend.getAtomDetails(FLOW_ID)).find((d) => d.name === "wait:confirm")).toMatchObject({ state: "SUCCESS", later: 7 });
  });

  it("keeps a nested field it does not know (in a factory, a progress report) through the engine's changes of the record", async () => {
    const dump = fixture();
    const flow = stored(dump.flows)[0] as Stored & Record<string, unknown>;
    flow.schemaVersion = SCHEMA_VERSION; // a current record, with a newer minor writer's fields
    const { meta } = flow as { meta: Record<string, unknown> };
    Object.assign(flow, meta, { factory: { name: "booking", args: [], registry: "main" } });
    flow.meta = {};
    const wait = stored(dump.atoms).find((a) => a.name === "wait:confirm") as Stored & Record<string, unknown>;
    wait.progressDetails = { atProgress: 0, unit: "clicks" };
    const backend = memoryBackendFromDump(dump);
    const engine = load(booking({}), { backend, clock: new ManualClock(SUSPENDED_AT + 60_000), flowDetailId: FLOW_ID });
    await provide(engine, "confirm", true);
    expect(engine.storage.flowState).toBe("SUCCESS");
    const written = backend.dump();
    expect(stored(written.flows)[0]).toMatchObject({ state: "SUCCESS", factory: { name: "booking", args: [], registry: "main" } });
    expect(stored(written.atoms).find((a) => a.name === "wait:confirm")).toMatchObject({ state: "SUCCESS", progressDetails: { unit: "clicks" } });
  });
});
