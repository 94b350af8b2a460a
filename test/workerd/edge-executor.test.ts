// Remote task execution at the edge (issue 14): a FlowRunner's tasks run in another Worker (a
// service binding to a TaskEntrypoint) or in a pool of TaskObjects, with the runner's object lost
// mid-request, a remote that never answers, and failures coming back as data.
import { runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { FlowRunner } from "../../adapters/durable-object/index.js";
import type { AtomDetail } from "../../src/index.js";
import { SIMPLE_LINEAR_STORE } from "../../examples/edge-executor/simple-linear.js";
import type { ExecutorPlan } from "./edge-hosts.js";
import { untilEnded } from "./runner-helpers.js";

let ledgers = 0;
/** A runner with its executor plan, and a ledger of its own. */
async function setup(plan: ExecutorPlan) {
  const id = env.EDGE_RUNNER.newUniqueId();
  const runner = env.EDGE_RUNNER.get(id);
  await runner.useExecutor(plan);
  const name = `ledger-${++ledgers}-${crypto.randomUUID()}`;
  return { id, runner, name, ledger: env.LEDGER.getByName(name) };
}

async function details(runner: DurableObjectStub<FlowRunner>, id: string): Promise<Record<string, AtomDetail>> {
  const log = await runner.logBook(id);
  return Object.fromEntries((log.atomDetails as AtomDetail[]).map((d) => [d.name, d]));
}

describe("EdgeExecutor in workerd (issue 14, the edge half)", () => {
  it("runs a flow's tasks in another Worker over a service binding and records the worker of each attempt", async () => {
    const { runner, name, ledger } = await setup({ kind: "service" });
    await runner.start("d1", "double", [], { x: 21, ledger: name });
    const status = await untilEnded(runner, "d1");
    expect(status.state).toBe("SUCCESS");
    expect([status.atoms.double?.result, status.atoms.report?.result]).toEqual([42, "y is 42"]);
    const atoms = await details(runner, "d1");
    expect(atoms.double?.workers).toEqual([{ attempt: 1, worker: "tasks" }]);
    expect(atoms.report?.workers).toEqual([{ attempt: 1, worker: "tasks" }]);
    expect((await ledger.log()).executed.map((a) => [a.task, a.at])).toEqual([["double", "service"], ["report", "service"]]);
  });

  it("a remote throw comes back as a Failure with its name and message; the revert runs on the object that ran the execute", async () => {
    // Round robin: the revert would go to the other object if it were routed like an execute.
    const { runner, name, ledger } = await setup({ kind: "objects", roundRobin: true });
    await runner.start("r1", "declined", [], { cart: "cart-7", price: -5, ledger: name });
    const status = await untilEnded(runner, "r1");
    expect(status.state).toBe("REVERTED");
    const atoms = await details(runner, "r1");
    expect(atoms.charge?.failure?.excTypeNames[0]).toBe("TypeError");
    expect(atoms.charge?.failure?.exceptionStr).toBe("price must be positive, got -5");
    const ranOn = atoms.reserve?.workers ?? [];
    expect(ranOn).toHaveLength(2);
    expect(ranOn[1]).toEqual({ attempt: 1, worker: ranOn[0]?.worker, revert: true });
    expect(atoms.charge?.workers?.[0]?.worker).not.toBe(ranOn[0]?.worker); // the pick did move on
    const reverts = (await ledger.log("reserve")).executed.filter((a) => a.action === "revert");
    expect(reverts.map((a) => a.at)).toEqual([ranOn[0]?.worker]);
  });

  for (const kind of ["objects", "service"] as const) {
    it(`${kind}: the runner's object lost mid-request (reset: memory and the call gone) resends it with the same idempotency key on its next alarm, and the flow goes on`, async () => {
      const { id, runner: before, name, ledger } = await setup({ kind });
      await before.start("g1", "gated", [], { ledger: name });
      // The alarm runs the flow until the remote task waits at its gate: then the runner is lost.
      const first = runDurableObjectAlarm(before).then(() => "returned", () => "lost");
      await ledger.started("gated");
      await before.crash().catch(() => undefined);
      expect(await first).toBe("lost");
      const runner = env.EDGE_RUNNER.get(id); // a reset object's old stubs are broken
      expect((await runner.get("g1")).atoms.gated?.state).toBe("RUNNING");

      await ledger.open("gated"); // the first request finishes remotely, its answer going nowhere
      const status = await untilEnded(runner, "g1");
      expect(status.state).toBe("SUCCESS");
      expect(status.atoms.gated?.result).toBe("opened");

      const { received, executed } = await ledger.log("gated");
      expect(received.map((a) => a.attempt)).toEqual([1, 2]);
      expect(new Set(received.map((a) => a.idempotencyKey)).size).toBe(1); // at least once, one key
      // A TaskObject kept the first outcome and answers with it; a stateless Worker runs it again.
      expect(executed).toHaveLength(kind === "objects" ? 1 : 2);
      const worker = kind === "objects" ? received[0]?.at : "tasks";
      expect((await details(runner, "g1")).gated?.workers).toEqual([{ attempt: 2, worker }]);
    });
  }

  it("a remote that never answers fails the request with RequestTimeout, and the flow's retry applies", async () => {
    const { runner, name, ledger } = await setup({ kind: "service", requestTimeoutMs: 50 });
    await runner.start("t1", "patient", [], { ledger: name });
    const status = await untilEnded(runner, "t1");
    await ledger.open("never"); // let the abandoned calls end
    expect(status.state).toBe("REVERTED");
    const never = (await details(runner, "t1")).never;
    expect(never?.state).toBe("REVERTED");
    expect(never?.failure?.excTypeNames[0]).toBe("RequestTimeout");
    expect(never?.failure?.exceptionStr).toContain('worker "tasks" did not answer within 50 ms');
    // Times(2): tried twice, each try reverted where it ran.
    expect(never?.workers).toEqual([
      { attempt: 1, worker: "tasks" }, { attempt: 1, worker: "tasks", revert: true },
      { attempt: 2, worker: "tasks" }, { attempt: 2, worker: "tasks", revert: true },
    ]);
    const { received } = await ledger.log("never");
    expect(received.map((a) => a.action)).toEqual(["execute", "revert", "execute", "revert"]);
    expect(received[0]?.idempotencyKey).not.toBe(received[2]?.idempotencyKey); // a retry is a new generation
  });

  it("TaskFlow's wbe_simple_linear (examples/edge-executor): result1 = 1, result2 = 666, each run by the tasks Worker", async () => {
    const runner = env.SIMPLE_LINEAR.getByName(`wbe-${crypto.randomUUID()}`);
    await runner.start("run-1", "simple-linear", [], SIMPLE_LINEAR_STORE);
    const status = await untilEnded(runner, "run-1");
    expect(status.state).toBe("SUCCESS");
    expect([status.atoms["one-arg"]?.result, status.atoms["multi-arg"]?.result]).toEqual([1, 666]);
    expect(Object.values(await details(runner, "run-1")).map((d) => d.workers)).toEqual([[{ attempt: 1, worker: "simple-tasks" }], [{ attempt: 1, worker: "simple-tasks" }]]);
  });
});
