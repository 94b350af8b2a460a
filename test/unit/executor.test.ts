import { describe, expect, it } from "vitest";
import {
  Executor, Failure, InvalidState, MemoryBackend, SCHEMA_VERSION, Times, linearFlow, load, remoteTask, task, unorderedFlow,
  type ExecutionContext, type ExecutionOutcome, type TaskRequest,
} from "../../src/index.js";
import { atomDetailSchema, parseRecord } from "../../src/schemas.js";
import { migrateRecord, readRecord } from "../../src/persistence/validate.js";
import { ManualClock } from "../../src/testing/index.js";

type Impl = (args: Record<string, unknown>, request: TaskRequest, context: ExecutionContext) => unknown;

/** An executor over a table of implementations, recording every request; `worker` names who ran it. */
class TableExecutor extends Executor {
  readonly requests: TaskRequest[] = [];
  running = 0;
  mostRunning = 0;
  constructor(private readonly impls: Record<string, Impl>, private readonly worker: (r: TaskRequest) => string = () => "w1") {
    super();
  }
  async execute(request: TaskRequest, context: ExecutionContext): Promise<ExecutionOutcome> {
    this.requests.push(structuredClone(request));
    this.mostRunning = Math.max(this.mostRunning, ++this.running);
    const worker = this.worker(request);
    try {
      const impl = this.impls[`${request.action}:${request.task}`];
      if (!impl) return { ok: true, value: undefined, worker };
      return { ok: true, value: await impl(request.args, request, context), worker };
    } catch (e) {
      return { ok: false, failure: Failure.fromError(e).toJSON(), worker };
    } finally {
      this.running--;
    }
  }
}

