// The Durable Object job board in workerd: the board contract through the RPC client (one object,
// and sharded over three), leases freed by the alarm, credentials checked by the object, and
// many conductors racing for many jobs.
import { runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { DurableObjectJobBoard, jobBoardCredential, ShardedJobBoard, type JobBoardRpc } from "../../adapters/durable-object/index.js";
import { DisallowedAccess, InvalidFormat, UnclaimableJob } from "../../src/index.js";
import type { JobBoard } from "../../src/jobs/index.js";
import type { ManualClock } from "../../src/testing/index.js";
import { describeJobBoardContract } from "../contract/jobboard-contract.js";
import { raceForJobs } from "../contract/jobboard-contention.js";

type Stub = ReturnType<typeof env.JOB_BOARD.get>;
const SECRET = env.JOB_BOARD_SECRET;
const fresh = () => env.JOB_BOARD.get(env.JOB_BOARD.newUniqueId());
const rpc = (stub: Stub) => stub as unknown as JobBoardRpc;

/** The boards' objects, so that moving time moves theirs too and runs their alarms. */
const objects = new WeakMap<JobBoard, Stub[]>();
async function advance(board: JobBoard, clock: ManualClock, ms: number): Promise<void> {
  clock.advance(ms);
  for (const stub of objects.get(board) ?? []) {
    await stub.setNow(clock.now());
    await runDurableObjectAlarm(stub);
  }
}

describeJobBoardContract("Durable Object (RPC client)", {
  make: async ({ clock, leaseMs }) => {
    const stub = fresh();
    await stub.setNow(clock.now());
    const board = new DurableObjectJobBoard(rpc(stub), { secret: SECRET, clock, leaseMs });
    objects.set(board, [stub]);
    return board;
  },
  advance,
});

describeJobBoardContract("Durable Object, sharded over three objects", {
  make: async ({ clock, leaseMs }) => {
    const stubs = [fresh(), fresh(), fresh()];
    for (const stub of stubs) await stub.setNow(clock.now());
    const board = new ShardedJobBoard(Object.fromEntries(stubs.map((stub, i) => [`s${i}`, new DurableObjectJobBoard(rpc(stub), { secret: SECRET, clock, leaseMs })])));
    objects.set(board, stubs);
    return board;
  },
  advance,
});

describe("JobBoardObject", () => {
  it("frees a claim by alarm at its lease's expiry, stored UNCLAIMED, and arms itself for the next", async () => {
    const stub = fresh(); // on the system clock until the test sets it
    const board = new DurableObjectJobBoard(rpc(stub), { secret: SECRET });
    const a = await board.post({ flow: "f" });
    const b = await board.post({ flow: "f" });
    const first = await board.claim(a.uuid, "c1", { leaseMs: 60_000 });
    const second = await board.claim(b.uuid, "c2", { leaseMs: 120_000 });
    const armed = await runInObject(stub, (s) => s.getAlarm());
    expect(armed).toBe(first.expiresAt);
    await stub.setNow(first.expiresAt);
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    const stored = await runInObject(stub, (s) => s.kv.get<{ state: string; owner?: string; claims: number }>(`job:todo:${a.uuid}`));
    expect(stored).toMatchObject({ state: "UNCLAIMED", claims: 1 });
    expect(stored?.owner).toBeUndefined();
    expect(await board.get(b.uuid)).toMatchObject({ state: "CLAIMED", owner: "c2" });
    // Armed again for b's lease, which runs out 60 s after the object's now.
    const next = await runInObject(stub, (s) => s.getAlarm());
    expect(next).toBeGreaterThan(armed ?? Infinity);
    expect(next).toBeLessThan(second.expiresAt);
    await expect(board.consume(first)).rejects.toThrow(/ran out/);
  });

  it("refuses a call without a valid credential, a claim under another name, and a settle of another's job: DisallowedAccess, nothing changed", async () => {
    const stub = fresh();
    const admin = new DurableObjectJobBoard(rpc(stub), { secret: SECRET });
    const job = await admin.post({ flow: "f", args: [1] });
    const other = await admin.post({ flow: "f", args: [2] });
    const before = await runInObject(stub, (s) => [...s.kv.list({ prefix: "job:" })]);

    const forged = new DurableObjectJobBoard(rpc(stub), { credential: { id: "c1", key: "AAAA" } });
    const wrongSecret = new DurableObjectJobBoard(rpc(stub), { credential: await jobBoardCredential("another-secret-0123456789", "c1") });
    const noCredential = { id: "c1" } as never;
    for (const board of [forged, wrongSecret]) {
      await expect(board.post({ flow: "f" })).rejects.toBeInstanceOf(DisallowedAccess);
      await expect(board.claim(job.uuid, "c1")).rejects.toBeInstanceOf(DisallowedAccess);
      await expect(board.get(job.uuid)).rejects.toBeInstanceOf(DisallowedAccess);
    }
    expect(await rpc(stub).post(noCredential, { flow: "f" })).toMatchObject({ error: { excTypeNames: expect.arrayContaining(["DisallowedAccess"]) } });

    const c1 = new DurableObjectJobBoard(rpc(stub), { credential: await jobBoardCredential(SECRET, "c1") });
    const c2 = new DurableObjectJobBoard(rpc(stub), { credential: await jobBoardCredential(SECRET, "c2") });
    await expect(c1.claim(job.uuid, "c2")).rejects.toThrow(/"c1" cannot act as "c2"/);
    const theirs = await c2.claim(other.uuid, "c2");
    // c1 presents c2's claim (it saw it somewhere): the object refuses it before looking at the job.
    await expect(c1.consume(theirs)).rejects.toBeInstanceOf(DisallowedAccess);
    await expect(c1.abandon(theirs)).rejects.toBeInstanceOf(DisallowedAccess);
    await expect(c1.trash(theirs)).rejects.toBeInstanceOf(DisallowedAccess);
    await expect(c1.renew(theirs)).rejects.toBeInstanceOf(DisallowedAccess);
    // Claimed as c1 itself, it is c1's own: c2's claim of it is refused as any claim of a held job.
    const mine = await c1.claim(job.uuid, "c1");
    await expect(c2.claim(job.uuid, "c2")).rejects.toBeInstanceOf(UnclaimableJob);
    const after = await runInObject(stub, (s) => [...s.kv.list({ prefix: "job:" })]);
    expect(after.length).toBe(before.length); // nothing posted by the refused calls
    expect((await admin.get(other.uuid)).owner).toBe("c2");
    await c1.consume(mine);
    await c2.consume(theirs);
    expect((await admin.get(job.uuid)).state).toBe("COMPLETE");
  });

  it("checks details at post, in the object too (a caller that skips the client's check)", async () => {
    const stub = fresh();
    const credential = await jobBoardCredential(SECRET, "producer");
    const reply = await rpc(stub).post(credential, { flow: "f", store: [1] } as never);
    expect(reply).toMatchObject({ error: { excTypeNames: expect.arrayContaining(["InvalidFormat"]) } });
    const admin = new DurableObjectJobBoard(rpc(stub), { secret: SECRET });
    await expect(admin.post({ flow: "f", extra: true } as never)).rejects.toBeInstanceOf(InvalidFormat);
    const all = [];
    for await (const job of admin.iterate({ only: "all" })) all.push(job);
    expect(all).toEqual([]);
  });

  it("admits no one when deployed without its secret: DisallowedAccess saying what to set", async () => {
    const stub = fresh();
    await stub.dropSecret();
    const board = new DurableObjectJobBoard(rpc(stub), { secret: SECRET });
    await expect(board.post({ flow: "f" })).rejects.toThrow(/set JOB_BOARD_SECRET/);
    await expect(board.post({ flow: "f" })).rejects.toBeInstanceOf(DisallowedAccess);
    expect(await runInObject(stub, (s) => [...s.kv.list({ prefix: "job:" })])).toEqual([]);
  });

  it("refuses to make a credential from a short secret", async () => {
    await expect(jobBoardCredential("short", "c1")).rejects.toBeInstanceOf(InvalidFormat);
  });
});

describe("many conductors race for many jobs through the Durable Object board", () => {
  it("8 conductors (each its own client and credential), 60 jobs on one object: each consumed exactly once, none lost", { timeout: 60_000 }, async () => {
    const stub = fresh();
    const boards = await Promise.all(Array.from({ length: 8 }, async (_, i) => new DurableObjectJobBoard(rpc(stub), { credential: await jobBoardCredential(SECRET, `claimer-${i}`) })));
    const { refused } = await raceForJobs(boards, 8, 60);
    expect(refused).toBeGreaterThan(0);
  });

  it("8 conductors over a board sharded across 4 objects, 60 jobs", { timeout: 60_000 }, async () => {
    const stubs = [fresh(), fresh(), fresh(), fresh()];
    const sharded = () => new ShardedJobBoard(Object.fromEntries(stubs.map((s, i) => [`s${i}`, new DurableObjectJobBoard(rpc(s), { secret: SECRET })])));
    await raceForJobs(Array.from({ length: 8 }, sharded), 8, 60);
    for (const stub of stubs) expect((await runInObject(stub, (s) => [...s.kv.list({ prefix: "job:done:" })])).length).toBeGreaterThan(0); // spread over all
  });
});

async function runInObject<R>(stub: Stub, fn: (storage: DurableObjectStorage) => R | Promise<R>): Promise<R> {
  const { runInDurableObject } = await import("cloudflare:test");
  return runInDurableObject(stub, (_, state) => fn(state.storage));
}
