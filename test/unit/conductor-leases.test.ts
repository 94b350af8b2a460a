// Many conductors on one board, and conductors that stop renewing their claims (a killed tab, an
// evicted isolate, a frozen process): each job is completed once at the claim level, none is
// lost, no task runs twice unless its host died mid-task, and a stale holder writes nothing.
import { describe, expect, it } from "vitest";
import { FlowRegistry, linearFlow, LockLost, MemoryBackend, readSnapshot, task, type FlowDetail } from "../../src/index.js";
import { BackendWrapper } from "../../src/backend.js";
import { Conductor, MemoryJobBoard, NonBlockingConductor, type ConductorEvents } from "../../src/jobs/index.js";
import { ManualClock } from "../../src/testing/index.js";

function deferred<T = void>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

function next<K extends keyof ConductorEvents>(conductor: Conductor, type: K): Promise<ConductorEvents[K]> {
  return new Promise((resolve) => {
    const off = conductor.on(type, (e) => (off(), resolve(e)));
  });
}

describe("conductors racing for jobs", () => {
  it("4 non-blocking conductors, 40 jobs of 3 tasks: every job claimed and consumed once, every task executed once", async () => {
    const clock = new ManualClock(0);
    const board = new MemoryJobBoard({ clock });
    const backend = new MemoryBackend();
    const executions = new Map<string, number>();
    const step = (name: string) =>
      task({ name, requires: ["n"], execute: async ({ n }: { n: number }) => {
        const key = `${n}:${name}`;
        executions.set(key, (executions.get(key) ?? 0) + 1);
        for (let i = 0; i < n % 4; i++) await Promise.resolve(); // jobs of different lengths interleave
      } });
    const flows = new FlowRegistry().register("steps", () => linearFlow("steps", step("a"), step("b"), step("c")));
    const JOBS = 40;
    for (let n = 0; n < JOBS; n++) await board.post({ flow: "steps", store: { n } });

    const claims = new Map<string, string[]>();
    const consumed = new Map<string, string[]>();
    const allDone = deferred();
    let done = 0;
    const conductors = ["c1", "c2", "c3", "c4"].map((name) => {
      const c = new NonBlockingConductor({ name, board, backend, flows, clock, maxJobs: 3 });
      c.on("claimed", ({ job }) => claims.set(job.uuid, [...(claims.get(job.uuid) ?? []), name]));
      c.on("consumed", ({ job }) => {
        consumed.set(job.uuid, [...(consumed.get(job.uuid) ?? []), name]);
        if (++done === JOBS) allDone.resolve();
      });
      return c;
    });
    const runs = conductors.map((c) => c.run());
    await allDone.promise;
    await Promise.all(conductors.map((c) => c.stop()));
    await Promise.all(runs);

    expect(consumed.size).toBe(JOBS);
    expect([...consumed.values()].every((who) => who.length === 1)).toBe(true);
    expect([...claims.values()].every((who) => who.length === 1)).toBe(true);
    // The work was shared: more than one conductor ran jobs.
    expect(new Set([...consumed.values()].flat()).size).toBeGreaterThan(1);
    expect(executions.size).toBe(JOBS * 3);
    expect([...executions.values()].every((count) => count === 1)).toBe(true);
    for await (const job of board.iterate({ only: "all" })) {
      expect(job.state).toBe("COMPLETE");
      expect((await readSnapshot(backend, job.uuid)).state).toBe("SUCCESS");
    }
  });
});