describe("the executor port (issue 14, item 1)", () => {
  it("hands each task's execute to the executor as data and records the worker on the atom detail", async () => {
    const executor = new TableExecutor({ "execute:math.add": ({ x, y }) => (x as number) + (y as number), "execute:double": ({ sum }) => (sum as number) * 2 });
    const backend = new MemoryBackend();
    const flow = linearFlow("wbe", remoteTask({ name: "add", implementation: "math.add", requires: ["x", "y"], provides: "sum" }), remoteTask({ name: "double", requires: ["sum"], provides: "out" }));
    const engine = load(flow, { backend, executor, store: { x: 2, y: 3 } });
    await engine.run();
    expect(engine.storage.fetch("out")).toBe(10);
    expect(executor.requests.map((r) => [r.action, r.task, r.atom, r.args, r.attempt])).toEqual([
      ["execute", "math.add", "add", { x: 2, y: 3 }, 1],
      ["execute", "double", "double", { sum: 5 }, 1],
    ]);
    expect(executor.requests[0]!.idempotencyKey).toBe(`${engine.flowDetailId}:add:0`);
    expect(executor.requests[0]!.flowUuid).toBe(engine.flowDetailId);
    const stored = await backend.getAtomDetails(engine.flowDetailId);
    expect(stored.find((d) => d.name === "add")!.workers).toEqual([{ attempt: 1, worker: "w1" }]);
  });

  it("takes a failure back as data, keeps its class, and sends the revert to the executor with what it needs", async () => {
    const executor = new TableExecutor(
      {
        "execute:reserve": () => "seat-7",
        "execute:pay": () => {
          throw new InvalidState("card declined");
        },
      },
      (r) => (r.task === "reserve" ? "w-a" : "w-b"),
    );
    const backend = new MemoryBackend();
    const engine = load(linearFlow("book", remoteTask({ name: "reserve", provides: "seat" }), remoteTask({ name: "pay", requires: ["seat"] })), { backend, executor });
    await expect(engine.run()).rejects.toThrow(/card declined/);
    const reverts = executor.requests.filter((r) => r.action === "revert");
    expect(reverts.map((r) => r.atom)).toEqual(["pay", "reserve"]);
    const [pay, reserve] = reverts as [TaskRequest, TaskRequest];
    expect(pay.failure?.excTypeNames[0]).toBe("InvalidState");
    expect(pay.worker).toBe("w-b");
    expect(reserve.result).toBe("seat-7");
    expect(reserve.worker).toBe("w-a");
    expect(Object.keys(reserve.flowFailures ?? {})).toEqual(["pay"]);
    expect(engine.storage.getFailure("pay")?.check(InvalidState)).toBeDefined();
    const stored = await backend.getAtomDetails(engine.flowDetailId);
    expect(stored.find((d) => d.name === "reserve")!.workers).toEqual([{ attempt: 1, worker: "w-a" }, { attempt: 1, worker: "w-a", revert: true }]);
  });

  it("retries on the executor per the flow's retry, recording each attempt's worker", async () => {
    let calls = 0;
    const executor = new TableExecutor(
      {
        "execute:flaky": () => {
          if (++calls === 1) throw new Error("worker lost");
          return "ok";
        },
      },
      () => `w${calls + 1}`,
    );
    const backend = new MemoryBackend();
    const engine = load(linearFlow("r", { retry: new Times(3) }, remoteTask({ name: "flaky", provides: "v" })), { backend, executor });
    await engine.run();
    expect(engine.storage.fetch("v")).toBe("ok");
    const stored = (await backend.getAtomDetails(engine.flowDetailId)).find((d) => d.name === "flaky")!;
    expect(stored.workers?.filter((w) => !w.revert)).toEqual([{ attempt: 1, worker: "w1" }, { attempt: 2, worker: "w2" }]);
    expect(executor.requests.filter((r) => r.action === "execute").map((r) => r.idempotencyKey)).toEqual([`${engine.flowDetailId}:flaky:0`, `${engine.flowDetailId}:flaky:1`]);
  });

  it("keeps maxConcurrency whatever runs the tasks", async () => {
    const gates: Array<() => void> = [];
    const executor = new TableExecutor({ "execute:t": () => new Promise<void>((resolve) => gates.push(resolve)) });
    const flow = unorderedFlow("many", ...Array.from({ length: 6 }, (_, i) => remoteTask({ name: `t${i}`, implementation: "t" })));
    const run = load(flow, { executor, engine: "parallel", maxConcurrency: 2 }).run();
    for (let released = 0; released < 6; released++) {
      while (gates.length === 0) await Promise.resolve();
      gates.shift()!();
    }
    await run;
    expect(executor.requests).toHaveLength(6);
    expect(executor.mostRunning).toBe(2);
  });

  it("relays progress and aborts the request's signal when the task times out", async () => {
    const clock = new ManualClock(0);
    let aborted: unknown;
    const executor = Executor.from({
      execute: async (request, context) => {
        if (request.action === "revert") return { ok: true, value: undefined };
        context.progress(0.5, { rows: 10 });
        return new Promise<ExecutionOutcome>((resolve) => context.signal.addEventListener("abort", () => {
          aborted = context.signal.reason;
          resolve({ ok: true, value: "late" });
        }));
      },
    });
    const progress: number[] = [];
    const engine = load(linearFlow("slow", remoteTask({ name: "slow", timeoutMs: 1000 })), { executor, clock });
    engine.on("progress", (e) => progress.push(e.progress));
    const run = engine.run();
    while (!progress.includes(0.5)) await Promise.resolve();
    clock.advance(1000);
    await expect(run).rejects.toThrow(/did not finish within 1000 ms/);
    expect((aborted as Error).name).toBe("RequestTimeout");
  });

  it("fails a task declared by name only when no executor is given, saying what to do", async () => {
    const engine = load(linearFlow("no-executor", remoteTask({ name: "resize", implementation: "images.resize" })));
    await expect(engine.run()).rejects.toThrow(/declared by name only \("images.resize"\): give the engine an executor/);
  });

  it("runs in-process tasks as before when no executor is given", async () => {
    const backend = new MemoryBackend();
    const engine = load(linearFlow("local", task({ name: "a", provides: "x", execute: () => 1 })), { backend });
    await engine.run();
    expect(engine.storage.fetch("x")).toBe(1);
    expect((await backend.getAtomDetails(engine.flowDetailId))[0]!.workers).toBeUndefined();
  });
});

describe("the workers field of an atom detail", () => {
  const record = {
    schemaVersion: SCHEMA_VERSION, uuid: "ad", flowUuid: "fd", name: "a", kind: "task", state: "SUCCESS", intention: "EXECUTE",
    version: "1.0", updatedAt: 4, meta: {}, workers: [{ attempt: 1, worker: "w1" }, { attempt: 1, worker: "w1", revert: true, later: 1 }], later: "x",
  };

  it("is kept by the hand check and the schema, unknown fields included", () => {
    expect(readRecord("atom detail", "k", record)).toEqual(record);
    expect(parseRecord(atomDetailSchema, "atom detail", "k", record)).toEqual(record);
  });

  it("is refused by both when malformed, naming it", () => {
    for (const workers of [[{ attempt: "1", worker: "w" }], [{ attempt: 1 }], "w1", [{ attempt: 1, worker: "w", revert: "yes" }]]) {
      expect(() => readRecord("atom detail", "k", { ...record, workers })).toThrow(/workers/);
      expect(() => parseRecord(atomDetailSchema, "atom detail", "k", { ...record, workers })).toThrow(/workers/);
    }
  });

  it("is not one of version 1's engine fields: a v1 meta key of that name stays the user's", () => {
    const v1 = { ...record, schemaVersion: 1, workers: undefined, meta: { workers: ["mine"] } };
    const migrated = migrateRecord("atom detail", v1) as Record<string, unknown>;
    expect(migrated.meta).toEqual({ workers: ["mine"] });
    expect(migrated.workers).toBeUndefined();
  });
});
