// The edge executor's request/outcome mapping in Node, with remote ends as plain objects (the
// workerd test, test/workerd/edge-executor.test.ts, runs it over real RPC with the runner lost).
import { describe, expect, it } from "vitest";
import { Failure, MemoryBackend, Times, linearFlow, load, remoteTask, type TaskRequest } from "taskflow-ts";
import { ManualClock } from "taskflow-ts/testing";
import { EdgeExecutor, type TaskService } from "../../adapters/durable-object/edge-executor.js";

const request: TaskRequest = { action: "execute", task: "add", atom: "add", flowUuid: "f", args: { x: 1 }, attempt: 1, idempotencyKey: "f:add:0" };
const context = (signal = new AbortController().signal) => ({ signal, progress: () => undefined });

describe("EdgeExecutor (issue 14, edge half)", () => {
  it("maps what comes back: a value, a failure as data, a rejected call as WorkerLost, a malformed answer as WorkerLost", async () => {
    const answer = (run: TaskService["run"]) => EdgeExecutor.service({ run }, { name: "w" }).execute(request, context());
    expect(await answer(async () => ({ ok: true, value: 3 }))).toEqual({ ok: true, value: 3, worker: "w" });
    const thrown = Failure.fromError(new TypeError("x must be even")).toJSON();
    const failed = await answer(async () => ({ ok: false, failure: thrown }));
    expect(failed).toEqual({ ok: false, failure: thrown, worker: "w" });
    const lost = await answer(() => Promise.reject(new Error("Worker exceeded CPU limit")));
    expect(lost.ok || Failure.fromJSON(lost.failure).excTypeNames.slice(0, 2)).toEqual(["WorkerLost", "ExecutionFailure"]);
    expect(lost.ok || lost.failure.exceptionStr).toContain("Worker exceeded CPU limit");
    for (const garbage of [undefined, "yes", { ok: "true" }, { ok: false, failure: { message: "no" } }]) {
      const outcome = await answer(async () => garbage);
      expect(outcome.ok || outcome.failure.excTypeNames[0], JSON.stringify(garbage)).toBe("WorkerLost");
    }
  });

  it("fails a request nobody answers with RequestTimeout at requestTimeoutMs, or the task's own shorter timeout", async () => {
    const clock = new ManualClock(0);
    const silent = EdgeExecutor.service({ run: () => new Promise(() => undefined) }, { requestTimeoutMs: 1_000, clock });
    const late = silent.execute(request, context());
    const early = silent.execute({ ...request, timeoutMs: 100 }, context());
    clock.advance(100);
    const first = await early;
    expect(first.ok || [first.failure.excTypeNames[0], first.worker]).toEqual(["RequestTimeout", "tasks"]);
    clock.advance(900);
    const second = await late;
    expect(second.ok || second.failure.exceptionStr).toContain("did not answer within 1000 ms");
  });

  it("stops waiting when the engine gives up (a cancel): the signal's reason is the failure", async () => {
    const abort = new AbortController();
    const pending = EdgeExecutor.service({ run: () => new Promise(() => undefined) }).execute(request, context(abort.signal));
    abort.abort(new Error("cancelled by the user"));
    const outcome = await pending;
    expect(outcome.ok || outcome.failure.exceptionStr).toBe("cancelled by the user");
  });

  it("a pool sends a request again to the same object (by idempotency key) and a revert where the execute ran", async () => {
    const sent: Array<[string, string]> = [];
    const namespace = { getByName: (name: string): TaskService => ({ run: async (r: TaskRequest) => (sent.push([r.action, name]), { ok: true, value: name }) }) };
    const pool = EdgeExecutor.objects(namespace, { size: 16 });
    const a = await pool.execute(request, context());
    const again = await pool.execute({ ...request, attempt: 2 }, context());
    expect(again.worker).toBe(a.worker);
    await pool.execute({ ...request, action: "revert", worker: "tasks-99" }, context());
    expect(sent.at(-1)).toEqual(["revert", "tasks-99"]);
    const spread = new Set(await Promise.all(Array.from({ length: 32 }, (_, i) => pool.execute({ ...request, idempotencyKey: `f:t${i}:0` }, context()).then((o) => o.worker))));
    expect(spread.size).toBeGreaterThan(4); // keys spread over the pool, not all to one object
  });

  it("drives an engine: the flow's retry applies to a WorkerLost, and the log book names the worker", async () => {
    let calls = 0;
    const executor = EdgeExecutor.service({ run: async () => (++calls === 1 ? Promise.reject(new Error("connection reset")) : { ok: true, value: 42 }) }, { name: "edge" });
    const backend = new MemoryBackend();
    const engine = load(linearFlow("f", { retry: new Times(2) }, remoteTask({ name: "answer", provides: "answer" })), { backend, executor });
    await engine.run();
    expect(engine.storage.fetch("answer")).toBe(42);
    const [detail] = (await backend.getAtomDetails(engine.flowDetailId)).filter((d) => d.name === "answer");
    expect(detail?.workers?.filter((w) => !w.revert)).toEqual([{ attempt: 1, worker: "edge" }, { attempt: 2, worker: "edge" }]);
  });
});
