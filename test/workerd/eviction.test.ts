// Flows run inside a Durable Object whose host is lost mid-run: the object is evicted (memory
// gone, storage kept), and a new life of it resumes the flow from its log book.
import { evictDurableObject, runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { RunPlan, Snapshot } from "./flow-host.js";
import type { FlowName } from "./flows.js";

const freshHost = () => env.FLOW_HOST.get(env.FLOW_HOST.newUniqueId());

/** A run that nothing interrupts, in its own object: what every interrupted run must end as. */
async function reference(flow: FlowName, engine: RunPlan["engine"]): Promise<{ snapshot: Snapshot; commits: number }> {
  const host = freshHost();
  const outcome = await host.start({ flow, engine });
  expect(outcome.how).toBe("finished");
  return { snapshot: await host.snapshot(), commits: outcome.commits };
}

/** Steps that were stored as SUCCESS when the host died must not have executed since. */
function expectNoSuccessRanAgain(atEviction: Snapshot, end: Snapshot): void {
  for (const [name, atom] of Object.entries(atEviction.atoms)) {
    if (atom.state !== "SUCCESS") continue;
    expect(end.executions[name], `"${name}" was SUCCESS in storage at eviction, then executed again`).toBe(atEviction.executions[name]);
  }
}

describe("a Durable Object evicted while it runs a flow", () => {
  it("resumes after its host died inside step 3: same results, step 3 runs again, nothing stored as SUCCESS does", async () => {
    const { snapshot: expected } = await reference("checkout", "serial");
    expect(expected.flowState).toBe("SUCCESS");

    const host = freshHost();
    expect((await host.start({ flow: "checkout", engine: "serial", dieIn: "charge" })).how).toBe("host died");
    await evictDurableObject(host);

    const atEviction = await host.snapshot();
    // Write-ahead: "charge" was RUNNING in storage before its execute started.
    expect(Object.fromEntries(Object.entries(atEviction.atoms).map(([n, a]) => [n, a.state]))).toEqual({
      validate: "SUCCESS", reserve: "SUCCESS", charge: "RUNNING", email: "PENDING",
    });
    expect(atEviction.flowState).toBe("RUNNING");

    expect((await host.resume()).how).toBe("finished");
    const end = await host.snapshot();
    expect(end.flowState).toBe("SUCCESS");
    expect(end.atoms).toEqual(expected.atoms);
    expect(end.executions).toEqual({ validate: 1, reserve: 1, charge: 2, email: 1 });
    expectNoSuccessRanAgain(atEviction, end);
    expect(end.alarm).toBeNull(); // a finished flow leaves nothing to wake up for
  });

  it("resumes a parallel fan-out whose host died inside one worker", async () => {
    const { snapshot: expected } = await reference("fanOut", "parallel");
    const host = freshHost();
    expect((await host.start({ flow: "fanOut", engine: "parallel", dieIn: "worker1" })).how).toBe("host died");
    await evictDurableObject(host);
    const atEviction = await host.snapshot();
    expect(atEviction.atoms.worker1?.state).toBe("RUNNING");
    expect(atEviction.atoms.join?.state).toBe("PENDING");

    expect((await host.resume()).how).toBe("finished");
    const end = await host.snapshot();
    expect(end.atoms).toEqual(expected.atoms);
    expect(end.executions.worker1).toBe(2);
    expect(end.executions.join).toBe(1);
    expectNoSuccessRanAgain(atEviction, end);
  });

  for (const [flow, engine] of [["checkout", "serial"], ["fanOut", "parallel"]] as const) {
    it(`${flow} on the ${engine} engine: evicted at each of its commits, its alarm finishes it as if uninterrupted`, async () => {
      const { snapshot: expected, commits } = await reference(flow, engine);
      expect(commits).toBeGreaterThanOrEqual(3);
      for (let k = 1; k <= commits; k++) {
        const host = freshHost();
        const outcome = await host.start({ flow, engine, dieAtCommit: k });
        expect(outcome.how, `commit ${k}`).toBe("host died");
        await evictDurableObject(host);
        const atEviction = await host.snapshot();
        expect(atEviction.alarm, `commit ${k}: the alarm must outlive the object`).not.toBeNull();

        expect(await runDurableObjectAlarm(host), `commit ${k}: an alarm was due`).toBe(true);
        const end = await host.snapshot();
        expect(end.flowState, `commit ${k}`).toBe("SUCCESS");
        expect(end.atoms, `commit ${k}`).toEqual(expected.atoms);
        expectNoSuccessRanAgain(atEviction, end);
        expect(await runDurableObjectAlarm(host), `commit ${k}: no alarm once finished`).toBe(false);
      }
    });
  }
});
