// The IndexedDB adapter's suite, run wherever there is an IndexedDB: in Node under fake-indexeddb
// (test/unit/idb.test.ts) and in Chromium (test/browser/idb.test.ts). Only how a full disk is
// staged differs, so each runtime passes its own `FullStorage`.
import { deleteDB, openDB } from "idb";
import { afterEach, describe, expect, it } from "vitest";
import { IDB_SCHEMA_VERSION, type IndexedDbBackend } from "../../adapters/idb/index.js";
import { FlowRegistry, linearFlow, load, LockLost, type Engine, type FlowItem, MemoryBackend, MemoryLockService, NotFound, StorageFailure, task, unorderedFlow, type AtomDetail, type WriteBatch } from "../../src/index.js";
import { countCommits } from "../../src/backend.js";
import { assertCrashSafe, ManualClock } from "../../src/testing/index.js";
import { resumeOrStart } from "../../src/resume.js";
import { Conductor, MemoryJobBoard } from "../../src/jobs/index.js";
import { atom, book, describeBackendContract, flow } from "../contract/backend-contract.js";
import { describeFencingContract } from "../contract/fencing-contract.js";
import { describeTrailContract } from "../contract/trail-contract.js";
import { add, crashFlows } from "../contract/crash-flows.js";
import { idbHooks, noise } from "../contract/idb-hooks.js";

/** Storage that runs out, staged the way the runtime allows. */
export interface FullStorage {
  /** A backend on nearly full storage: a transaction adding 3 MB fails with QuotaExceededError, small ones pass. */
  open: () => Promise<IndexedDbBackend>;
  /** The same database through a new connection. */
  reopen: (backend: IndexedDbBackend) => Promise<IndexedDbBackend>;
  /** Makes room for a few such transactions, as an app would, and returns once the runtime counts it free. */
  makeRoom: (backend: IndexedDbBackend) => Promise<void>;
  /**
   * Whether a small write surely fits right after the big one was refused. Chromium may count the
   * refused write's blob file against the quota for a moment, and refuse the small one too.
   */
  smallWriteFitsAfterRefusal: boolean;
}

const batch = (b: Partial<WriteBatch>): WriteBatch => ({ logBooks: [], flows: [], atoms: [], ...b });
const DAY = 86_400_000;

