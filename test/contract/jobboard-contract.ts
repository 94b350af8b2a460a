// The contract every job board must meet, run against each board in its real runtime (memory in
// Node here; the IndexedDB and Durable Object boards run it with their adapters). No Node APIs:
// time is a ManualClock the factory hands to its board, so leases run out when the test says.
import { describe, expect, it } from "vitest";
import { InvalidFormat, JobFailure, LockLost, NotFound, UnclaimableJob } from "../../src/index.js";
import type { Job, JobBoard } from "../../src/jobs/index.js";
import { ManualClock } from "../../src/testing/index.js";

export interface JobBoardHooks {
  /** A fresh, empty board reading the time (its leases) on `clock`, with a default lease of `leaseMs`. */
  make: (options: { clock: ManualClock; leaseMs: number }) => JobBoard | Promise<JobBoard>;
  /**
   * Moves the board's time forward (default: `clock.advance(ms)`). A board whose leases run out
   * by other means (an alarm) advances and waits for them here.
   */
  advance?: (board: JobBoard, clock: ManualClock, ms: number) => Promise<void>;
}

const LEASE = 10_000;

async function all(it: AsyncIterable<Job>): Promise<Job[]> {
  const out: Job[] = [];
  for await (const job of it) out.push(job);
  return out;
}

