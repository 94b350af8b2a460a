import { DurableObject } from "cloudflare:workers";
import { DurableObjectBackend } from "../../adapters/durable-object/index.js";
import { load, NotFound, snapshotOf, type AtomState, type FlowState } from "../../src/index.js";
import { countCommits } from "../../src/backend.js";
import { FaultyBackend } from "../../src/testing/index.js";
import { FLOWS, STORE, stepTask, type FlowName } from "./flows.js";

/** What a test asks of a run. The ways to die apply to the first life of the object only. */
export interface RunPlan {
  flow: FlowName;
  engine: "serial" | "parallel";
  /** The step whose first execution never returns, as when the host is lost while it runs. */
  dieIn?: string;
  /** The commit (1-based) that never returns, as when the host is lost while writing. */
  dieAtCommit?: number;
}

export interface RunOutcome {
  how: "finished" | "failed" | "host died";
  /** Commits of this run on the DurableObjectBackend. */
  commits: number;
}

/** What the object's storage says, read by a fresh backend. */
export interface Snapshot {
  flowState: FlowState | "not stored";
  /** Each atom's state and result (as JSON: RPC return types must be spelled out, and JSON is what the tests compare). */
  atoms: Record<string, { state: AtomState; result?: string }>;
  /** How many times each step's execute started, over every life of the object. */
  executions: Record<string, number>;
  alarm: number | null;
}

interface StoredPlan {
  flow: FlowName;
  engine: "serial" | "parallel";
  flowDetailId: string;
}

const PLAN_KEY = "test:plan";
const EXECUTIONS_PREFIX = "test:executions:";
const HOUR = 3_600_000;

/**
 * Runs a test flow in a Durable Object on a DurableObjectBackend over its own storage, the way
 * a FlowRunner will: an alarm is armed while the flow is unfinished, and `alarm()` (or
 * `resume()`) picks the flow up from the log book in a new life of the object. Executions are
 * counted in storage under their own keys, so they survive the evictions they are meant to audit.
 */
export class FlowHost extends DurableObject {
  async start(plan: RunPlan): Promise<RunOutcome> {
    await this.ctx.storage.setAlarm(Date.now() + HOUR);
    return this.run(plan);
  }

  async resume(): Promise<RunOutcome> {
    const stored = this.ctx.storage.kv.get<StoredPlan>(PLAN_KEY);
    if (!stored) throw new Error("nothing to resume: start a flow first");
    return this.run({ flow: stored.flow, engine: stored.engine }, stored.flowDetailId);
  }

  override async alarm(): Promise<void> {
    await this.resume();
  }

  async snapshot(): Promise<Snapshot> {
    const backend = new DurableObjectBackend(this.ctx.storage);
    const executions: Record<string, number> = {};
    for (const [key, n] of this.ctx.storage.kv.list<number>({ prefix: EXECUTIONS_PREFIX })) executions[key.slice(EXECUTIONS_PREFIX.length)] = n;
    const alarm = await this.ctx.storage.getAlarm();
    const id = this.ctx.storage.kv.get<StoredPlan>(PLAN_KEY)?.flowDetailId;
    const flow = id === undefined ? undefined : await backend.getFlowDetail(id).catch(notStored);
    if (id === undefined || flow === undefined) return { flowState: "not stored", atoms: {}, executions, alarm };
    const atoms: Snapshot["atoms"] = {};
    for (const a of snapshotOf(flow, await backend.getAtomDetails(id)).atoms) atoms[a.name] = { state: a.state, result: JSON.stringify(a.detail.result) };
    return { flowState: flow.state, atoms, executions, alarm };
  }

  private async run(plan: RunPlan, flowDetailId?: string): Promise<RunOutcome> {
    const inner = countCommits(new DurableObjectBackend(this.ctx.storage));
    const faulty = plan.dieAtCommit === undefined ? undefined : new FaultyBackend(inner, plan.dieAtCommit, "kill");
    let die!: () => void;
    const died = new Promise<"host died">((resolve) => (die = () => resolve("host died")));
    void faulty?.crashed.then(die);

    const flow = FLOWS[plan.flow]((name, requires, compute) =>
      stepTask(name, requires, (args) => {
        if (this.countExecution(name) === 1 && name === plan.dieIn) {
          die();
          return new Promise(() => {}); // never returns: this life of the object is over
        }
        return compute(args);
      }),
    );
    // A run that died at its first commit stored nothing: it starts again from the store.
    const stored = flowDetailId !== undefined && (await inner.getFlowDetail(flowDetailId).catch(notStored)) !== undefined;
    const engine = load(flow, { backend: faulty ?? inner, engine: plan.engine, ...(stored ? { flowDetailId } : { store: STORE }) });
    await engine.prepare();
    this.ctx.storage.kv.put<StoredPlan>(PLAN_KEY, { flow: plan.flow, engine: plan.engine, flowDetailId: engine.flowDetailId });

    const ran = engine.run().then(
      () => "finished" as const,
      () => "failed" as const,
    );
    const how = await Promise.race([ran, died]);
    if (how !== "host died") await this.ctx.storage.deleteAlarm(); // nothing left to wake up for
    return { how, commits: inner.commits };
  }

  private countExecution(name: string): number {
    const n = (this.ctx.storage.kv.get<number>(EXECUTIONS_PREFIX + name) ?? 0) + 1;
    this.ctx.storage.kv.put(EXECUTIONS_PREFIX + name, n);
    return n;
  }
}

function notStored(e: unknown): undefined {
  if (e instanceof NotFound) return undefined;
  throw e;
}