describe("a conductor that stops renewing its claim", () => {
  const LEASE = 3_000;
  function slowFlow() {
    const counts = { first: 0, slow: 0, last: 0 };
    const gate = deferred();
    const slowStarted = deferred();
    const flows = new FlowRegistry().register("slow", () =>
      linearFlow("slow",
        task({ name: "first", provides: "x", execute: () => (counts.first++, 1) }),
        task({ name: "slow", requires: ["x"], execute: async () => {
          // The first host to get here hangs until the test lets it go; the next one does not.
          if (++counts.slow === 1) {
            slowStarted.resolve();
            await gate.promise;
          }
          return "slow done";
        } }),
        task({ name: "last", execute: () => void counts.last++ }),
      ));
    return { counts, gate, slowStarted, flows };
  }

  it("frozen (its clock stopped: no renewal, no news): loses the job, another resumes it from the log book, and its late writes are refused by the fence", async () => {
    const boardClock = new ManualClock(0);
    const board = new MemoryJobBoard({ clock: boardClock, leaseMs: LEASE });
    const backend = new MemoryBackend();
    const { counts, gate, slowStarted, flows } = slowFlow();
    const job = await board.post({ flow: "slow" });

    const frozen = new Conductor({ name: "frozen", board, backend, flows, clock: new ManualClock(0), leaseMs: LEASE });
    const lost = next(frozen, "lost");
    const frozenRun = frozen.run({ maxDispatches: 1 });
    await slowStarted.promise;
    const epochOfFrozen = (await backend.getFlowDetail(job.uuid)).epoch ?? 0;

    boardClock.advance(LEASE); // the lease runs out: nobody renewed it
    expect((await board.get(job.uuid)).state).toBe("UNCLAIMED");

    const fresh = new Conductor({ name: "fresh", board, backend, flows, clock: boardClock, leaseMs: LEASE });
    const consumed = next(fresh, "consumed");
    await fresh.run({ maxDispatches: 1 });
    expect((await consumed).state).toBe("SUCCESS");
    expect(counts).toEqual({ first: 1, slow: 2, last: 1 }); // first (SUCCESS) not rerun; slow was RUNNING: it runs again
    const afterFresh = { flow: await backend.getFlowDetail(job.uuid), atoms: await backend.getAtomDetails(job.uuid) };
    expect(afterFresh.flow.epoch).toBeGreaterThan(epochOfFrozen);

    // The frozen conductor wakes up: its task ends, and its engine tries to write.
    gate.resolve();
    await frozenRun;
    expect((await lost).error).toBeInstanceOf(LockLost);
    expect(counts.last).toBe(1);
    expect({ flow: await backend.getFlowDetail(job.uuid), atoms: await backend.getAtomDetails(job.uuid) }).toEqual(afterFresh);
    expect((await board.get(job.uuid)).state).toBe("COMPLETE");
    // Anything written with its token is refused.
    await expect(backend.commit({ logBooks: [], flows: [], atoms: [], fence: { flowUuid: job.uuid, epoch: epochOfFrozen } })).rejects.toBeInstanceOf(LockLost);
  });

  it("late (its renewal comes after the lease ran out): hears LockLost, stops, and writes nothing more", async () => {
    const clock = new ManualClock(0);
    const board = new MemoryJobBoard({ clock, leaseMs: LEASE });
    const backend = new MemoryBackend();
    const { counts, gate, slowStarted, flows } = slowFlow();
    const job = await board.post({ flow: "slow" });
    const late = new Conductor({ name: "late", board, backend, flows, clock, leaseMs: LEASE });
    const lost = next(late, "lost");
    const lateRun = late.run({ maxDispatches: 1 });
    await slowStarted.promise;
    clock.advance(LEASE); // one jump past the lease: its renewal (due at a third of it) comes too late
    const { error } = await lost.then((e) => e, () => ({ error: undefined }));
    expect(error).toBeInstanceOf(LockLost);
    const atomsWhenLost = await backend.getAtomDetails(job.uuid);
    gate.resolve();
    await lateRun;
    expect(await backend.getAtomDetails(job.uuid)).toEqual(atomsWhenLost);
    expect(counts.last).toBe(0);
    expect((await board.get(job.uuid)).state).toBe("UNCLAIMED");
    const fresh = new Conductor({ name: "fresh", board, backend, flows, clock, leaseMs: LEASE });
    await fresh.run({ maxDispatches: 1 });
    expect(counts).toEqual({ first: 1, slow: 2, last: 1 });
    expect((await board.get(job.uuid)).state).toBe("COMPLETE");
  });

  it("renewing: keeps the job however long it runs", async () => {
    const clock = new ManualClock(0);
    const board = new MemoryJobBoard({ clock, leaseMs: LEASE });
    const backend = new MemoryBackend();
    const { gate, slowStarted, flows } = slowFlow();
    const job = await board.post({ flow: "slow" });
    const c = new Conductor({ name: "c", board, backend, flows, clock, leaseMs: LEASE });
    let renewals = 0;
    c.on("renewed", () => renewals++);
    const running = c.run({ maxDispatches: 1 });
    await slowStarted.promise;
    for (let i = 0; i < 30; i++) {
      const renewed = next(c, "renewed");
      clock.advance(LEASE / 3);
      await renewed; // the renewal reached the board before time moves on
    }
    expect((await board.get(job.uuid)).state).toBe("CLAIMED");
    expect(renewals).toBeGreaterThanOrEqual(30);
    gate.resolve();
    await running;
    expect((await board.get(job.uuid)).state).toBe("COMPLETE");
  });

  it("frozen between reading the log book and making the flow detail: cannot overwrite what the next conductor made", async () => {
    const clock = new ManualClock(0);
    const board = new MemoryJobBoard({ clock, leaseMs: LEASE });
    const gate = deferred();
    const readDone = deferred();
    let reads = 0;
    // The first conductor's read of the job's book is answered (nothing there yet), then held.
    class Slow extends BackendWrapper {
      override async getFlowDetails(bookUuid: string): Promise<FlowDetail[]> {
        const read = super.getFlowDetails(bookUuid); // NotFound: the book is not stored yet
        if (++reads === 1) {
          await read.catch(() => undefined);
          readDone.resolve();
          await gate.promise;
        }
        return read;
      }
    }
    const memory = new MemoryBackend();
    const backend = new Slow(memory);
    const { counts, flows } = slowFlow();
    counts.slow = 1; // the slow task does not hang in this test
    const job = await board.post({ flow: "slow" });
    const frozen = new Conductor({ name: "frozen", board, backend, flows, clock: new ManualClock(0), leaseMs: LEASE });
    const lost = next(frozen, "lost");
    const frozenRun = frozen.run({ maxDispatches: 1 });
    await readDone.promise;
    clock.advance(LEASE);
    await new Conductor({ name: "fresh", board, backend, flows, clock, leaseMs: LEASE }).run({ maxDispatches: 1 });
    const after = { flow: await memory.getFlowDetail(job.uuid), atoms: await memory.getAtomDetails(job.uuid) };
    expect(after.flow.state).toBe("SUCCESS");
    gate.resolve();
    await frozenRun;
    expect((await lost).error).toBeInstanceOf(LockLost);
    expect({ flow: await memory.getFlowDetail(job.uuid), atoms: await memory.getAtomDetails(job.uuid) }).toEqual(after);
    expect(counts).toEqual({ first: 1, slow: 2, last: 1 });
  });
});
