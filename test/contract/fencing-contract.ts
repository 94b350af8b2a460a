// Fencing tokens (issue 12): what every backend must do so that a runner that lost its flow's
// lock cannot write, run against each backend in its real runtime, like the backend contract.
import { describe, expect, it } from "vitest";
import { linearFlow, load, LockLost, task, type Backend, type WriteBatch } from "../../src/index.js";
import { atom, book, flow } from "./backend-contract.js";

const batch = (b: Partial<WriteBatch>): WriteBatch => ({ logBooks: [], flows: [], atoms: [], ...b });

/** The backend's claim (every backend must have one). */
function claim(backend: Backend, flowUuid: string): Promise<number> {
  if (!backend.claim) throw new Error("the backend has no claim(): it cannot fence its writers");
  return backend.claim(flowUuid);
}

/** A stored log book with one flow detail; returns the flow detail. */
async function stored(backend: Backend) {
  const lb = book();
  const fd = flow(lb.uuid);
  await backend.commit(batch({ logBooks: [lb], flows: [fd] }));
  return fd;
}

export function describeFencingContract(name: string, make: () => Backend | Promise<Backend>): void {
  describe(`fencing contract: ${name}`, () => {
    it("claim() issues the next token from the stored one and stores it", async () => {
      const backend = await make();
      const fd = await stored(backend);
      expect((await backend.getFlowDetail(fd.uuid)).epoch).toBeUndefined();
      expect(await claim(backend, fd.uuid)).toBe(1);
      expect(await claim(backend, fd.uuid)).toBe(2);
      expect((await backend.getFlowDetail(fd.uuid)).epoch).toBe(2);
    });

    it("claims at once get distinct tokens", async () => {
      const backend = await make();
      const fd = await stored(backend);
      const tokens = await Promise.all([1, 2, 3, 4].map(() => claim(backend, fd.uuid)));
      expect(new Set(tokens).size).toBe(4);
      expect((await backend.getFlowDetail(fd.uuid)).epoch).toBe(Math.max(...tokens));
    });

    it("a claim of a flow detail not stored yet gives 1 and stores nothing", async () => {
      const backend = await make();
      expect(await claim(backend, "fd-not-stored")).toBe(1);
      expect(await backend.listLogBooks()).toEqual([]);
    });

    it("refuses a batch with an older token with LockLost, writing none of it (flow or atoms)", async () => {
      const backend = await make();
      const fd = await stored(backend);
      await claim(backend, fd.uuid);
      await claim(backend, fd.uuid); // token 2 is the newest
      const stale = atom(fd.uuid, { state: "SUCCESS", result: "late" });
      const error = await backend.commit(batch({ flows: [{ ...fd, state: "SUCCESS" }], atoms: [stale], fence: { flowUuid: fd.uuid, epoch: 1 } })).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(LockLost);
      expect((error as Error).message).toMatch(/token 2.*token 1/);
      await expect(backend.commit(batch({ atoms: [stale], fence: { flowUuid: fd.uuid, epoch: 1 } }))).rejects.toBeInstanceOf(LockLost);
      expect(await backend.getFlowDetail(fd.uuid)).toMatchObject({ state: "PENDING", epoch: 2 });
      expect(await backend.getAtomDetails(fd.uuid)).toEqual([]);
    });

    it("accepts the newest token; a newer one is stored; a record written without a fence never lowers it", async () => {
      const backend = await make();
      const fd = await stored(backend);
      await claim(backend, fd.uuid);
      await backend.commit(batch({ flows: [{ ...fd, state: "RUNNING" }], fence: { flowUuid: fd.uuid, epoch: 1 } }));
      expect(await backend.getFlowDetail(fd.uuid)).toMatchObject({ state: "RUNNING", epoch: 1 });
      await backend.commit(batch({ atoms: [atom(fd.uuid)], fence: { flowUuid: fd.uuid, epoch: 3 } }));
      expect((await backend.getFlowDetail(fd.uuid)).epoch).toBe(3);
      await backend.commit(batch({ flows: [{ ...fd, state: "SUSPENDED" }] })); // a copy read before any claim
      expect(await backend.getFlowDetail(fd.uuid)).toMatchObject({ state: "SUSPENDED", epoch: 3 });
      expect(await claim(backend, fd.uuid)).toBe(4);
    });

    it("two engines racing on one flow detail (the backend's own lock): every task executes once, both end SUCCESS", async () => {
      const backend = await make();
      expect(backend.locks).toBeDefined();
      const executed: string[] = [];
      const step = (n: string) => task({ name: n, provides: n, execute: async () => (executed.push(n), await Promise.resolve(), n) });
      const definition = () => linearFlow("race", step("a"), step("b"), step("c"));
      const first = load(definition(), { backend });
      await first.save();
      const engines = [first, load(definition(), { backend, flowDetailId: first.flowDetailId })];
      await Promise.all(engines.map((e) => e.run()));
      expect(executed).toEqual(["a", "b", "c"]);
      for (const e of engines) expect(e.storage.flowState).toBe("SUCCESS");
      expect((await backend.getFlowDetail(first.flowDetailId)).state).toBe("SUCCESS");
    });
  });
}
