// The contract every log book backend must meet, run against each backend in its real runtime
// (memory in Node here; IndexedDB in Chromium and Durable Objects in workerd with their adapters).
import { describe, expect, it } from "vitest";
import {
  Duplicate, Failure, InvalidFormat, linearFlow, load, NotFound, SCHEMA_VERSION, task,
  type AtomDetail, type Backend, type FlowDetail, type FlowState, type KeyBinding, type LogBook,
} from "../../src/index.js";
import { resumeOrStart } from "../../src/resume.js";

export interface ContractHooks {
  /** A fresh, empty backend. */
  make: () => Backend | Promise<Backend>;
  /**
   * Overwrites a stored record with raw data, bypassing validation, as a foreign tool or a disk
   * error would; returns the backend to read from afterwards (the same one, or a reopened one).
   */
  corrupt?: (backend: Backend, kind: "book" | "flow" | "atom", uuid: string, raw: unknown) => Promise<Backend>;
}

let seq = 0;
const id = (p: string) => `${p}-${++seq}`;
export const book = (over: Partial<LogBook> = {}): LogBook => ({ schemaVersion: SCHEMA_VERSION, uuid: id("lb"), name: "book", createdAt: 1, updatedAt: 1, meta: {}, ...over });
export const flow = (bookUuid: string, over: Partial<FlowDetail> = {}): FlowDetail => ({
  schemaVersion: SCHEMA_VERSION, uuid: id("fd"), bookUuid, name: "flow", state: "PENDING", createdAt: 2, updatedAt: 2, meta: {}, ...over,
});
export const atom = (flowUuid: string, over: Partial<AtomDetail> = {}): AtomDetail => ({
  schemaVersion: SCHEMA_VERSION, uuid: id("ad"), flowUuid, name: id("a"), kind: "task", state: "PENDING", intention: "EXECUTE", version: "1.0", meta: {}, updatedAt: 3, ...over,
});
const batch = (b: Partial<{ logBooks: LogBook[]; flows: FlowDetail[]; atoms: AtomDetail[]; keys: KeyBinding[] }>) => ({ logBooks: [], flows: [], atoms: [], ...b });
const DAY = 86_400_000;

