// The audit trail (issue 15, item 3): every transition a backend commits is appended to its flow
// detail's trail in the same transaction, kept until the log book goes, and read back in commit
// order. Run against each backend in its real runtime, like the backend contract.
import { describe, expect, it } from "vitest";
import { linearFlow, load, LockLost, NotFound, readSnapshot, task, Times, unorderedFlow, type Backend, type TrailEntry, type Transition, type WriteBatch, revise } from "../../src/index.js";
import { atom, book, flow } from "./backend-contract.js";

const batch = (b: Partial<WriteBatch>): WriteBatch => ({ logBooks: [], flows: [], atoms: [], ...b });
const DAY = 86_400_000;

async function trailOf(backend: Backend, flowUuid: string): Promise<TrailEntry[]> {
  if (!backend.getTrail) throw new Error("the backend keeps no audit trail (no getTrail())");
  return backend.getTrail(flowUuid);
}

/** "atom from → to" (the flow's own as "flow from → to"), for readable expectations. */
const moves = (trail: readonly TrailEntry[], only?: string) =>
  trail.filter((t) => only === undefined || (t.atom ?? "flow") === only).map((t) => `${t.atom ?? "flow"} ${t.from} → ${t.to}`);

const step = (flowUuid: string, atomName: string | undefined, from: string, to: string, at = 5): Transition => ({ flowUuid, atom: atomName, from, to, at });

