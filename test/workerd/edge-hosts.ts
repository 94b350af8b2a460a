// The edge executor's test setup (edge-executor.test.ts): a FlowRunner whose tasks run elsewhere,
// the two kinds of remote end (a Worker entrypoint reached over a service binding to this same
// Worker, and a pool of Durable Objects), and a ledger object where the remote ends write what
// reached them, so the tests can count requests and executions across evictions.
import { DurableObject } from "cloudflare:workers";
import {
  EdgeExecutor, FlowRunner, TaskEntrypoint, TaskObject,
  type EdgeTaskImplementation, type FlowRunnerOptions,
} from "../../adapters/durable-object/index.js";
import { SimpleLinear } from "../../examples/edge-executor/simple-linear.js";
import { Executor, FlowRegistry, linearFlow, remoteTask, Times, type ExecutionOutcome, type TaskRequest } from "../../src/index.js";

const HOUR = 3_600_000;
const PLAN = "test:executor-plan";

/** What reached a remote end: one entry per request received, one per implementation started. */
export interface Arrival {
  task: string;
  action: "execute" | "revert";
  idempotencyKey: string;
  attempt: number;
  /** The remote end: "service", or the TaskObject's name. */
  at: string;
}

/** Counts requests and executions, and holds tasks at gates the test opens (in memory: it is never evicted). */
export class TaskLedger extends DurableObject {
  readonly #received: Arrival[] = [];
  readonly #executed: Arrival[] = [];
  readonly #gates = new Map<string, { promise: Promise<void>; open: () => void }>();
  readonly #waiters: Array<() => void> = [];