export function describeIndexedDbBackend(runtime: string, full: FullStorage): void {
  const { fresh, corrupt, reopen, newName, cleanUp } = idbHooks(`tf-${runtime}`);
  afterEach(cleanUp);

  describeBackendContract(`IndexedDB (${runtime})`, { make: () => fresh(), corrupt });
  describeFencingContract(`IndexedDB (${runtime})`, () => fresh());
  describeTrailContract(`IndexedDB (${runtime})`, () => fresh());

  describe(`IndexedDbBackend (${runtime}): crash at every write, resumed through a new connection`, () => {
    for (const engine of ["serial", "parallel"] as const) {
      for (const [shape, makeFlow] of Object.entries(crashFlows)) {
        it(`${shape} flow, ${engine} engine`, async () => {
          const report = await assertCrashSafe({ makeFlow, store: { x: 1 }, engine: { engine }, makeBackend: () => fresh(), reopen });
          expect(report.points).toBeGreaterThan(2);
          expect(report.scenarios).toBe(report.points * 2);
        });
      }
    }
  });

  describe(`IndexedDbBackend (${runtime}): group commit across flows`, () => {
    const flows = (n: number, size: number) => Array.from({ length: n }, (_, f) => linearFlow(`f${f}`, ...Array.from({ length: size }, (_, i) => add(`t${i}`, [], `v${i}`))));

    it("writes the batches of flows running at once in shared transactions; one per batch when `groupCommits: false`", async () => {
      const spy = spyTransactions();
      try {
        for (const groupCommits of [true, false]) {
          const backend = countCommits(await fresh(undefined, { groupCommits }));
          const engines = flows(8, 5).map((f) => load(f, { backend }));
          for (const e of engines) await e.save();
          spy.reset();
          const before = backend.commits;
          await Promise.all(engines.map((e) => e.run()));
          const commits = backend.commits - before;
          const claims = engines.length;
          if (groupCommits) expect(spy.writes().length).toBeLessThan((commits + claims) / 2);
          else expect(spy.writes()).toHaveLength(commits + claims);
          for (const e of engines) expect((await backend.getAtomDetails(e.flowDetailId)).map((d) => d.state)).toEqual(Array(5).fill("SUCCESS"));
        }
      } finally {
        spy.restore();
      }
    });

    it("refuses a superseded flow's batch in a group with LockLost, storing nothing of it, and lands the other flows' batches", async () => {
      const backend = await fresh();
      const lb = book();
      const [a, b, c] = [flow(lb.uuid), flow(lb.uuid), flow(lb.uuid)] as const;
      await backend.commit(batch({ logBooks: [lb], flows: [a, b, c] }));
      for (const f of [a, b, c]) expect(await backend.claim(f.uuid)).toBe(1);
      // Another tab claims flow a: this connection still knows token 1, and checks by it.
      expect(await (await fresh(backend.name)).claim(a.uuid)).toBe(2);
      const spy = spyTransactions();
      try {
        const first = backend.commit(batch({ logBooks: [{ ...lb, updatedAt: 5 }] })); // under way: the next three wait and go together
        const [ra, rb, rc] = [a, b, c].map((f) => backend.commit(batch({ atoms: [atom(f.uuid, { name: `of-${f.uuid}` })], fence: { flowUuid: f.uuid, epoch: 1 } })).catch((e: unknown) => e));
        await first;
        const error = await ra;
        expect(error).toBeInstanceOf(LockLost);
        expect((error as Error).message).toContain(a.uuid);
        expect(await rb).toBeUndefined();
        expect(await rc).toBeUndefined();
        // The first commit, the group (aborted), then each of its batches alone.
        expect(spy.writes()).toHaveLength(1 + 1 + 3);
      } finally {
        spy.restore();
      }
      expect(await backend.getAtomDetails(a.uuid)).toEqual([]);
      for (const f of [b, c]) expect((await backend.getAtomDetails(f.uuid)).map((d) => d.name)).toEqual([`of-${f.uuid}`]);
      // The group writes nothing, so the refused flow's next good batch is not held back by it.
      await (await fresh(backend.name)).commit(batch({ atoms: [atom(a.uuid)], fence: { flowUuid: a.uuid, epoch: 2 } }));
    });

    it("refuses a batch whose parent is missing with NotFound, and lands the others of its group", async () => {
      const backend = await fresh();
      const lb = book();
      const fd = flow(lb.uuid);
      await backend.commit(batch({ logBooks: [lb] }));
      const first = backend.commit(batch({ flows: [fd] }));
      const good = backend.commit(batch({ atoms: [atom(fd.uuid, { name: "good" })] }));
      const orphan = backend.commit(batch({ atoms: [atom("no-such-flow")] })).catch((e: unknown) => e);
      await Promise.all([first, good]);
      expect(await orphan).toBeInstanceOf(NotFound);
      expect((await backend.getAtomDetails(fd.uuid)).map((d) => d.name)).toEqual(["good"]);
    });

    it("resolves no batch of a group whose transaction did not commit: each caller gets the failure of its own", async () => {
      const backend = await fresh();
      const lb = book();
      const [a, b] = [flow(lb.uuid), flow(lb.uuid)] as const;
      await backend.commit(batch({ logBooks: [lb], flows: [a, b] }));
      // The page dies now: every readwrite transaction from here on is rolled back. The three
      // commits go as one group, or as one and a group of two (when the commit above is still
      // finishing): a group either way.
      const kill = killTransactionsFrom(1);
      try {
        const commits = [backend.commit(batch({ logBooks: [{ ...lb, updatedAt: 5 }] })), ...[a, b].map((f) => backend.commit(batch({ atoms: [atom(f.uuid)] })))];
        for (const c of commits) expect(await c.catch((e: unknown) => e)).toBeInstanceOf(StorageFailure);
      } finally {
        kill.restore();
      }
      expect((await backend.getLogBook(lb.uuid)).updatedAt).toBe(lb.updatedAt);
      for (const f of [a, b]) expect(await backend.getAtomDetails(f.uuid)).toEqual([]);
    });

    it("crash at every readwrite transaction of flows running at once: each flow resumes to the uninterrupted outcome, and no stored SUCCESS runs again", { timeout: 120_000 }, async () => {
      const shapes = Object.keys(crashFlows);
      type Outcome = Record<string, { state: string; atoms: Array<[string, string, unknown]> }>;
      const ran: string[] = [];
      const counted = (shape: string) => {
        const made = (crashFlows[shape] as () => FlowItem)();
        return linearFlow(shape, task({ name: "mark", execute: () => void ran.push(`${shape}/mark`) }), made);
      };
      const outcome = async (backend: IndexedDbBackend, ids: Record<string, string>): Promise<Outcome> => {
        const out: Outcome = {};
        for (const shape of shapes) {
          const id = ids[shape] as string;
          const atoms = (await backend.getAtomDetails(id)).map((d) => [d.name, d.state, d.result] as [string, string, unknown]).sort((x, y) => x[0].localeCompare(y[0]));
          out[shape] = { state: (await backend.getFlowDetail(id)).state, atoms };
        }
        return out;
      };
      const start = async (backend: IndexedDbBackend) => {
        const engines = Object.fromEntries(shapes.map((shape) => [shape, load(counted(shape), { backend, store: { x: 1 }, engine: "parallel" })]));
        for (const e of Object.values(engines)) await e.save();
        return engines;
      };
      // The uninterrupted run, counting its readwrite transactions.
      const spy = spyTransactions();
      let reference: Outcome;
      let points: number;
      try {
        const backend = await fresh();
        const engines = await start(backend);
        spy.reset();
        await Promise.all(Object.values(engines).map((e) => e.run().catch(() => undefined)));
        points = spy.writes().length;
        // Batches did share transactions (one claim per flow, then fewer transactions than commits).
        expect(points - shapes.length).toBeLessThan(Object.values(engines).reduce((n, e) => n + e.statistics.commits, 0));
        reference = await outcome(backend, Object.fromEntries(shapes.map((s) => [s, (engines[s] as Engine).flowDetailId])));
      } finally {
        spy.restore();
      }
      expect(points).toBeGreaterThan(4);
      for (let k = 1; k <= points; k++) {
        const backend = await fresh();
        const engines = await start(backend);
        const ids = Object.fromEntries(shapes.map((s) => [s, (engines[s] as Engine).flowDetailId]));
        // The page dies at the k-th readwrite transaction: it and every later one are rolled back.
        const kill = killTransactionsFrom(k);
        try {
          await Promise.all(Object.values(engines).map((e) => e.run().catch(() => undefined)));
        } finally {
          kill.restore();
        }
        const again = await reopen(backend);
        const stored = await outcome(again, ids);
        ran.length = 0;
        for (const shape of shapes) await load(counted(shape), { backend: again, flowDetailId: ids[shape], engine: "parallel" }).run().catch(() => undefined);
        expect(await outcome(again, ids), `crash at transaction ${k}`).toEqual(reference);
        const succeeded = shapes.filter((s) => stored[s]?.atoms.some(([name, state]) => name === "mark" && state === "SUCCESS"));
        expect(ran.filter((r) => succeeded.includes(r.split("/")[0] as string)), `crash at transaction ${k}`).toEqual([]);
      }
    });
  });

  describe(`IndexedDbBackend (${runtime}): claimFlows, the claims of flows starting at once`, () => {
    const saved = async (backend: IndexedDbBackend, n: number) => {
      const engines = Array.from({ length: n }, (_, f) => load(linearFlow(`f${f}`, add("a", [], "a"), add("b", ["a"], "b")), { backend }));
      for (const e of engines) await e.save();
      await engines[0]?.run(); // one with atom details stored, and a token of 1
      return engines.map((e) => e.flowDetailId);
    };

    it("raises every token in one readwrite transaction and reads back, in it, what each engine loads", async () => {
      const backend = await fresh();
      const ids = await saved(backend, 3);
      const spy = spyTransactions();
      let claimed;
      try {
        claimed = await backend.claimFlows(ids);
        expect(spy.writes()).toHaveLength(1);
      } finally {
        spy.restore();
      }
      expect(claimed.map((c) => c.epoch)).toEqual([2, 1, 1]);
      for (const [i, id] of ids.entries()) {
        const c = claimed[i];
        const stored = await backend.getFlowDetail(id);
        expect(c).toEqual({ epoch: stored.epoch, flow: stored, book: await backend.getLogBook(stored.bookUuid), atoms: await backend.getAtomDetails(id) });
      }
      expect(claimed[0]?.atoms.map((a) => a.state)).toEqual(["SUCCESS", "SUCCESS"]);
    });

    it("shuts out the holders of the tokens it raised: their commits are refused with LockLost, the new holder's land", async () => {
      const backend = await fresh();
      const [id] = (await saved(backend, 1)) as [string];
      const other = await fresh(backend.name); // another tab: this connection still knows token 1
      const [{ epoch } = { epoch: 0 }] = await other.claimFlows([id]);
      expect(epoch).toBe(2);
      // Refused by its trail record's key (taken by the claim's mark), then one without transitions by its token's entry.
      const moved = [{ flowUuid: id, atom: "late", from: "PENDING", to: "RUNNING", at: 9 }];
      await expect(backend.commit(batch({ atoms: [atom(id, { name: "late" })], transitions: moved, fence: { flowUuid: id, epoch: 1 } }))).rejects.toBeInstanceOf(LockLost);
      await expect(backend.commit(batch({ atoms: [atom(id)], fence: { flowUuid: id, epoch: 1 } }))).rejects.toBeInstanceOf(LockLost);
      expect((await backend.getTrail(id)).map((t) => t.atom)).not.toContain("late");
      await other.commit(batch({ atoms: [atom(id, { name: "new" })], fence: { flowUuid: id, epoch: 2 } }));
      expect((await backend.getAtomDetails(id)).map((a) => a.name)).toContain("new");
    });

    it("claims nothing when one flow is not stored (NotFound), and a flow named twice twice, in order", async () => {
      const backend = await fresh();
      const ids = await saved(backend, 2);
      const error = await backend.claimFlows([ids[1] as string, "no-such-flow", ids[0] as string]).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(NotFound);
      expect(error).toHaveProperty("message", expect.stringContaining("no-such-flow"));
      expect((await backend.getFlowDetail(ids[1] as string)).epoch ?? 0).toBe(0);
      expect((await backend.getFlowDetail(ids[0] as string)).epoch).toBe(1);
      const twice = await backend.claimFlows([ids[0] as string, ids[0] as string]);
      expect(twice.map((c) => c.epoch)).toEqual([2, 3]);
      expect(twice[1]?.flow).toEqual(await backend.getFlowDetail(ids[0] as string));
      expect(twice[1]?.flow).not.toBe(twice[0]?.flow); // each caller's own copy
      await expect(backend.commit(batch({ atoms: [atom(ids[0] as string)], fence: { flowUuid: ids[0] as string, epoch: 2 } }))).rejects.toBeInstanceOf(LockLost);
      expect(await backend.claimFlows([])).toEqual([]);
    });

    it("a conductor starting many jobs claims their flows in one transaction and its engines load nothing more", async () => {
      const backend = await fresh();
      const board = new MemoryJobBoard();
      const flows = new FlowRegistry().register("two", () => linearFlow("two", add("a", [], "a"), add("b", ["a"], "b")));
      for (let i = 0; i < 6; i++) await board.post({ flow: "two" });
      const calls: string[] = [];
      const spied = new Proxy(backend, {
        get(target, key) {
          const value = Reflect.get(target, key) as unknown;
          return typeof value === "function" ? (...args: unknown[]) => (calls.push(String(key)), (value as (...a: unknown[]) => unknown).apply(target, args)) : value;
        },
      });
      const conductor = new Conductor({ name: "tab", board, backend: spied, flows, maxJobs: 6 });
      const consumed: string[] = [];
      conductor.on("consumed", ({ job, state }) => void consumed.push(`${job.uuid}:${state}`));
      await conductor.run({ maxDispatches: 6 });
      expect(consumed).toHaveLength(6);
      expect(consumed.every((c) => c.endsWith(":SUCCESS"))).toBe(true);
      expect(calls.filter((c) => c === "claimFlows").length).toBeLessThan(6); // the first alone, those that arrive meanwhile together
      expect(calls.filter((c) => ["claim", "getFlowDetail", "getLogBook", "getAtomDetails"].includes(c))).toEqual([]);
    });

    it("crash at every readwrite transaction of a conductor starting four jobs at once: a second conductor finishes each to the uninterrupted outcome, and no stored SUCCESS runs again", { timeout: 120_000 }, async () => {
      const shapes = Object.keys(crashFlows);
      const ran: string[] = [];
      const flows = new FlowRegistry();
      for (const shape of shapes) flows.register(shape, () => linearFlow(shape, task({ name: "mark", execute: () => void ran.push(`${shape}/mark`) }), (crashFlows[shape] as () => FlowItem)()));
      type Outcome = Record<string, { state: string; atoms: Array<[string, string, unknown]> }>;
      const outcome = async (backend: IndexedDbBackend, board: MemoryJobBoard): Promise<Outcome> => {
        const out: Outcome = {};
        for await (const job of board.iterate({ only: "all" })) {
          const id = job.flowUuid ?? job.uuid;
          const atoms = (await backend.getAtomDetails(id).catch(() => [])).map((d) => [d.name, d.state, d.result] as [string, string, unknown]).sort((x, y) => x[0].localeCompare(y[0]));
          out[job.flow] = { state: (await backend.getFlowDetail(id).catch(() => ({ state: "none" }))).state, atoms };
        }
        return out;
      };
      const run = async (backend: IndexedDbBackend, board: MemoryJobBoard, name: string) => {
        const conductor = new Conductor({ name, board, backend, flows, maxJobs: shapes.length });
        await conductor.run({ maxDispatches: shapes.length });
      };
      const posted = async () => {
        const board = new MemoryJobBoard({ clock: new ManualClock(0) }); // leases never run out here: the dead tab abandons its jobs
        for (const shape of shapes) await board.post({ flow: shape, store: { x: 1 } });
        return board;
      };
      // The uninterrupted run, counting its readwrite transactions.
      const spy = spyTransactions();
      let reference: Outcome;
      let points: number;
      try {
        const backend = await fresh();
        const board = await posted();
        spy.reset();
        await run(backend, board, "tab");
        points = spy.writes().length;
        reference = await outcome(backend, board);
      } finally {
        spy.restore();
      }
      expect(Object.values(reference).map((o) => o.state).sort()).toEqual(["REVERTED", "SUCCESS", "SUCCESS", "SUCCESS"]);
      expect(points).toBeGreaterThan(4);
      for (let k = 1; k <= points; k++) {
        const backend = await fresh();
        const board = await posted();
        // The tab dies at the k-th readwrite transaction: it and every later one are rolled back.
        const kill = killTransactionsFrom(k);
        try {
          await run(backend, board, "tab");
        } finally {
          kill.restore();
        }
        const again = await reopen(backend);
        const stored = await outcome(again, board);
        ran.length = 0;
        // The jobs it could not finish went back on the board: another tab's conductor takes them.
        let left = 0;
        for await (const _job of board.iterate({ only: "unclaimed" })) left++;
        if (left > 0) {
          const conductor = new Conductor({ name: "next-tab", board, backend: again, flows, maxJobs: shapes.length });
          await conductor.run({ maxDispatches: left });
        }
        expect(await outcome(again, board), `crash at transaction ${k}`).toEqual(reference);
        const succeeded = shapes.filter((s) => stored[s]?.atoms.some(([name, state]) => name === "mark" && state === "SUCCESS"));
        expect(ran.filter((r) => succeeded.includes(r.split("/")[0] as string)), `crash at transaction ${k}`).toEqual([]);
      }
    });
  });

  describe(`IndexedDbBackend (${runtime})`, () => {
    it("writes each commit in one readwrite transaction, strict unless asked otherwise", async () => {
      const spy = spyTransactions();
      try {
        const serial = countCommits(await fresh());
        const engine = load(linearFlow("l", ...[1, 2, 3, 4, 5].map((i) => add(`t${i}`, [], `v${i}`))), { backend: serial });
        await engine.run();
        // At most one commit per atom, plus the one that creates the log book; and the claim of the flow's lock.
        expect(serial.commits).toBeLessThanOrEqual(5 + 1);
        expect(spy.writes()).toEqual(Array(serial.commits + 1).fill("strict"));

        spy.reset();
        const relaxed = countCommits(await fresh(undefined, { durability: "relaxed" }));
        const fan = load(unorderedFlow("fan", ...[1, 2, 3, 4, 5, 6, 7, 8].map((i) => add(`u${i}`, [], `w${i}`))), { backend: relaxed, engine: "parallel" });
        await fan.run();
        expect(relaxed.commits).toBeLessThan(8);
        expect(spy.writes()).toEqual(Array(relaxed.commits + 1).fill("relaxed"));
        expect((await relaxed.getAtomDetails(fan.flowDetailId)).map((d) => d.state)).toEqual(Array(8).fill("SUCCESS"));
      } finally {
        spy.restore();
      }
    });

    it("fences a run at no extra transaction: one readwrite transaction per commit, and one to claim the flow", async () => {
      const spy = spyTransactions();
      try {
        const backend = await fresh();
        const engine = load(linearFlow("l", ...[1, 2, 3, 4, 5].map((i) => add(`t${i}`, [], `v${i}`))), { backend });
        await engine.save();
        spy.reset();
        await engine.run();
        expect(spy.writes()).toHaveLength(engine.statistics.commits + 1);
        expect(await backend.getFlowDetail(engine.flowDetailId)).toMatchObject({ state: "SUCCESS", epoch: 1 });
      } finally {
        spy.restore();
      }
    });

    it("checks a fenced commit by the key of its trail record: no request beyond its puts, no read", async () => {
      const spy = spyRequests();
      try {
        const backend = await fresh();
        const requestsOf = async (n: number) => {
          const engine = load(linearFlow("l", ...Array.from({ length: n }, (_, i) => add(`t${i}`, [], `v${i}`))), { backend });
          await engine.save();
          spy.reset();
          await engine.run();
          const all = spy.requests();
          return { commits: engine.statistics.commits, appends: all.filter((r) => r === "trail.add").length, other: all.filter((r) => !/^(atoms|flows|books)\.put$|^trail\.add$/.test(r)) };
        };
        const [five, ten] = [await requestsOf(5), await requestsOf(10)];
        // Each commit more (of atoms alone, fenced with the token this connection claimed) costs
        // its puts and its trail record, and nothing else: the record's key is the check.
        expect(ten.commits - five.commits).toBeGreaterThanOrEqual(5);
        expect(ten.other).toEqual(five.other);
        expect(ten.appends - five.appends).toBe(ten.commits - five.commits);
      } finally {
        spy.restore();
      }
    });

    it("refuses a superseded runner's commit by its trail record's key, storing nothing of it; a commit without transitions by its token's entry", async () => {
      const backend = await fresh();
      const lb = book();
      const fd = flow(lb.uuid);
      await backend.commit(batch({ logBooks: [lb], flows: [fd] }));
      expect(await backend.claim(fd.uuid)).toBe(1);
      const moved = (to: string, at: number) => [{ flowUuid: fd.uuid, atom: "a", from: "PENDING", to, at }];
      await backend.commit(batch({ atoms: [atom(fd.uuid, { state: "RUNNING" })], transitions: moved("RUNNING", 1), fence: { flowUuid: fd.uuid, epoch: 1 } }));
      // Another tab claims the flow; this connection still knows token 1.
      const other = await fresh(backend.name);
      expect(await other.claim(fd.uuid)).toBe(2);
      const spy = spyRequests();
      try {
        const late = await backend.commit(batch({ atoms: [atom(fd.uuid, { state: "SUCCESS" })], transitions: moved("SUCCESS", 2), fence: { flowUuid: fd.uuid, epoch: 1 } })).catch((e: unknown) => e);
        expect(late).toBeInstanceOf(LockLost);
        expect(spy.requests().slice(0, 2)).toEqual(["trail.add", "atoms.put"]); // no token check of its own before the puts
        const noMoves = await backend.commit(batch({ atoms: [atom(fd.uuid, { state: "FAILURE" })], fence: { flowUuid: fd.uuid, epoch: 1 } })).catch((e: unknown) => e);
        expect(noMoves).toBeInstanceOf(LockLost);
      } finally {
        spy.restore();
      }
      expect((await backend.getAtomDetails(fd.uuid)).map((d) => d.state)).toEqual(["RUNNING"]);
      expect((await backend.getTrail(fd.uuid)).map((t) => t.to)).toEqual(["RUNNING"]);
      // The new holder writes on, after the claim's mark.
      await other.commit(batch({ atoms: [atom(fd.uuid, { state: "SUCCESS" })], transitions: moved("SUCCESS", 3), fence: { flowUuid: fd.uuid, epoch: 2 } }));
      expect((await backend.getTrail(fd.uuid)).map((t) => `${t.seq} ${t.to} ${t.at}`)).toEqual(["1 RUNNING 1", "2 SUCCESS 3"]);
    });

    it("commits after all when another writer appended to the trail meanwhile without raising the token (an unfenced one), keeping every record in order", async () => {
      const backend = await fresh();
      const lb = book();
      const fd = flow(lb.uuid);
      await backend.commit(batch({ logBooks: [lb], flows: [fd] }));
      expect(await backend.claim(fd.uuid)).toBe(1);
      const moved = (atomName: string, at: number) => [{ flowUuid: fd.uuid, atom: atomName, from: "PENDING", to: "RUNNING", at }];
      await backend.commit(batch({ atoms: [atom(fd.uuid, { name: "a" })], transitions: moved("a", 1), fence: { flowUuid: fd.uuid, epoch: 1 } }));
      const unfenced = await fresh(backend.name);
      await unfenced.commit(batch({ atoms: [atom(fd.uuid, { name: "b" })], transitions: moved("b", 2) }));
      await backend.commit(batch({ atoms: [atom(fd.uuid, { name: "c" })], transitions: moved("c", 3), fence: { flowUuid: fd.uuid, epoch: 1 } }));
      await unfenced.commit(batch({ atoms: [atom(fd.uuid, { name: "d" })], transitions: moved("d", 4) }));
      expect((await backend.getTrail(fd.uuid)).map((t) => `${t.seq} ${t.atom}`)).toEqual(["1 a", "2 b", "3 c", "4 d"]);
      expect((await backend.getAtomDetails(fd.uuid)).map((d) => d.name).sort()).toEqual(["a", "b", "c", "d"]);
    });

    it("migrates the trail of layout version 6 to keys per flow detail, in order: reads, appends and fences go on", async () => {
      const name = newName();
      const v6 = await openShipped(name, 6);
      const lb = book();
      const [f1, f2] = [flow(lb.uuid), flow(lb.uuid)];
      const entry = (f: { uuid: string }, atomName: string, at: number) => ({ flowUuid: f.uuid, atom: atomName, from: "PENDING", to: "RUNNING", at });
      const tx = v6.transaction(["books", "flows", "trail"], "readwrite");
      void tx.objectStore("books").put(lb);
      for (const f of [f1, f2]) void tx.objectStore("flows").put(f);
      // Interleaved, as two flows running at once left them under the auto-increment key.
      for (const [f, a, at] of [[f1, "a", 1], [f2, "x", 2], [f1, "b", 3], [f2, "y", 4], [f1, "c", 5]] as const) void tx.objectStore("trail").add({ flowUuid: f.uuid, entries: [entry(f, a, at)] });
      void tx.objectStore("trail").add({ note: "a record naming no flow" });
      await tx.done;
      v6.close();

      const backend = await fresh(name); // opening migrates
      expect((await backend.getTrail(f1.uuid)).map((t) => `${t.seq} ${t.atom}`)).toEqual(["1 a", "2 b", "3 c"]);
      expect((await backend.getTrail(f2.uuid)).map((t) => `${t.seq} ${t.atom}`)).toEqual(["1 x", "2 y"]);
      expect(await backend.claim(f1.uuid)).toBe(1);
      await backend.commit(batch({ atoms: [atom(f1.uuid)], transitions: [entry(f1, "d", 6)], fence: { flowUuid: f1.uuid, epoch: 1 } }));
      expect((await backend.getTrail(f1.uuid)).map((t) => t.atom)).toEqual(["a", "b", "c", "d"]);
      expect(await (await fresh(name)).claim(f1.uuid)).toBe(2);
      await expect(backend.commit(batch({ atoms: [atom(f1.uuid)], transitions: [entry(f1, "e", 7)], fence: { flowUuid: f1.uuid, epoch: 1 } }))).rejects.toBeInstanceOf(LockLost);
      const db = await openDB(name);
      try {
        expect(db.version).toBe(IDB_SCHEMA_VERSION);
        expect(await db.get("trail", ["", 1])).toEqual({ note: "a record naming no flow" }); // kept, not lost
      } finally {
        db.close();
      }
    });

    it("migrates the superseded tokens of layout version 3: a commit fenced with one of them is still refused", async () => {
      // Version 3's fencing stores as they shipped: the flows' fence index, `superseded` with the epoch as value.
      const name = newName();
      const v3 = await openShipped(name, 3);
      const lb = book();
      const fd = { ...flow(lb.uuid), epoch: 3 };
      const tx = v3.transaction(["books", "flows", "superseded"], "readwrite");
      void tx.objectStore("books").put(lb);
      void tx.objectStore("flows").put(fd);
      void tx.objectStore("superseded").put(1, [fd.uuid, 1]);
      void tx.objectStore("superseded").put(2, [fd.uuid, 2]);
      await tx.done;
      v3.close();

      const backend = await fresh(name); // opening migrates
      expect(await backend.getFlowDetail(fd.uuid)).toMatchObject({ epoch: 3 });
      await backend.close();
      const db = await openDB(name);
      try {
        expect(await db.getAll("superseded")).toEqual([{ token: [fd.uuid, 1] }, { token: [fd.uuid, 2] }]);
        // The check a connection that still knew token 2 makes: refused by the unique index.
        const check = db.transaction("superseded", "readwrite");
        const error = await check.store.put({ token: [fd.uuid, 2] }, [fd.uuid]).catch((e: unknown) => e);
        await check.done.catch(() => undefined);
        expect((error as DOMException).name).toBe("ConstraintError");
        // The current token passes, and a claim moves it on.
        await db.put("superseded", { token: [fd.uuid, 3] }, [fd.uuid]);
      } finally {
        db.close();
      }
      const again = await fresh(name);
      expect(await again.claim(fd.uuid)).toBe(4);
      await expect(again.commit(batch({ atoms: [atom(fd.uuid)], fence: { flowUuid: fd.uuid, epoch: 3 } }))).rejects.toBeInstanceOf(LockLost);
    });

    it("migrates a database of layout version 4 to the audit trail's store: its flows resume, and their trail starts with the next transition", async () => {
      // Version 4's stores as they shipped.
      const name = newName();
      const v4 = await openShipped(name, 4);
      // A flow saved by the previous version, not run yet.
      const first = load(linearFlow("l", add("t1", [], "v1"), add("t2", [], "v2")), { backend: new MemoryBackend() });
      await first.save();
      const memory = first.backend;
      const fd = await memory.getFlowDetail(first.flowDetailId);
      const tx = v4.transaction(["books", "flows"], "readwrite");
      void tx.objectStore("books").put(await memory.getLogBook(fd.bookUuid));
      void tx.objectStore("flows").put(fd);
      await tx.done;
      v4.close();

      const backend = await fresh(name); // opening migrates
      expect(await backend.getTrail(fd.uuid)).toEqual([]);
      const resumed = load(linearFlow("l", add("t1", [], "v1"), add("t2", [], "v2")), { backend, flowDetailId: fd.uuid });
      await resumed.run();
      const trail = await backend.getTrail(fd.uuid);
      expect(trail.map((t) => `${t.atom ?? "flow"} ${t.to}`)).toEqual(["flow RUNNING", "t1 RUNNING", "t1 SUCCESS", "t2 RUNNING", "t2 SUCCESS", "flow SUCCESS"]);
      const db = await openDB(name);
      try {
        expect(db.version).toBe(IDB_SCHEMA_VERSION);
        expect([...db.transaction("trail").store.indexNames]).toEqual([]); // layout 7: keyed [flowUuid, n], no index
      } finally {
        db.close();
      }
    });

    it("migrates a database of layout version 4: its flows are listed unfinished, and a key binds with the next new flow", async () => {
      // Version 4's layout as it shipped: version 3's stores, `superseded` with its unique token index.
      const name = newName();
      const v4 = await openShipped(name, 4);
      const lb = book();
      const suspended = flow(lb.uuid, { state: "SUSPENDED" });
      const done = flow(lb.uuid, { state: "SUCCESS" });
      const tx = v4.transaction(["books", "flows"], "readwrite");
      void tx.objectStore("books").put(lb);
      void tx.objectStore("flows").put(suspended);
      void tx.objectStore("flows").put(done);
      await tx.done;
      v4.close();

      const backend = await fresh(name); // opening migrates
      expect(await backend.listUnfinished()).toEqual([suspended]);
      expect(await backend.getKeyedFlow("wizard")).toBeUndefined();
      const started = await resumeOrStart("wizard", () => linearFlow("wizard", task({ name: "a", execute: () => 1 })), { backend });
      expect(started.outcome).toBe("started");
      const again = await fresh(name);
      expect(await again.getKeyedFlow("wizard")).toBe(started.engine.flowDetailId);
      const db = await openDB(name);
      expect(db.version).toBe(IDB_SCHEMA_VERSION);
      expect([...db.objectStoreNames]).toContain("keys");
      db.close();
    });

    it("gives two tabs asking for one key at once one flow: the second resumes the first one's", async () => {
      const name = newName();
      const tabs = [await fresh(name), await fresh(name), await fresh(name)];
      const ran: number[] = [];
      const wizard = () => linearFlow("wizard", task({ name: "step", execute: () => void ran.push(1) }));
      const results = await Promise.all(tabs.map((backend) => resumeOrStart("signup", wizard, { backend })));
      expect(results.map((r) => r.outcome).sort()).toEqual(["resumed", "resumed", "started"]);
      expect(new Set(results.map((r) => r.engine.flowDetailId)).size).toBe(1);
      expect(await tabs[0]!.listUnfinished()).toHaveLength(1);
      expect((await tabs[0]!.listLogBooks()).length).toBe(1);
      // Each tab runs it; the flow's lock lets one execute the step, the others find it done.
      await Promise.all(results.map((r) => r.engine.run()));
      expect(ran).toEqual([1]);
    });

    it("refuses the writes of a runner whose flow was claimed by another one, with LockLost, storing nothing of them", async () => {
      const backend = await fresh();
      const executed: string[] = [];
      let started!: () => void;
      let finish!: () => void;
      const inA = new Promise<void>((resolve) => (started = resolve));
      const hold = new Promise<void>((resolve) => (finish = resolve));
      const a = task({ name: "a", provides: "a", execute: async () => (executed.push("a"), started(), await hold, "a") });
      const b = task({ name: "b", provides: "b", execute: () => (executed.push("b"), "b") });
      // A runner whose lock another one broke without telling it (a frozen tab): only the fence stops it.
      const locks = new MemoryLockService();
      const stale = load(linearFlow("l", a, b), { backend, lock: locks });
      await stale.save();
      const running = stale.run().catch((e: unknown) => e);
      await inA;
      locks.breakLock(`taskflow:flow:${stale.flowDetailId}`, { notify: false });
      // Claimed through another connection, as another tab would: this one still knows token 1.
      const other = await fresh(backend.name);
      expect(await other.claim(stale.flowDetailId)).toBe(2);
      finish();
      expect(await running).toBeInstanceOf(LockLost);
      expect(await backend.getFlowDetail(stale.flowDetailId)).toMatchObject({ state: "RUNNING", epoch: 2 });
      expect((await backend.getAtomDetails(stale.flowDetailId)).map((d) => [d.name, d.state])).toEqual([["a", "RUNNING"]]);
      expect(executed).toEqual(["a"]);
    });

    it("keeps the indexes a viewer queries: flows of a book, atoms of a flow, by state, by update time", async () => {
      const backend = await fresh();
      const lb = book();
      const fd = flow(lb.uuid);
      const running = atom(fd.uuid, { state: "RUNNING", updatedAt: 10 });
      const done = [atom(fd.uuid, { state: "SUCCESS", updatedAt: 20 }), atom(fd.uuid, { state: "SUCCESS", updatedAt: 30 })];
      await backend.commit(batch({ logBooks: [lb], flows: [fd], atoms: [running, ...done] }));
      const db = await openDB(backend.name);
      try {
        expect(db.version).toBe(IDB_SCHEMA_VERSION);
        expect([...db.objectStoreNames]).toEqual(["atoms", "books", "flows", "keys", "superseded", "trail"]);
        const tx = db.transaction(["flows", "atoms"]);
        expect([...tx.objectStore("flows").indexNames]).toEqual(["bookUuid", "fence", "state", "updatedAt", "uuid"]);
        expect([...tx.objectStore("atoms").indexNames]).toEqual(["flowUuid", "state", "updatedAt"]);
        expect(await db.getAllKeysFromIndex("flows", "bookUuid", lb.uuid)).toEqual([fd.uuid]);
        expect((await db.getAllKeysFromIndex("atoms", "state", "SUCCESS")).sort()).toEqual(done.map((d) => d.uuid).sort());
        expect(await db.getAllKeysFromIndex("atoms", "updatedAt", IDBKeyRange.lowerBound(15))).toEqual(done.map((d) => d.uuid));
      } finally {
        db.close();
      }
    });

    it("migrates a database of layout version 1, keeping its flows resumable", async () => {
      // Version 1 as it shipped: the three stores and their indexes, without the flows' uuid index.
      const name = newName();
      const v1 = await openShipped(name, 1);
      // A flow stopped after its first step, its records written in the version-1 layout.
      const runs: string[] = [];
      const step = (name: string) => task({ name, provides: name, execute: () => (runs.push(name), name) });
      const makeFlow = () => linearFlow("l", step("a"), step("b"));
      const memory = new MemoryBackend();
      const first = load(makeFlow(), { backend: memory });
      first.on("atom", (e) => e.name === "a" && e.state === "SUCCESS" && first.suspend());
      await first.run();
      const dump = memory.dump();
      const tx = v1.transaction(["books", "flows", "atoms"], "readwrite");
      for (const [store, records] of [["books", dump.logBooks], ["flows", dump.flows], ["atoms", dump.atoms]] as const) {
        for (const r of records) void tx.objectStore(store).put(r);
      }
      await tx.done;
      v1.close();

      const backend = await fresh(name); // opening migrates
      const db = await openDB(name);
      expect(db.version).toBe(IDB_SCHEMA_VERSION);
      expect([...db.transaction("flows").store.indexNames]).toContain("uuid");
      db.close();
      await load(makeFlow(), { backend, flowDetailId: first.flowDetailId }).run();
      expect((await backend.getFlowDetail(first.flowDetailId)).state).toBe("SUCCESS");
      expect(runs).toEqual(["a", "b"]);
      // A commit of atoms alone checks its flow through the new index: a missing one is refused.
      const error = await backend.commit(batch({ atoms: [atom("no-such-flow")] })).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(NotFound);
      expect((error as Error).message).toContain("no-such-flow");
    });

    it("refuses a database written by a newer schema version, and leaves it as it was", async () => {
      const name = newName();
      const future = await openDB(name, IDB_SCHEMA_VERSION + 6, { upgrade: (db) => void db.createObjectStore("future").put("kept", "k") });
      future.close();
      const error = await fresh(name).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StorageFailure);
      expect((error as Error).message).toMatch(/newer version of taskflow-ts.*nothing was changed/);
      const again = await openDB(name);
      expect(again.version).toBe(IDB_SCHEMA_VERSION + 6);
      expect(await again.get("future", "k")).toBe("kept");
      again.close();
    });

    it("lets go of the database when another tab upgrades it, tells the app, and refuses the newer layout", async () => {
      const calls: Array<number | null> = [];
      const backend = await fresh(undefined, { onVersionChange: (v) => calls.push(v) });
      await backend.commit(batch({ logBooks: [book()] }));
      // Resolves only once this backend's connection has closed: otherwise the other tab is blocked.
      const other = await withTimeout(openDB(backend.name, IDB_SCHEMA_VERSION + 1), "the upgrade in the other tab stayed blocked");
      other.close();
      expect(calls).toEqual([IDB_SCHEMA_VERSION + 1]);
      await expect(backend.listLogBooks()).rejects.toThrow(/newer version of taskflow-ts/);
    });

    it("lets another tab delete the database, then starts afresh with a single new connection", async () => {
      const calls: Array<number | null> = [];
      const backend = await fresh(undefined, { onVersionChange: (v) => calls.push(v) });
      await backend.commit(batch({ logBooks: [book()] }));
      await withTimeout(deleteDB(backend.name), "the delete in the other tab stayed blocked");
      expect(calls).toEqual([null]);
      const opens = spyOpens();
      try {
        const [a, b, c] = await Promise.all([backend.listLogBooks(), backend.listLogBooks(), backend.listLogBooks()]);
        expect([a, b, c]).toEqual([[], [], []]);
        expect(opens.count).toBe(1);
      } finally {
        opens.restore();
      }
      const lb = book();
      await backend.commit(batch({ logBooks: [lb] }));
      expect(await backend.getLogBook(lb.uuid)).toEqual(lb);
    });

    it("writes nothing of a batch holding a record that cannot be cloned, and says why", async () => {
      const backend = await fresh();
      const lb = book();
      await backend.commit(batch({ logBooks: [lb] }));
      const fd = flow(lb.uuid);
      const good = atom(fd.uuid, { state: "SUCCESS", result: 1 });
      const bad = atom(fd.uuid, { state: "SUCCESS", result: () => 1 });
      const error = await backend.commit(batch({ flows: [fd], atoms: [good, bad] })).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StorageFailure);
      expect((error as Error).message).toMatch(/cannot be stored .*structured-cloneable.*nothing of it was written/);
      await expect(backend.getFlowDetail(fd.uuid)).rejects.toBeInstanceOf(NotFound);
      expect(await backend.getFlowDetails(lb.uuid)).toEqual([]);
      expect(await backend.getLogBook(lb.uuid)).toEqual(lb);
    });

    // A 3 MB value cloned and refused: seconds on a loaded machine with fake-indexeddb.
    it("refuses a commit that does not fit in the quota, naming it, and writes nothing of it", { timeout: 60_000 }, async () => {
      const backend = await full.open();
      const lb = book();
      const fd = flow(lb.uuid);
      await backend.commit(batch({ logBooks: [lb], flows: [fd] }));
      const big = atom(fd.uuid, { state: "SUCCESS", result: noise(3_000_000) });
      const error = await backend.commit(batch({ flows: [{ ...fd, state: "RUNNING" }], atoms: [big] })).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StorageFailure);
      expect((error as Error).message).toMatch(/storage quota for this site is full; nothing of it was written.*expire\(\)/);
      expect((await backend.getFlowDetail(fd.uuid)).state).toBe("PENDING");
      expect(await backend.getAtomDetails(fd.uuid)).toEqual([]);
    });

    // makeRoom may wait for the browser to count the freed space (up to 30 s in Chromium).
    it("stops a flow at its last commit when storage is full; once there is room, it resumes and nothing finished runs twice", { timeout: 60_000 }, async () => {
      const runs: Record<string, number> = {};
      const step = (name: string, result: () => unknown = () => name) =>
        task({ name, provides: name, execute: () => ((runs[name] = (runs[name] ?? 0) + 1), result()) });
      const makeFlow = () => linearFlow("upload", step("a"), step("b"), step("big", () => noise(3_000_000)), step("c"));
      const backend = await full.open();
      const engine = load(makeFlow(), { backend });
      const error = await engine.run().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(StorageFailure);
      expect((error as Error).message).toMatch(/quota/);

      const again = await full.reopen(backend);
      const id = engine.flowDetailId;
      const states = async () => Object.fromEntries((await again.getAtomDetails(id)).map((d: AtomDetail) => [d.name, d.state]));
      // As the last commit left it: big's RUNNING went with b's SUCCESS; its SUCCESS did not fit,
      // and c never started (no detail). Then the flow detail alone is stored SUSPENDED, if that
      // fits; if not, it stays RUNNING as last committed, which a resume treats as a crash.
      expect(await states()).toEqual({ a: "SUCCESS", b: "SUCCESS", big: "RUNNING" });
      const stopped = await again.getFlowDetail(id);
      if (full.smallWriteFitsAfterRefusal || stopped.state !== "RUNNING") {
        expect(stopped).toMatchObject({ state: "SUSPENDED", suspendedReason: "storage" });
      }

      await full.makeRoom(again);
      await load(makeFlow(), { backend: again, flowDetailId: id }).run();
      expect(await states()).toEqual({ a: "SUCCESS", b: "SUCCESS", big: "SUCCESS", c: "SUCCESS" });
      expect(runs).toEqual({ a: 1, b: 1, big: 2, c: 1 }); // big was running: it runs again (at least once)
    });

    it("refuses atoms of a flow deleted here or in another tab, though it skips the parent lookup for flows it wrote", async () => {
      const here = await fresh();
      const lb = book();
      const fd = flow(lb.uuid);
      await here.commit(batch({ logBooks: [lb], flows: [fd], atoms: [atom(fd.uuid)] }));
      await here.commit(batch({ atoms: [atom(fd.uuid)] })); // known: no lookup
      // Another tab (another connection to the same database) deletes the book; this one hears of it.
      const heard = new Promise<void>((resolve) => {
        const listener = new BroadcastChannel(`taskflow-ts/idb/${here.name}`);
        listener.onmessage = () => {
          listener.close();
          setTimeout(resolve, 0); // the backend's own channel, created earlier, was told first
        };
      });
      const otherTab = await fresh(here.name);
      await otherTab.destroyLogBook(lb.uuid);
      await heard;
      const error = await here.commit(batch({ atoms: [atom(fd.uuid)] })).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(NotFound);
      expect((error as Error).message).toContain(fd.uuid);
      await expect(here.getAtomDetails(fd.uuid)).rejects.toBeInstanceOf(NotFound);

      // A commit made while a delete of its flow is under way comes after it, and is refused.
      const lb3 = book();
      const fd3 = flow(lb3.uuid);
      await here.commit(batch({ logBooks: [lb3], flows: [fd3], atoms: [atom(fd3.uuid)] }));
      const deleting = here.destroyLogBook(lb3.uuid);
      const during = here.commit(batch({ atoms: [atom(fd3.uuid)] }));
      await deleting;
      await expect(during).rejects.toBeInstanceOf(NotFound);
      await expect(here.commit(batch({ atoms: [atom(fd3.uuid)] }))).rejects.toBeInstanceOf(NotFound);

      // Deleted through the same backend: refused as well.
      const lb2 = book();
      const fd2 = flow(lb2.uuid);
      await here.commit(batch({ logBooks: [lb2], flows: [fd2] }));
      await here.destroyLogBook(lb2.uuid);
      await expect(here.commit(batch({ atoms: [atom(fd2.uuid)] }))).rejects.toBeInstanceOf(NotFound);
    });

    it("expiring also removes atoms left without their flow (written by a tab that had not heard of a delete yet)", async () => {
      const backend = await fresh();
      const lb = book();
      const fd = flow(lb.uuid);
      const kept = atom(fd.uuid);
      await backend.commit(batch({ logBooks: [lb], flows: [fd], atoms: [kept] }));
      const db = await openDB(backend.name);
      const orphans = [atom("deleted-flow"), atom("deleted-flow")];
      for (const orphan of orphans) await db.put("atoms", orphan);
      await backend.expire({ olderThanMs: DAY });
      expect((await db.getAllKeys("atoms")).sort()).toEqual([kept.uuid]);
      db.close();
    });

    it("refuses every call once closed, saying so", async () => {
      const backend = await fresh();
      await backend.close();
      await expect(backend.listLogBooks()).rejects.toThrow(/are closed; open a new IndexedDbBackend/);
      await expect(backend.commit(batch({ logBooks: [book()] }))).rejects.toBeInstanceOf(StorageFailure);
    });
  });
}