export function describeTrailContract(name: string, make: () => Backend | Promise<Backend>): void {
  describe(`audit trail contract: ${name}`, () => {
    it("keeps both RUNNING entries of an atom retried, with their attempts, and the flow's own transitions, numbered in commit order", async () => {
      const backend = await make();
      let calls = 0;
      const flaky = task({ name: "flaky", provides: "v", retry: new Times(3), execute: () => (++calls === 1 ? Promise.reject(new Error("first try fails")) : 7) });
      const engine = load(linearFlow("retried", flaky), { backend });
      await engine.run();
      const snap = await readSnapshot(backend, engine.flowDetailId, { trail: true });
      const trail = snap.trail ?? [];
      expect(trail.map((t) => t.seq)).toEqual(trail.map((_, i) => i + 1));
      const flakyMoves = moves(trail, "flaky");
      expect(flakyMoves.filter((m) => m === "flaky PENDING → RUNNING")).toHaveLength(2);
      expect(flakyMoves).toEqual([
        "flaky PENDING → RUNNING", "flaky RUNNING → FAILURE", "flaky FAILURE → REVERTING", "flaky REVERTING → REVERTED", "flaky REVERTED → PENDING",
        "flaky PENDING → RUNNING", "flaky RUNNING → SUCCESS",
      ]);
      const runs = trail.filter((t) => t.atom === "flaky" && t.to === "RUNNING");
      expect(runs.map((t) => t.attempt)).toEqual([1, 2]);
      expect(moves(trail, "flow")).toEqual(["flow PENDING → RUNNING", "flow RUNNING → SUCCESS"]);
      // Written by this engine, under the token it claimed with the flow's lock.
      expect(new Set(trail.map((t) => t.runner))).toEqual(new Set([engine.runnerId]));
      const epoch = (await backend.getFlowDetail(engine.flowDetailId)).epoch;
      if (epoch !== undefined) expect(new Set(trail.map((t) => t.epoch))).toEqual(new Set([epoch]));
      // Without asking, the snapshot does not read it.
      expect((await readSnapshot(backend, engine.flowDetailId)).trail).toBeUndefined();
    });

    it("keeps the first tries through a revision, and appends a second runner's entries after the first's", async () => {
      const backend = await make();
      const flowDef = unorderedFlow(
        "prices",
        task({ name: "net", requires: ["amount"], provides: "net", execute: ({ amount }: { amount: number }) => amount }),
        task({ name: "tax", requires: ["amount", "rate"], provides: "tax", execute: ({ amount, rate }: { amount: number; rate: number }) => amount * rate }),
      );
      const first = load(flowDef, { backend, store: { amount: 100, rate: 0.2 } });
      await first.run();
      const before = await trailOf(backend, first.flowDetailId);
      const second = load(flowDef, { backend, flowDetailId: first.flowDetailId });
      await revise(second, "rate", 0.5);
      expect(second.storage.fetch("tax")).toBe(50);
      const after = await trailOf(backend, first.flowDetailId);
      // Nothing of the first run is lost or changed: the trail only grows.
      expect(after.slice(0, before.length)).toEqual(before);
      expect(after.map((t) => t.seq)).toEqual(after.map((_, i) => i + 1));
      expect(moves(after, "tax")).toEqual([
        "tax PENDING → RUNNING", "tax RUNNING → SUCCESS",
        "tax SUCCESS → REVERTING", "tax REVERTING → REVERTED", "tax REVERTED → PENDING", "tax PENDING → RUNNING", "tax RUNNING → SUCCESS",
      ]);
      expect(moves(after, "net")).toEqual(["net PENDING → RUNNING", "net RUNNING → SUCCESS"]);
      expect(after.filter((t) => t.atom === "tax" && t.to === "RUNNING").map((t) => t.attempt)).toEqual([1, 2]);
      expect(new Set(before.map((t) => t.runner))).toEqual(new Set([first.runnerId]));
      expect(new Set(after.slice(before.length).map((t) => t.runner))).toEqual(new Set([second.runnerId]));
      expect(first.runnerId).not.toBe(second.runnerId);
    });

    it("appends each batch's transitions in commit order, keeping fields as given", async () => {
      const backend = await make();
      const lb = book();
      const fd = flow(lb.uuid);
      const a = atom(fd.uuid, { name: "a" });
      await backend.commit(batch({ logBooks: [lb], flows: [fd], atoms: [a], transitions: [step(fd.uuid, undefined, "PENDING", "RUNNING", 1), step(fd.uuid, "a", "PENDING", "RUNNING", 2)] }));
      await backend.commit(batch({ atoms: [{ ...a, state: "SUCCESS" }], transitions: [{ ...step(fd.uuid, "a", "RUNNING", "SUCCESS", 3), attempt: 1, runner: "r-1", epoch: 4 }] }));
      await backend.commit(batch({ flows: [{ ...fd, state: "SUCCESS" }], transitions: [step(fd.uuid, undefined, "RUNNING", "SUCCESS", 4)] }));
      const trail = await trailOf(backend, fd.uuid);
      expect(trail.map((t) => [t.seq, t.atom, t.from, t.to, t.at])).toEqual([
        [1, undefined, "PENDING", "RUNNING", 1], [2, "a", "PENDING", "RUNNING", 2], [3, "a", "RUNNING", "SUCCESS", 3], [4, undefined, "RUNNING", "SUCCESS", 4],
      ]);
      expect(trail[2]).toMatchObject({ flowUuid: fd.uuid, attempt: 1, runner: "r-1", epoch: 4 });
      // A flow detail that has none yet reads as an empty trail; an unknown one is NotFound.
      const other = flow(lb.uuid);
      await backend.commit(batch({ flows: [other] }));
      expect(await trailOf(backend, other.uuid)).toEqual([]);
      await expect(trailOf(backend, "fd-unknown")).rejects.toBeInstanceOf(NotFound);
    });

    it("writes no entry of a batch it refuses: a fenced-out writer's, or one with a missing parent", async () => {
      const backend = await make();
      const lb = book();
      const fd = flow(lb.uuid);
      await backend.commit(batch({ logBooks: [lb], flows: [fd], transitions: [step(fd.uuid, undefined, "PENDING", "RUNNING")] }));
      if (!backend.claim) throw new Error("the backend has no claim()");
      const old = await backend.claim(fd.uuid);
      await backend.claim(fd.uuid); // a newer runner took the flow
      const stale = batch({ atoms: [atom(fd.uuid, { name: "late" })], fence: { flowUuid: fd.uuid, epoch: old }, transitions: [step(fd.uuid, "late", "PENDING", "RUNNING")] });
      await expect(backend.commit(stale)).rejects.toBeInstanceOf(LockLost);
      const orphan = batch({ atoms: [atom("fd-missing", { name: "x" }), atom(fd.uuid, { name: "y" })], transitions: [step(fd.uuid, "y", "PENDING", "RUNNING"), step("fd-missing", "x", "PENDING", "RUNNING")] });
      await expect(backend.commit(orphan)).rejects.toBeInstanceOf(NotFound);
      expect(moves(await trailOf(backend, fd.uuid))).toEqual(["flow PENDING → RUNNING"]);
    });

    it("deletes a flow's trail with its log book, whether destroyed or expired", async () => {
      const backend = await make();
      const make2 = async (state: "SUCCESS" | "RUNNING") => {
        const lb = book({ updatedAt: 1 });
        const fd = flow(lb.uuid, { state, updatedAt: 1 });
        await backend.commit(batch({ logBooks: [lb], flows: [fd], transitions: [step(fd.uuid, undefined, "PENDING", "RUNNING", 1), step(fd.uuid, undefined, "RUNNING", state, 1)] }));
        return { lb, fd };
      };
      const done = await make2("SUCCESS");
      const running = await make2("RUNNING");
      const destroyed = await make2("SUCCESS");
      expect(await backend.expire({ olderThanMs: DAY, now: 10 * DAY })).toEqual([done.lb.uuid, destroyed.lb.uuid]);
      await expect(trailOf(backend, done.fd.uuid)).rejects.toBeInstanceOf(NotFound);
      expect(await trailOf(backend, running.fd.uuid)).toHaveLength(2);
      await backend.destroyLogBook(running.lb.uuid);
      await expect(trailOf(backend, running.fd.uuid)).rejects.toBeInstanceOf(NotFound);
      // Stored again under the same ids (an import after a delete), the flow starts a new trail.
      await backend.commit(batch({ logBooks: [done.lb], flows: [done.fd] }));
      expect(await trailOf(backend, done.fd.uuid)).toEqual([]);
    });
  });
}