export function describeJobBoardContract(name: string, hooks: JobBoardHooks): void {
  const setup = async () => {
    const clock = new ManualClock(1_000_000);
    const board = await hooks.make({ clock, leaseMs: LEASE });
    const advance = (ms: number) => (hooks.advance ? hooks.advance(board, clock, ms) : Promise.resolve(clock.advance(ms)));
    return { clock, board, advance };
  };

  describe(`job board contract: ${name}`, () => {
    it("posts a job UNCLAIMED with its details, lists it, and reads it back", async () => {
      const { board } = await setup();
      const job = await board.post({ name: "paint it", flow: "paint", args: ["red", { coats: 2 }], store: { brush: "wide" } });
      expect(job).toMatchObject({ name: "paint it", flow: "paint", args: ["red", { coats: 2 }], store: { brush: "wide" }, priority: "NORMAL", state: "UNCLAIMED", claims: 0 });
      expect(typeof job.uuid).toBe("string");
      expect(typeof job.bookUuid).toBe("string");
      expect(await board.get(job.uuid)).toEqual(job);
      expect((await all(board.iterate())).map((j) => j.uuid)).toEqual([job.uuid]);
      const other = await board.post({ flow: "paint" });
      expect(other.name).toBe("paint");
      expect(other.bookUuid).not.toBe(job.bookUuid);
    });

    it("refuses bad details with InvalidFormat naming the field, and posts nothing", async () => {
      const { board } = await setup();
      const bad: unknown[] = [
        null, "paint", {}, { flow: "" }, { flow: 3 }, { flow: "f", args: "x" }, { flow: "f", store: [1] },
        { flow: "f", priority: "URGENT" }, { flow: "f", args: [() => 1] }, { flow: "f", store: { when: new (class Moment {})() } }, { flow: "f", extra: 1 },
      ];
      for (const details of bad) {
        await expect(board.post(details as never), JSON.stringify(details) ?? String(details)).rejects.toBeInstanceOf(InvalidFormat);
      }
      await expect(board.post({ flow: "f", priority: "URGENT" as never })).rejects.toThrow(/priority/);
      expect(await all(board.iterate({ only: "all" }))).toEqual([]);
    });

    it("lists higher priorities first, then older jobs first", async () => {
      const { board, advance } = await setup();
      const low = await board.post({ flow: "f", name: "low", priority: "LOW" });
      await advance(1);
      const first = await board.post({ flow: "f", name: "first" });
      await advance(1);
      const second = await board.post({ flow: "f", name: "second" });
      const top = await board.post({ flow: "f", name: "top", priority: "VERY_HIGH" });
      expect((await all(board.iterate())).map((j) => j.name)).toEqual(["top", "first", "second", "low"]);
      expect([low, first, second, top].every((j) => j.state === "UNCLAIMED")).toBe(true);
    });

    it("claims a job: CLAIMED by its owner, no longer unclaimed; a second claim is UnclaimableJob", async () => {
      const { board, clock } = await setup();
      const job = await board.post({ flow: "f" });
      const claim = await board.claim(job.uuid, "c1");
      expect(claim).toEqual({ jobUuid: job.uuid, owner: "c1", token: 1, expiresAt: clock.now() + LEASE });
      expect(await board.get(job.uuid)).toMatchObject({ state: "CLAIMED", owner: "c1", expiresAt: clock.now() + LEASE, claims: 1 });
      expect(await all(board.iterate({ only: "unclaimed" }))).toEqual([]);
      expect((await all(board.iterate({ only: "claimed", owner: "c1" }))).map((j) => j.uuid)).toEqual([job.uuid]);
      expect(await all(board.iterate({ owner: "c2" }))).toEqual([]);
      await expect(board.claim(job.uuid, "c2")).rejects.toBeInstanceOf(UnclaimableJob);
      await expect(board.claim(job.uuid, "c1")).rejects.toBeInstanceOf(UnclaimableJob);
      await expect(board.claim("no-such-job", "c1")).rejects.toBeInstanceOf(NotFound);
      await expect(board.claim(job.uuid, "")).rejects.toBeInstanceOf(InvalidFormat);
      await expect(board.claim(job.uuid, "c2", { leaseMs: -1 })).rejects.toBeInstanceOf(InvalidFormat);
    });

    it("consumes a job: COMPLETE, off the board; consuming again is NotFound, claiming it UnclaimableJob", async () => {
      const { board } = await setup();
      const job = await board.post({ flow: "f" });
      const claim = await board.claim(job.uuid, "c1");
      await board.consume(claim);
      expect((await board.get(job.uuid)).state).toBe("COMPLETE");
      expect(await all(board.iterate())).toEqual([]);
      expect((await all(board.iterate({ only: "complete" }))).map((j) => j.uuid)).toEqual([job.uuid]);
      await expect(board.consume(claim)).rejects.toBeInstanceOf(NotFound);
      await expect(board.claim(job.uuid, "c2")).rejects.toBeInstanceOf(UnclaimableJob);
    });

    it("abandons a job: UNCLAIMED again, claimable by anyone, with a new token", async () => {
      const { board } = await setup();
      const job = await board.post({ flow: "f" });
      const first = await board.claim(job.uuid, "c1");
      await board.abandon(first);
      expect(await board.get(job.uuid)).toMatchObject({ state: "UNCLAIMED" });
      expect((await board.get(job.uuid)).owner).toBeUndefined();
      const second = await board.claim(job.uuid, "c2");
      expect(second.token).toBe(first.token + 1);
      // The old claim is spent: its holder can no longer act on the job.
      await expect(board.consume(first)).rejects.toBeInstanceOf(LockLost);
      expect((await board.get(job.uuid)).owner).toBe("c2");
    });

    it("trashes a job: TRASHED, off the board, never claimed again", async () => {
      const { board } = await setup();
      const job = await board.post({ flow: "f" });
      await board.trash(await board.claim(job.uuid, "c1"));
      expect((await board.get(job.uuid)).state).toBe("TRASHED");
      expect(await all(board.iterate())).toEqual([]);
      expect((await all(board.iterate({ only: "trashed" }))).length).toBe(1);
      await expect(board.claim(job.uuid, "c1")).rejects.toBeInstanceOf(UnclaimableJob);
    });

    it("lets only the holder act on a claim: another owner's is JobFailure, and nothing changes", async () => {
      const { board } = await setup();
      const job = await board.post({ flow: "f" });
      const claim = await board.claim(job.uuid, "c1");
      const forged = { ...claim, owner: "c2" };
      await expect(board.consume(forged)).rejects.toBeInstanceOf(JobFailure);
      await expect(board.abandon(forged)).rejects.toBeInstanceOf(JobFailure);
      await expect(board.trash(forged)).rejects.toBeInstanceOf(JobFailure);
      await expect(board.renew(forged)).rejects.toBeInstanceOf(JobFailure);
      expect(await board.get(job.uuid)).toMatchObject({ state: "CLAIMED", owner: "c1" });
      await expect(board.consume({ ...claim, jobUuid: "no-such-job" })).rejects.toBeInstanceOf(NotFound);
    });

    it("expires a claim whose lease is not renewed: UNCLAIMED, claimable again, the old holder refused with LockLost", async () => {
      const { board, advance } = await setup();
      const job = await board.post({ flow: "f" });
      const stale = await board.claim(job.uuid, "c1");
      await advance(LEASE - 1);
      expect((await board.get(job.uuid)).state).toBe("CLAIMED");
      await advance(1);
      expect(await board.get(job.uuid)).toMatchObject({ state: "UNCLAIMED" });
      expect((await board.get(job.uuid)).expiresAt).toBeUndefined();
      expect((await all(board.iterate({ only: "unclaimed" }))).length).toBe(1);
      await expect(board.renew(stale)).rejects.toBeInstanceOf(LockLost);
      const fresh = await board.claim(job.uuid, "c2");
      await expect(board.consume(stale)).rejects.toBeInstanceOf(LockLost);
      await expect(board.abandon(stale)).rejects.toBeInstanceOf(LockLost);
      await board.consume(fresh);
      expect((await board.get(job.uuid)).state).toBe("COMPLETE");
    });

    it("keeps a renewed claim past its first lease, for the lease asked for", async () => {
      const { board, advance, clock } = await setup();
      const job = await board.post({ flow: "f" });
      const claim = await board.claim(job.uuid, "c1", { leaseMs: 1_000 });
      expect(claim.expiresAt).toBe(clock.now() + 1_000);
      await advance(900);
      const renewed = await board.renew(claim, { leaseMs: 1_000 });
      expect(renewed).toEqual({ ...claim, expiresAt: clock.now() + 1_000 });
      await advance(900);
      expect((await board.get(job.uuid)).state).toBe("CLAIMED");
      await board.consume(renewed);
    });

    it("waits for a job: at once when one is unclaimed, else until one is posted, abandoned or expires", async () => {
      const { board, advance } = await setup();
      const waiting = board.wait();
      let woke = false;
      void waiting.then(() => (woke = true));
      await Promise.resolve();
      expect(woke).toBe(false);
      const job = await board.post({ flow: "f" });
      expect((await waiting).map((j) => j.uuid)).toEqual([job.uuid]);
      expect((await board.wait()).length).toBe(1);

      const claim = await board.claim(job.uuid, "c1");
      const afterAbandon = board.wait();
      await board.abandon(claim);
      expect((await afterAbandon).map((j) => j.uuid)).toEqual([job.uuid]);

      await board.claim(job.uuid, "c1");
      const afterExpiry = board.wait();
      await advance(LEASE);
      expect((await afterExpiry).map((j) => j.uuid)).toEqual([job.uuid]);
    });

    it("serializes claims: of many claims of one job at once, exactly one wins; the others are UnclaimableJob", async () => {
      const { board } = await setup();
      const job = await board.post({ flow: "f" });
      const results = await Promise.allSettled(Array.from({ length: 12 }, (_, i) => board.claim(job.uuid, `c${i}`)));
      const won = results.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
      expect(won.length).toBe(1);
      expect(results.filter((r) => r.status === "rejected").every((r) => (r as PromiseRejectedResult).reason instanceof UnclaimableJob)).toBe(true);
      expect((await board.get(job.uuid)).owner).toBe(won[0]?.owner);
    });

    it("many claimers, many jobs: each job goes to one claimer, none is left over", async () => {
      const { board } = await setup();
      const posted = await Promise.all(Array.from({ length: 10 }, (_, i) => board.post({ flow: "f", name: `j${i}` })));
      const won = new Map<string, string[]>();
      await Promise.all(["a", "b", "c", "d"].map(async (owner) => {
        for (const job of posted) {
          const claim = await board.claim(job.uuid, owner).catch((e: unknown) => {
            if (e instanceof UnclaimableJob) return undefined;
            throw e;
          });
          if (claim) {
            won.set(job.uuid, [...(won.get(job.uuid) ?? []), owner]);
            await board.consume(claim);
          }
        }
      }));
      expect(posted.map((j) => won.get(j.uuid)?.length)).toEqual(posted.map(() => 1));
      expect((await all(board.iterate({ only: "complete" }))).length).toBe(10);
    });

    it("claims many jobs in one call: those claimable, in the order asked; held, settled, unknown and repeated ones skipped", async () => {
      const { board, clock } = await setup();
      const [a, b, c, d, e] = await Promise.all(["a", "b", "c", "d", "e"].map((name) => board.post({ flow: "f", name })));
      if (!a || !b || !c || !d || !e) throw new Error("posted five");
      await board.claim(b.uuid, "other");
      await board.consume(await board.claim(c.uuid, "other"));
      const claims = await board.claimMany([e.uuid, b.uuid, "no-such-job", a.uuid, c.uuid, e.uuid, d.uuid], "c1", { leaseMs: 2_000 });
      expect(claims).toEqual([e, a, d].map((j) => ({ jobUuid: j.uuid, owner: "c1", token: 1, expiresAt: clock.now() + 2_000 })));
      for (const j of [a, d, e]) expect(await board.get(j.uuid)).toMatchObject({ state: "CLAIMED", owner: "c1", claims: 1 });
      expect(await board.get(b.uuid)).toMatchObject({ state: "CLAIMED", owner: "other" });
      expect((await board.get(c.uuid)).state).toBe("COMPLETE");
      expect(await board.claimMany([a.uuid, d.uuid], "c2")).toEqual([]); // held now, even by c1 it would be
      expect(await board.claimMany([], "c1")).toEqual([]);
      await expect(board.claimMany([a.uuid], "")).rejects.toBeInstanceOf(InvalidFormat);
      await expect(board.claimMany([a.uuid], "c1", { leaseMs: 0 })).rejects.toBeInstanceOf(InvalidFormat);
      await expect(board.claimMany("a" as never, "c1")).rejects.toBeInstanceOf(InvalidFormat);
      await expect(board.claimMany([3] as never, "c1")).rejects.toBeInstanceOf(InvalidFormat);
    });

    it("of many claimMany calls at once over the same jobs, each job goes to exactly one", async () => {
      const { board } = await setup();
      const posted = await Promise.all(Array.from({ length: 8 }, (_, i) => board.post({ flow: "f", name: `j${i}` })));
      const uuids = posted.map((j) => j.uuid);
      const got = await Promise.all(["a", "b", "c"].map((owner, i) => board.claimMany(i === 1 ? [...uuids].reverse() : uuids, owner)));
      const claimed = got.flat().map((c) => c.jobUuid).sort();
      expect(claimed).toEqual([...uuids].sort());
      for (const [i, claims] of got.entries()) for (const claim of claims) expect((await board.get(claim.jobUuid)).owner).toBe(["a", "b", "c"][i]);
    });

    it("renews and settles many claims in one call: each judged alone, a claim that no longer holds its job is undefined and changes nothing", async () => {
      const { board, clock, advance } = await setup();
      const jobs = await Promise.all(["renew", "consume", "abandon", "trash", "stale", "forged", "done"].map((name) => board.post({ flow: "f", name })));
      const claims = await board.claimMany(jobs.map((j) => j.uuid), "c1");
      const [renewing, consuming, abandoning, trashing, stale, forged, done] = claims as [typeof claims[number], typeof claims[number], typeof claims[number], typeof claims[number], typeof claims[number], typeof claims[number], typeof claims[number]];
      await board.abandon(stale);
      const other = await board.claim(stale.jobUuid, "c2");
      await board.consume(done);
      await advance(1_000);
      const results = await board.updateMany([
        { claim: renewing, action: "renew" },
        { claim: consuming, action: "consume" },
        { claim: abandoning, action: "abandon" },
        { claim: trashing, action: "trash" },
        { claim: stale, action: "consume" },
        { claim: done, action: "renew" },
      ], { leaseMs: 5_000 });
      expect(results).toEqual([{ ...renewing, expiresAt: clock.now() + 5_000 }, consuming, abandoning, trashing, undefined, undefined]);
      expect(await board.get(renewing.jobUuid)).toMatchObject({ state: "CLAIMED", owner: "c1", expiresAt: clock.now() + 5_000 });
      expect((await board.get(consuming.jobUuid)).state).toBe("COMPLETE");
      expect(await board.get(abandoning.jobUuid)).toMatchObject({ state: "UNCLAIMED" });
      expect((await board.get(trashing.jobUuid)).state).toBe("TRASHED");
      expect(await board.get(stale.jobUuid)).toMatchObject({ state: "CLAIMED", owner: "c2", claims: other.token });
      // Another owner's claim is not this caller's to act on: undefined, the job untouched.
      expect(await board.updateMany([{ claim: { ...forged, owner: "c3" }, action: "consume" }])).toEqual([undefined]);
      expect(await board.get(forged.jobUuid)).toMatchObject({ state: "CLAIMED", owner: "c1" });
      // An update that is not one, or claims of two owners, refuse the whole call.
      await expect(board.updateMany([{ claim: forged, action: "finish" as never }])).rejects.toBeInstanceOf(InvalidFormat);
      await expect(board.updateMany([{ claim: forged, action: "consume" }, { claim: other, action: "renew" }])).rejects.toBeInstanceOf(InvalidFormat);
      await expect(board.updateMany([{ claim: { jobUuid: forged.jobUuid } as never, action: "consume" }])).rejects.toBeInstanceOf(InvalidFormat);
      expect(await board.get(forged.jobUuid)).toMatchObject({ state: "CLAIMED", owner: "c1" });
      expect(await board.updateMany([])).toEqual([]);
    });

    it("renews and settles in order within one call: a claim renewed then consumed ends COMPLETE; a claim that ran out is undefined", async () => {
      const { board, advance } = await setup();
      const [a, b] = await Promise.all(["a", "b"].map((name) => board.post({ flow: "f", name })));
      const [held] = await board.claimMany([(a as { uuid: string }).uuid], "c1", { leaseMs: 1_000 });
      const [late] = await board.claimMany([(b as { uuid: string }).uuid], "c1", { leaseMs: 500 });
      if (!held || !late) throw new Error("claimed both");
      await advance(600);
      expect(await board.updateMany([{ claim: held, action: "renew" }, { claim: held, action: "consume" }, { claim: late, action: "renew" }])).toEqual([expect.objectContaining({ jobUuid: held.jobUuid }), held, undefined]);
      expect((await board.get(held.jobUuid)).state).toBe("COMPLETE");
      expect((await board.get(late.jobUuid)).state).toBe("UNCLAIMED");
    });

    it("wakes a waiter when updateMany abandons a job", async () => {
      const { board } = await setup();
      const job = await board.post({ flow: "f" });
      const [claim] = await board.claimMany([job.uuid], "c1");
      const waiting = board.wait();
      await board.updateMany([{ claim: claim as never, action: "abandon" }]);
      expect((await waiting).map((j) => j.uuid)).toEqual([job.uuid]);
    });

    it("refuses every call once closed", async () => {
      const { board } = await setup();
      const job = await board.post({ flow: "f" });
      await board.close();
      await expect(board.post({ flow: "f" })).rejects.toThrow();
      await expect(board.claim(job.uuid, "c1")).rejects.toThrow();
    });

    it("gives up waiting: NotFound after timeoutMs, no jobs once its signal aborts", async () => {
      const { board, advance } = await setup();
      const timed = board.wait({ timeoutMs: 500 });
      const caught = timed.catch((e: unknown) => e);
      await advance(500);
      expect(await caught).toBeInstanceOf(NotFound);
      const stop = new AbortController();
      const waiting = board.wait({ signal: stop.signal });
      stop.abort();
      expect(await waiting).toEqual([]);
    });
  });
}