/** Records the durability of every readwrite transaction opened, in this runtime's IndexedDB. */
/**
 * A database in the layout an older build shipped (`version`: 1, 3 or 4), written as that build
 * wrote it: version 1's three stores and indexes; 2 added the flows' uuid index; 3 the fence index
 * and `superseded` (the epoch as value); 4 `superseded`'s unique token index.
 */
function openShipped(name: string, version: 1 | 3 | 4 | 6) {
  return openDB(name, version, {
    upgrade: (db) => {
      db.createObjectStore("books", { keyPath: "uuid" }).createIndex("updatedAt", "updatedAt");
      const flows = db.createObjectStore("flows", { keyPath: "uuid" });
      for (const index of ["bookUuid", "state", "updatedAt", ...(version > 1 ? ["uuid"] : [])]) flows.createIndex(index, index);
      const atoms = db.createObjectStore("atoms", { keyPath: "uuid" });
      for (const index of ["flowUuid", "state", "updatedAt"]) atoms.createIndex(index, index);
      if (version < 3) return;
      flows.createIndex("fence", ["uuid", "epoch"]);
      const superseded = db.createObjectStore("superseded");
      if (version >= 4) superseded.createIndex("token", "token", { unique: true });
      if (version < 6) return;
      db.createObjectStore("trail", { autoIncrement: true }).createIndex("flowUuid", "flowUuid");
      db.createObjectStore("keys");
    },
  });
}

