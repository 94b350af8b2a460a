import { describe, expect, it } from "vitest";
import { Writer } from "../../src/engine/writer.js";
import type { Journal } from "../../src/engine/journal.js";
import type { Backend } from "../../src/ports/backend.js";
import type { FlowDetail, WriteBatch } from "../../src/persistence/models.js";
import { StorageFailure } from "../../src/errors.js";
import { ManualClock } from "../../src/testing/manual-clock.js";
import { Notifier } from "../../src/notify/notifier.js";

// Issue 10 (speed): the writer hands the turn from one commit to the next instead of chaining a
// promise per write; what it promises is unchanged: one write at a time, in the order asked,
// each with what was queued when it was asked, and nothing written after a failed one.
function setUp() {
  let queued: string[] = [];
  const journal = {
    flowDetail: { uuid: "f", name: "flow", state: "RUNNING" } as FlowDetail,
    epoch: undefined as number | undefined,
    get pending() {
      return queued.length;
    },
    take(): WriteBatch {
      const batch = { logBooks: [], flows: [], atoms: queued.map((uuid) => ({ uuid })), transitions: [] } as unknown as WriteBatch;
      queued = [];
      return batch;
    },
    entry: () => ({}),
    notifier: new Notifier(),
  };
  // The "committed" event: told once a batch is stored, with the atoms of that batch here.
  const committed: number[] = [];
  journal.notifier.on("committed", () => committed.push(written.length));
  const written: string[][] = [];
  const pending: Array<{ resolve: () => void; reject: (e: unknown) => void }> = [];
  let underWay = 0;
  let most = 0;
  const backend = {
    commit(batch: WriteBatch) {
      underWay++;
      most = Math.max(most, underWay);
      written.push(batch.atoms.map((a) => a.uuid));
      return new Promise<void>((resolve, reject) => pending.push({ resolve, reject })).finally(() => underWay--);
    },
    getFlowDetail: async () => journal.flowDetail,
  } as unknown as Backend;
  const counter = { commits: 0 };
  const writer = new Writer(backend, journal as unknown as Journal, new ManualClock(0), journal.flowDetail, counter);
  const settle = async () => {
    for (let i = 0; i < 10; i++) await Promise.resolve();
  };
  return { queue: (uuid: string) => queued.push(uuid), writer, written, pending, counter, settle, most: () => most, committed };
}

describe("the writer", () => {
  it("writes one batch at a time, in the order asked, each with what was queued when it was asked", async () => {
    const t = setUp();
    t.queue("a");
    const first = t.writer.commit();
    t.queue("b");
    const second = t.writer.commit();
    const third = t.writer.commit(); // nothing queued: waits for the writes under way
    t.queue("c");
    const fourth = t.writer.commit();
    await t.settle();
    expect(t.written).toEqual([["a"]]); // the others wait their turn
    t.pending[0]?.resolve();
    await t.settle();
    expect(t.written).toEqual([["a"], ["b"]]);
    t.pending[1]?.resolve();
    await t.settle();
    expect(t.written).toEqual([["a"], ["b"], ["c"]]);
    t.pending[2]?.resolve();
    expect(await Promise.all([first, second, third, fourth])).toEqual([true, true, false, true]);
    expect(t.most()).toBe(1);
    expect(t.counter.commits).toBe(3);
    expect(t.committed).toEqual([1, 2, 3]); // each told after its own write, none before
    // Nothing under way, nothing queued: answered at once, and a later commit writes at once.
    expect(await t.writer.commit()).toBe(false);
    t.queue("d");
    const fifth = t.writer.commit();
    await t.settle();
    expect(t.written.at(-1)).toEqual(["d"]);
    t.pending[3]?.resolve();
    expect(await fifth).toBe(true);
  });

  it("refuses every write asked after one that failed, and writes none of them", async () => {
    const t = setUp();
    t.queue("a");
    const first = t.writer.commit();
    t.queue("b");
    const second = t.writer.commit();
    const third = t.writer.commit();
    await t.settle();
    t.pending[0]?.reject(new Error("disk full"));
    await t.settle();
    expect(t.written).toEqual([["a"], []]); // then the flow detail marked SUSPENDED, alone
    t.pending[1]?.resolve();
    await expect(first).rejects.toThrow(/could not write the log book of flow "flow": disk full/);
    await expect(second).rejects.toBeInstanceOf(StorageFailure);
    await expect(third).rejects.toThrow(/an earlier write of flow "flow" failed/);
    expect(t.written).toEqual([["a"], []]); // nothing of the refused batches
    expect(t.writer.broken).toBe(true);
    expect(t.counter.commits).toBe(0);
  });
});