export function describeBackendContract(name: string, hooks: ContractHooks): void {
  describe(`backend contract: ${name}`, () => {
    it("stores a log book, its flow details and atom details in one commit, and reads them back", async () => {
      const backend = await hooks.make();
      const lb = book({ name: "orders", meta: { tenant: "t1" } });
      const fd = flow(lb.uuid, { store: { x: 1 }, meta: { owner: "ops" } });
      const ad = atom(fd.uuid, { state: "SUCCESS", result: { total: 3, at: [1, 2] } });
      await backend.commit(batch({ logBooks: [lb], flows: [fd], atoms: [ad] }));
      expect(await backend.getLogBook(lb.uuid)).toEqual(lb);
      expect(await backend.getFlowDetails(lb.uuid)).toEqual([fd]);
      expect(await backend.getFlowDetail(fd.uuid)).toEqual(fd);
      expect(await backend.getAtomDetails(fd.uuid)).toEqual([ad]);
      expect((await backend.listLogBooks()).map((b) => b.uuid)).toContain(lb.uuid);
    });

    it("refuses a flow detail whose log book is not stored, and writes nothing of that batch", async () => {
      const backend = await hooks.make();
      const lb = book();
      await backend.commit(batch({ logBooks: [lb] }));
      const good = flow(lb.uuid);
      const orphan = flow("no-such-book");
      await expect(backend.commit(batch({ flows: [good, orphan] }))).rejects.toBeInstanceOf(NotFound);
      await expect(backend.getFlowDetail(good.uuid)).rejects.toBeInstanceOf(NotFound);
    });

    it("refuses an atom detail whose flow detail is not stored", async () => {
      const backend = await hooks.make();
      await expect(backend.commit(batch({ atoms: [atom("no-such-flow")] }))).rejects.toBeInstanceOf(NotFound);
    });

    it("replaces records on update and keeps the latest", async () => {
      const backend = await hooks.make();
      const lb = book();
      const fd = flow(lb.uuid);
      const ad = atom(fd.uuid);
      await backend.commit(batch({ logBooks: [lb], flows: [fd], atoms: [ad] }));
      await backend.commit(batch({ flows: [{ ...fd, state: "RUNNING" }], atoms: [{ ...ad, state: "RUNNING", intention: "REVERT" }] }));
      expect((await backend.getFlowDetail(fd.uuid)).state).toBe("RUNNING");
      const [stored] = await backend.getAtomDetails(fd.uuid);
      expect(stored?.state).toBe("RUNNING");
      expect(stored?.intention).toBe("REVERT");
    });

    it("round-trips failures and revert failures", async () => {
      const backend = await hooks.make();
      const lb = book();
      const fd = flow(lb.uuid);
      const cause = new RangeError("inner");
      const failure = Failure.fromError(new TypeError("outer", { cause })).toJSON();
      const revertFailure = Failure.fromError(new Error("Gotcha!")).toJSON();
      const ad = atom(fd.uuid, { state: "REVERT_FAILURE", failure, revertFailure });
      await backend.commit(batch({ logBooks: [lb], flows: [fd], atoms: [ad] }));
      const [stored] = await backend.getAtomDetails(fd.uuid);
      const back = Failure.fromJSON(stored?.failure);
      expect(back.matches(Failure.fromJSON(failure))).toBe(true);
      expect(back.causes[0]?.check(RangeError)).toBe("RangeError");
      expect(Failure.fromJSON(stored?.revertFailure).exceptionStr).toBe("Gotcha!");
    });

    it("hands out copies: mutating what it returned, or what it was given, changes nothing stored", async () => {
      const backend = await hooks.make();
      const lb = book();
      const fd = flow(lb.uuid);
      const ad = atom(fd.uuid, { state: "SUCCESS", result: { items: ["a"] } });
      await backend.commit(batch({ logBooks: [lb], flows: [fd], atoms: [ad] }));
      (ad.result as { items: string[] }).items.push("given");
      const [read] = await backend.getAtomDetails(fd.uuid);
      (read?.result as { items: string[] }).items.push("returned");
      const [again] = await backend.getAtomDetails(fd.uuid);
      expect(again?.result).toEqual({ items: ["a"] });
    });

    it("hands out copies of the records an engine wrote (the engine's are frozen): a reader may change them, and nothing stored changes", async () => {
      const backend = await hooks.make();
      const engine = load(linearFlow("copies", task({ name: "a", execute: () => ({ n: 1 }) })), { backend });
      await engine.run();
      const [read] = await backend.getAtomDetails(engine.flowDetailId);
      const flowRead = await backend.getFlowDetail(engine.flowDetailId);
      // Each write is a TypeError on a frozen object (modules are strict): none may throw.
      read!.state = "FAILURE";
      read!.meta.note = "changed";
      (read!.timestamps ?? {}).SUCCESS = 0;
      (read!.result as { n: number }).n = 2;
      flowRead.fingerprint![0]!.name = "changed";
      const [again] = await backend.getAtomDetails(engine.flowDetailId);
      expect([again?.state, again?.meta, again?.result]).toEqual(["SUCCESS", {}, { n: 1 }]);
      expect((await backend.getFlowDetail(engine.flowDetailId)).fingerprint?.[0]?.name).toBe("a");
    });

    // Issue 11, item 13: JSON.parse and structured clone make `"__proto__"` an own key; a copy
    // that assigns it would change the object's prototype instead and lose the value.
    it("keeps \"__proto__\" an own key of a store, an input, a result, injected arguments and meta", async () => {
      const backend = await hooks.make();
      const own = () => JSON.parse('{ "__proto__": { "deep": { "__proto__": [1] } }, "plain": 2 }') as Record<string, unknown>;
      const lb = book({ meta: own() });
      const fd = flow(lb.uuid, { store: own(), inputs: own(), meta: own() });
      const ad = atom(fd.uuid, { state: "SUCCESS", result: own(), injected: own(), meta: own() });
      await backend.commit(batch({ logBooks: [lb], flows: [fd], atoms: [ad] }));
      const [a] = await backend.getAtomDetails(fd.uuid);
      const f = await backend.getFlowDetail(fd.uuid);
      const read = [(await backend.getLogBook(lb.uuid)).meta, f.store, f.inputs, f.meta, a?.result, a?.injected, a?.meta];
      for (const value of read) {
        const v = value as Record<string, unknown>;
        expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
        expect(Object.keys(v)).toEqual(["__proto__", "plain"]);
        expect(JSON.stringify(v)).toBe('{"__proto__":{"deep":{"__proto__":[1]}},"plain":2}');
      }
    });

    it("destroys a log book with everything in it; an unknown one is NotFound", async () => {
      const backend = await hooks.make();
      const lb = book();
      const fd = flow(lb.uuid);
      await backend.commit(batch({ logBooks: [lb], flows: [fd], atoms: [atom(fd.uuid)] }));
      await backend.destroyLogBook(lb.uuid);
      await expect(backend.getLogBook(lb.uuid)).rejects.toBeInstanceOf(NotFound);
      await expect(backend.getFlowDetail(fd.uuid)).rejects.toBeInstanceOf(NotFound);
      await expect(backend.getAtomDetails(fd.uuid)).rejects.toBeInstanceOf(NotFound);
      await expect(backend.destroyLogBook(lb.uuid)).rejects.toBeInstanceOf(NotFound);
    });

    it("reports unknown ids as NotFound", async () => {
      const backend = await hooks.make();
      await expect(backend.getLogBook("nope")).rejects.toBeInstanceOf(NotFound);
      await expect(backend.getFlowDetail("nope")).rejects.toBeInstanceOf(NotFound);
      await expect(backend.getFlowDetails("nope")).rejects.toBeInstanceOf(NotFound);
      await expect(backend.getAtomDetails("nope")).rejects.toBeInstanceOf(NotFound);
    });

    it("lists finished log books by last activity and expires those idle for long, with everything in them", async () => {
      const backend = await hooks.make();
      const now = 100 * DAY;
      const made: Record<string, { book: string; flows: string[] }> = {};
      const make = async (name: string, states: FlowState[], lastActive: number, bookActive = now - 20 * DAY) => {
        const lb = book({ name, createdAt: now - 20 * DAY, updatedAt: bookActive });
        const fds = states.map((state) => flow(lb.uuid, { state, updatedAt: lastActive }));
        await backend.commit(batch({ logBooks: [lb], flows: fds, atoms: fds.map((f) => atom(f.uuid, { state: "SUCCESS" })) }));
        made[name] = { book: lb.uuid, flows: fds.map((f) => f.uuid) };
      };
      await make("recent", ["SUCCESS"], now - 3_600_000); // created long ago, finished an hour ago
      await make("old-mixed", ["REVERTED", "FAILURE"], now - 9 * DAY);
      await make("old-success", ["SUCCESS"], now - 10 * DAY);
      await make("book-touched", ["SUCCESS"], now - 10 * DAY, now - 2 * 3_600_000); // the book itself changed lately
      await make("running", ["SUCCESS", "RUNNING"], now - 10 * DAY);
      await make("suspended", ["SUSPENDED"], now - 10 * DAY);
      await make("empty", [], now - 10 * DAY);

      expect((await backend.listFinished()).map((b) => b.name)).toEqual(["old-success", "old-mixed", "book-touched", "recent"]);
      const expired = await backend.expire({ olderThanMs: DAY, now });
      expect(expired).toEqual([made["old-success"]?.book, made["old-mixed"]?.book]);
      expect((await backend.listLogBooks()).map((b) => b.name).sort()).toEqual(["book-touched", "empty", "recent", "running", "suspended"]);
      for (const name of ["old-success", "old-mixed"]) {
        await expect(backend.getLogBook(made[name]?.book as string)).rejects.toBeInstanceOf(NotFound);
        for (const fd of made[name]?.flows ?? []) await expect(backend.getAtomDetails(fd)).rejects.toBeInstanceOf(NotFound);
      }
      expect(await backend.getAtomDetails(made["recent"]?.flows[0] as string)).toHaveLength(1);
      expect(await backend.expire({ olderThanMs: DAY, now })).toEqual([]);
      expect((await backend.listFinished()).map((b) => b.name)).toEqual(["book-touched", "recent"]);
    });

    it("lists nothing finished and expires nothing while a flow is unfinished or the backend is empty", async () => {
      const backend = await hooks.make();
      expect(await backend.listFinished()).toEqual([]);
      expect(await backend.expire({ olderThanMs: 0, now: Number.MAX_SAFE_INTEGER })).toEqual([]);
      const lb = book();
      const fd = flow(lb.uuid, { state: "RUNNING" });
      await backend.commit(batch({ logBooks: [lb], flows: [fd] }));
      expect(await backend.expire({ olderThanMs: 0, now: Number.MAX_SAFE_INTEGER })).toEqual([]);
      await backend.commit(batch({ flows: [{ ...fd, state: "SUCCESS" }] }));
      expect(await backend.expire({ olderThanMs: 0, now: Number.MAX_SAFE_INTEGER })).toEqual([lb.uuid]);
    });

    it("lists the unfinished flow details of every log book, least recently updated first", async () => {
      const backend = await hooks.make();
      expect(await backend.listUnfinished()).toEqual([]);
      const one = book();
      const two = book();
      const states: FlowState[] = ["SUCCESS", "SUSPENDED", "REVERTED", "RUNNING", "FAILURE", "PENDING", "RESUMING", "SUSPENDING"];
      const fds = states.map((state, i) => flow(i % 2 ? one.uuid : two.uuid, { state, name: state, updatedAt: 100 - i }));
      await backend.commit(batch({ logBooks: [one, two], flows: fds }));
      expect((await backend.listUnfinished()).map((f) => f.name)).toEqual(["SUSPENDING", "RESUMING", "PENDING", "RUNNING", "SUSPENDED"]);
      const running = fds.find((f) => f.state === "RUNNING") as FlowDetail;
      await backend.commit(batch({ flows: [{ ...running, state: "SUCCESS" }] }));
      expect((await backend.listUnfinished()).map((f) => f.name)).not.toContain("RUNNING");
      await backend.destroyLogBook(two.uuid);
      expect((await backend.listUnfinished()).map((f) => f.name)).toEqual(["SUSPENDING", "PENDING", "SUSPENDED"]);
    });

    it("binds a user key with a flow's first write, and refuses a batch that would take a key bound elsewhere", async () => {
      const backend = await hooks.make();
      if (!backend.getKeyedFlow || !backend.deleteKey) throw new Error("this backend keeps no user keys");
      expect(await backend.getKeyedFlow("wizard")).toBeUndefined();
      const lb = book();
      const first = flow(lb.uuid);
      await backend.commit(batch({ logBooks: [lb], flows: [first], keys: [{ key: "wizard", flowUuid: first.uuid }] }));
      expect(await backend.getKeyedFlow("wizard")).toBe(first.uuid);
      // The same binding again is no change.
      await backend.commit(batch({ flows: [{ ...first, state: "RUNNING" }], keys: [{ key: "wizard", flowUuid: first.uuid }] }));

      // A second flow for the key, as a second tab would start it: refused, and nothing of it is stored.
      const other = book();
      const second = flow(other.uuid);
      const refused = await backend.commit(batch({ logBooks: [other], flows: [second], keys: [{ key: "wizard", flowUuid: second.uuid }] })).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(Duplicate);
      expect((refused as Error).message).toContain(first.uuid);
      await expect(backend.getLogBook(other.uuid)).rejects.toBeInstanceOf(NotFound);
      await expect(backend.getFlowDetail(second.uuid)).rejects.toBeInstanceOf(NotFound);
      expect(await backend.getKeyedFlow("wizard")).toBe(first.uuid);

      // Naming the flow it replaces, it takes the key; a stale `replaces` does not.
      await backend.commit(batch({ logBooks: [other], flows: [second], keys: [{ key: "wizard", flowUuid: second.uuid, replaces: first.uuid }] }));
      expect(await backend.getKeyedFlow("wizard")).toBe(second.uuid);
      await expect(backend.commit(batch({ flows: [first], keys: [{ key: "wizard", flowUuid: first.uuid, replaces: "gone" }] }))).rejects.toBeInstanceOf(Duplicate);
      expect(await backend.getKeyedFlow("wizard")).toBe(second.uuid);

      // A key outlives its log book (it then points at nothing), until it is deleted.
      await backend.destroyLogBook(other.uuid);
      expect(await backend.getKeyedFlow("wizard")).toBe(second.uuid);
      expect(await backend.deleteKey("wizard")).toBe(true);
      expect(await backend.deleteKey("wizard")).toBe(false);
      expect(await backend.getKeyedFlow("wizard")).toBeUndefined();
    });

    it("resumeOrStart: starts one flow for a key when two callers ask at once, resumes it, and starts anew when its log book is gone", async () => {
      const backend = await hooks.make();
      const ran: string[] = [];
      const wizard = () => linearFlow("wizard", task({ name: "step", execute: () => void ran.push("step") }));
      const [a, b] = await Promise.all([resumeOrStart("w:1", wizard, { backend }), resumeOrStart("w:1", wizard, { backend })]);
      expect([a.outcome, b.outcome].sort()).toEqual(["resumed", "started"]);
      expect(a.engine.flowDetailId).toBe(b.engine.flowDetailId);
      expect(await backend.listUnfinished()).toHaveLength(1);
      expect(a.engine.state).toBe("PENDING");

      await a.engine.run();
      const done = await resumeOrStart("w:1", wizard, { backend });
      expect(done.outcome).toBe("finished");
      expect(done.engine.state).toBe("SUCCESS");
      expect(ran).toEqual(["step"]);

      const again = await resumeOrStart("w:1", wizard, { backend, ifFinished: "start" });
      expect(again).toMatchObject({ outcome: "started", replaced: { flowDetailId: a.engine.flowDetailId, reason: "finished" } });
      expect(await backend.getKeyedFlow?.("w:1")).toBe(again.engine.flowDetailId);

      const gone = (await backend.getFlowDetail(again.engine.flowDetailId)).bookUuid;
      await backend.destroyLogBook(gone);
      await expect(resumeOrStart("w:1", wizard, { backend, ifMissing: "throw" })).rejects.toThrow(/no longer stored/);
      const fresh = await resumeOrStart("w:1", wizard, { backend });
      expect(fresh).toMatchObject({ outcome: "started", replaced: { flowDetailId: again.engine.flowDetailId, reason: "missing" } });
      expect((await backend.getFlowDetail(fresh.engine.flowDetailId)).state).toBe("PENDING");
    });

    if (hooks.corrupt) {
      const corrupt = hooks.corrupt;
      it("reports a corrupted or foreign record with its id, and leaves the others readable", async () => {
        let backend = await hooks.make();
        const lb = book();
        const fd = flow(lb.uuid);
        const good = atom(fd.uuid);
        const bad = atom(fd.uuid);
        await backend.commit(batch({ logBooks: [lb], flows: [fd], atoms: [good, bad] }));
        backend = await corrupt(backend, "atom", bad.uuid, { ...bad, state: "EXPLODED" });
        const error = await backend.getAtomDetails(fd.uuid).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(InvalidFormat);
        expect((error as Error).message).toContain(bad.uuid);
        expect((error as Error).message).toMatch(/state/);
        expect(await backend.getFlowDetail(fd.uuid)).toEqual(fd);

        backend = await corrupt(backend, "flow", fd.uuid, { ...fd, schemaVersion: 7 });
        await expect(backend.getFlowDetail(fd.uuid)).rejects.toThrow(/schema version 7.*upgrade taskflow-ts/);
      });

      it("migrates a record of schema version 1 on read, keeps a top-level field it does not know, refuses a corrupt engine field by its path", async () => {
        let backend = await hooks.make();
        const lb = book();
        const fd = flow(lb.uuid);
        const a = atom(fd.uuid);
        await backend.commit(batch({ logBooks: [lb], flows: [fd], atoms: [a] }));
        const { meta: _, ...rest } = a;
        backend = await corrupt(backend, "atom", a.uuid, { ...rest, schemaVersion: 1, meta: { attempts: 3, wakeAt: 9, duration: 1, mine: "x" }, later: [1] });
        expect(await backend.getAtomDetails(fd.uuid)).toEqual([{ ...a, schemaVersion: SCHEMA_VERSION, attempts: 3, wakeAt: 9, meta: { duration: 1, mine: "x" }, later: [1] }]);
        backend = await corrupt(backend, "flow", fd.uuid, { ...fd, schemaVersion: 1, meta: { suspendedReason: "input", owner: "ops" } });
        expect(await backend.getFlowDetail(fd.uuid)).toEqual({ ...fd, schemaVersion: SCHEMA_VERSION, suspendedReason: "input", meta: { owner: "ops" } });
        backend = await corrupt(backend, "atom", a.uuid, { ...a, wakeAt: "soon" });
        await expect(backend.getAtomDetails(fd.uuid)).rejects.toThrow(new RegExp(`atom detail "[^"]*${a.uuid}".*: wakeAt: expected a number`));
      });

      it("skips and reports a corrupted or newer record when listing and expiring, and collects the rest", async () => {
        let backend = await hooks.make();
        const now = 100 * DAY;
        const finished = async (name: string, flows = 1) => {
          const lb = book({ name, updatedAt: now - 10 * DAY });
          const fds = Array.from({ length: flows }, () => flow(lb.uuid, { state: "SUCCESS", updatedAt: now - 10 * DAY }));
          await backend.commit(batch({ logBooks: [lb], flows: fds }));
          return { lb, fds };
        };
        const old = await finished("old");
        const newer = await finished("newer-book");
        const torn = await finished("torn-flow", 2);
        backend = await corrupt(backend, "book", newer.lb.uuid, { ...newer.lb, schemaVersion: 7 });
        backend = await corrupt(backend, "flow", torn.fds[0]!.uuid, { ...torn.fds[0], state: "EXPLODED" });

        const reports: Array<[string, unknown]> = [];
        const onBadRecord = (key: string, error: InvalidFormat) => void reports.push([key, error]);
        /** The records reported since the last call, each by a key that names it, with its InvalidFormat. */
        const expectReported = (...uuids: string[]) => {
          const seen = reports.splice(0);
          expect(seen).toHaveLength(uuids.length);
          for (const [key, error] of seen) {
            expect(error).toBeInstanceOf(InvalidFormat);
            expect((error as Error).message).toContain(key);
          }
          for (const uuid of uuids) expect(seen.some(([key]) => key.includes(uuid)), `${uuid} reported`).toBe(true);
        };

        expect((await backend.listLogBooks({ onBadRecord })).map((b) => b.name).sort()).toEqual(["old", "torn-flow"]);
        expectReported(newer.lb.uuid);
        // A book with an unreadable flow detail is not known to be finished: never listed, never expired.
        expect((await backend.listFinished({ onBadRecord })).map((b) => b.name)).toEqual(["old"]);
        expectReported(newer.lb.uuid, torn.fds[0]!.uuid);
        expect(await backend.expire({ olderThanMs: DAY, now, onBadRecord })).toEqual([old.lb.uuid]);
        expectReported(newer.lb.uuid, torn.fds[0]!.uuid);
        // Without a callback too: nothing throws, nothing more is deleted.
        expect(await backend.expire({ olderThanMs: DAY, now })).toEqual([]);
        expect(await backend.listFinished()).toEqual([]);

        // The bad records are left as they were, still refused by name; the rest is intact.
        await expect(backend.getLogBook(newer.lb.uuid)).rejects.toThrow(/schema version 7.*upgrade taskflow-ts/);
        await expect(backend.getFlowDetail(torn.fds[0]!.uuid)).rejects.toBeInstanceOf(InvalidFormat);
        expect(await backend.getFlowDetail(torn.fds[1]!.uuid)).toEqual(torn.fds[1]);
        await expect(backend.getLogBook(old.lb.uuid)).rejects.toBeInstanceOf(NotFound);
      });

      it("keeps fields it does not know, nested ones too (a failure, a fingerprint entry, a wait), and writes nothing back", async () => {
        let backend = await hooks.make();
        const lb = book();
        const fd = flow(lb.uuid);
        const a = atom(fd.uuid);
        await backend.commit(batch({ logBooks: [lb], flows: [fd], atoms: [a] }));
        const inner = { ...Failure.fromError(new RangeError("inner")).toJSON(), retryable: true };
        const failure = { ...Failure.fromError(new TypeError("outer")).toJSON(), causes: [inner], code: "E_OUTER" };
        const rawAtom = {
          ...a, state: "FAILURE", failure, revertFailure: { ...failure, severity: 2 }, progressDetails: { atProgress: 0.5, details: 1, unit: "rows" },
          timestamps: { FAILURE: 4 }, later: { nested: { deep: [1] } },
        };
        const rawFlow = {
          ...fd, state: "SUSPENDED", owner: "ops",
          fingerprint: [{ name: a.name, kind: "task", requires: [], optional: [], provides: [], version: "1.0", hash: "abc" }],
          factory: { name: "f", args: [1], registry: "main" }, cancelled: { reason: "r", at: 3, by: "ada" },
          waitingFor: [{ name: "email", description: "Email", deadline: 9, widget: "text" }],
        };
        const rawBook = { ...lb, owner: { team: "ops" } };
        backend = await corrupt(backend, "atom", a.uuid, rawAtom);
        backend = await corrupt(backend, "flow", fd.uuid, rawFlow);
        backend = await corrupt(backend, "book", lb.uuid, rawBook);
        expect(await backend.getAtomDetails(fd.uuid)).toEqual([rawAtom]);
        expect(await backend.getFlowDetail(fd.uuid)).toEqual(rawFlow);
        expect(await backend.getFlowDetails(lb.uuid)).toEqual([rawFlow]);
        expect(await backend.getLogBook(lb.uuid)).toEqual(rawBook);
        expect(await backend.listLogBooks()).toEqual([rawBook]);
      });
    }
  });
}