function spyTransactions() {
  const proto = IDBDatabase.prototype;
  const original = proto.transaction;
  let writes: string[] = [];
  proto.transaction = function (this: IDBDatabase, stores: string | string[], mode?: IDBTransactionMode, options?: IDBTransactionOptions) {
    if (mode === "readwrite") writes.push(options?.durability ?? "default");
    return original.call(this, stores, mode, options);
  } as typeof original;
  return { writes: () => writes, reset: () => void (writes = []), restore: () => void (proto.transaction = original) };
}

/** From the `from`-th readwrite transaction on (1-based), each is aborted at once: the page died there. */
function killTransactionsFrom(from: number) {
  const proto = IDBDatabase.prototype;
  const original = proto.transaction;
  let n = 0;
  proto.transaction = function (this: IDBDatabase, stores: string | string[], mode?: IDBTransactionMode, options?: IDBTransactionOptions) {
    const tx = original.call(this, stores, mode, options);
    if (mode === "readwrite" && ++n >= from) tx.abort();
    return tx;
  } as typeof original;
  return { restore: () => void (proto.transaction = original) };
}

/** Lists the requests made on object stores and their indexes, as `store.method`. */
function spyRequests() {
  let requests: string[] = [];
  const restores: Array<() => void> = [];
  for (const [proto, storeOf] of [
    [IDBObjectStore.prototype, (o: IDBObjectStore) => o.name],
    [IDBIndex.prototype, (o: IDBIndex) => `${o.objectStore.name}.${o.name}`],
  ] as const) {
    for (const method of ["put", "add", "delete", "get", "getKey", "getAll", "getAllKeys", "count", "openCursor", "openKeyCursor"] as const) {
      const target = proto as unknown as Record<string, (...args: unknown[]) => unknown>;
      const original = target[method];
      if (typeof original !== "function") continue;
      target[method] = function (this: never, ...args: unknown[]) {
        requests.push(`${(storeOf as (o: never) => string)(this)}.${method}`);
        return original.apply(this, args);
      };
      restores.push(() => void (target[method] = original));
    }
  }
  return { requests: () => requests, reset: () => void (requests = []), restore: () => restores.forEach((r) => r()) };
}

/** Counts the databases opened. */
function spyOpens() {
  const proto = IDBFactory.prototype;
  const original = proto.open;
  const spy = {
    count: 0,
    restore: () => void (proto.open = original),
  };
  proto.open = function (this: IDBFactory, name: string, version?: number) {
    spy.count++;
    return original.call(this, name, version);
  };
  return spy;
}

async function withTimeout<T>(promise: Promise<T>, what: string, ms = 2000): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} (${ms} ms)`)), ms)));
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