  received(arrival: Arrival): void {
    this.#received.push(arrival);
    for (const wake of this.#waiters.splice(0)) wake();
  }

  executed(arrival: Arrival): void {
    this.#executed.push(arrival);
    for (const wake of this.#waiters.splice(0)) wake();
  }

  /** What reached the remote ends, and what they ran, for `task` (all tasks if omitted). */
  log(task?: string): { received: Arrival[]; executed: Arrival[] } {
    const of = (list: Arrival[]) => list.filter((a) => task === undefined || a.task === task);
    return { received: of(this.#received), executed: of(this.#executed) };
  }

  /** Resolves once `n` executions of `task` have started. */
  async started(task: string, n = 1): Promise<void> {
    while (this.#executed.filter((a) => a.task === task).length < n) await new Promise<void>((wake) => this.#waiters.push(wake));
  }

  gate(name: string): Promise<void> {
    return this.#gate(name).promise;
  }

  open(name: string): void {
    this.#gate(name).open();
  }

  #gate(name: string) {
    let gate = this.#gates.get(name);
    if (!gate) {
      let open!: () => void;
      const promise = new Promise<void>((resolve) => (open = resolve));
      this.#gates.set(name, (gate = { promise, open }));
    }
    return gate;
  }
}

/**
 * The remote tasks, one set for both kinds of remote end. Each names its ledger in its
 * arguments (an input of the flow), so tests do not share counts.
 */
function edgeTasks(env: Cloudflare.Env, at: () => string): Record<string, EdgeTaskImplementation> {
  const ledger = (args: Record<string, unknown>) => env.LEDGER.getByName(args.ledger as string);
  const arrival = (request: TaskRequest): Arrival => ({ task: request.task, action: request.action, idempotencyKey: request.idempotencyKey, attempt: request.attempt, at: at() });
  const counted = (body: (args: Record<string, unknown>) => unknown): EdgeTaskImplementation => async (args, request) => {
    await ledger(args).executed(arrival(request));
    return body(args);
  };
  return {
    double: counted(({ x }) => (x as number) * 2),
    report: counted(({ y }) => `y is ${y as number}`),
    reserve: counted(({ cart }) => `held ${cart as string}`),
    "revert:reserve": counted(() => "released"),
    charge: counted(({ price }) => {
      throw new TypeError(`price must be positive, got ${price as number}`);
    }),
    gated: counted(async (args) => (await ledger(args).gate("gated"), "opened")),
    never: counted(async (args) => (await ledger(args).gate("never"), "too late")),
  };
}

async function received(env: Cloudflare.Env, request: TaskRequest, at: string): Promise<void> {
  const name = request.args.ledger;
  if (typeof name === "string") await env.LEDGER.getByName(name).received({ task: request.task, action: request.action, idempotencyKey: request.idempotencyKey, attempt: request.attempt, at });
}

/** The remote Worker of `EdgeExecutor.service` (bound to this same Worker as TASKS, entrypoint "TestTasks"). */
export class TestTasks extends TaskEntrypoint {
  protected readonly tasks = edgeTasks(this.env, () => "service");
  override async run(request: TaskRequest): Promise<ExecutionOutcome> {
    await received(this.env, request, "service");
    return super.run(request);
  }
}

/** The remote objects of `EdgeExecutor.objects` (TASK_OBJECTS). */
export class TestTaskObjects extends TaskObject {
  protected readonly tasks = edgeTasks(this.env, () => this.ctx.id.name ?? "?");
  override async run(request: TaskRequest): Promise<ExecutionOutcome> {
    await received(this.env, request, this.ctx.id.name ?? "?");
    return super.run(request);
  }
}

const ledgered = (name: string, requires: string[], provides?: string) => remoteTask({ name, requires: [...requires, "ledger"], ...(provides ? { provides } : {}) });

/** The flows: every task remote. */
const edgeFlows = new FlowRegistry()
  .register("double", () => linearFlow("double", ledgered("double", ["x"], "y"), ledgered("report", ["y"], "z")))
  .register("declined", () => linearFlow("declined", ledgered("reserve", ["cart"], "reserve"), ledgered("charge", ["reserve", "price"])))
  .register("gated", () => linearFlow("gated", ledgered("gated", [], "gated")))
  .register("patient", () => linearFlow("patient", { retry: new Times(2) }, ledgered("never", [], "never")));

/** Which executor the next requests use (stored: a new life of the runner uses it too). */
export interface ExecutorPlan {
  kind: "service" | "objects";
  requestTimeoutMs?: number;
  /** Objects only: each execute to the next of two objects, rather than by idempotency key. */
  roundRobin?: boolean;
}

/**
 * A FlowRunner whose tasks run in another Worker or in TaskObjects, per a stored plan. As in
 * TestRunner, work to do at once is due an hour later: tests run alarms by hand.
 */
export class EdgeRunner extends FlowRunner {
  protected readonly flows = edgeFlows;
  #turn = 0;
  protected override readonly options: FlowRunnerOptions = {
    resumeDelayMs: HOUR,
    retentionMs: Infinity,
    executor: Executor.from({ execute: (request, context) => this.#executor().execute(request, context) }),
  };

  /**
   * Resets the object as a deploy, a crash or an exceeded limit does (`ctx.abort()`): memory and
   * in-flight calls are lost, storage and the alarm are kept. (`evictDurableObject` would wait for
   * the remote call to end: a graceful eviction never loses one.)
   */
  crash(): void {
    this.ctx.abort("the test reset the runner mid-request");
  }

  useExecutor(plan: ExecutorPlan): void {
    this.ctx.storage.kv.put(PLAN, plan);
  }

  #executor(): EdgeExecutor {
    const plan = this.ctx.storage.kv.get<ExecutorPlan>(PLAN) ?? { kind: "service" };
    const timeout = plan.requestTimeoutMs === undefined ? {} : { requestTimeoutMs: plan.requestTimeoutMs };
    if (plan.kind === "service") return EdgeExecutor.service(this.env.TASKS, timeout);
    return EdgeExecutor.objects(this.env.TASK_OBJECTS, { ...timeout, size: 2, ...(plan.roundRobin ? { pick: () => `tasks-${this.#turn++ % 2}` } : {}) });
  }
}

/** The example (examples/edge-executor), with work due an hour later, so tests run its alarm by hand (its options, plus that). */
export class TestSimpleLinear extends SimpleLinear {
  protected override readonly options: FlowRunnerOptions = { executor: EdgeExecutor.service(this.env.SIMPLE_TASKS, { name: "simple-tasks" }), resumeDelayMs: HOUR };
}
