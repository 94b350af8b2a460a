import type { Failure } from "../failure.js";
import { Atom, type AtomOptions, type ProvidesSpec } from "./atom.js";
import { duration, type Duration } from "../duration.js";
import type { Needs, ProvidedBy, ResultNamed, TaskNeeds } from "../typing.js";
import type { Retry } from "./retry.js";
import type { AtomAction } from "../engine/actions/action.js";
import { taskAction } from "../engine/actions/task.js";

/**
 * Options of a task: the atom options plus how it is run.
 * @example task({ name: "sync", needsNetwork: true, timeoutMs: "10s", execute: syncNow })
 */
export interface TaskOptions<Args extends object = Record<string, unknown>> extends AtomOptions<Args> {
  /**
   * Fails the task with `RequestTimeout` (and aborts its signal) when execute takes longer: ms, or
   * a readable {@link Duration} ("30s", "2 minutes"), refused with `InvalidDuration` naming the
   * task when it is not one.
   */
  timeoutMs?: Duration;
  /**
   * The task needs the network: while the host reports it offline the task does not start, and a
   * failure while offline does not spend a retry attempt: the task is reverted and waits.
   */
  needsNetwork?: boolean;
  /**
   * Retries this task alone: the task runs in a flow of its own (`<name>[retry]`) with this retry
   * controller, named `<name>_retry` unless it has a name. A retry object, not plain data, so an
   * app without retries does not bundle them.
   * @example task({ name: "call", retry: new Times(3, { backoff: { initialMs: 500 } }), execute: callApi })
   */
  retry?: Retry<any>;
}

/**
 * What `execute` receives beside its arguments. Return plain data: the result is stored. Read its
 * fields or destructure them; a spread (`{ ...ctx }`) copies only `name` and `attempt`: the others
 * are worked out when read, so that a task that never reads them costs nothing.
 * @example
 * task({ name: "post", requires: ["url"], execute: ({ url }: { url: string }, ctx) =>
 *   fetch(url, { method: "POST", signal: ctx.signal, headers: { "Idempotency-Key": ctx.idempotencyKey } }).then((r) => r.status) })
 */
export interface TaskContext {
  /** The atom's name. */
  readonly name: string;
  /** Aborted when the engine gives up on the task (the run stops, or is abandoned). */
  readonly signal: AbortSignal;
  /**
   * How many times execute has been started for this atom in this flow detail, this one
   * included. Tasks run at least once: after a crash a RUNNING task runs again.
   */
  readonly attempt: number;
  /**
   * `"<flow detail id>:<atom name>:<generation>"`: the same when execute runs again after a crash,
   * so a task can deduplicate its side effects (an HTTP idempotency header, a database key); a new
   * one when the atom is reset to run anew (a reset, or a retry).
   */
  readonly idempotencyKey: string;
  /** Reports progress (clamped to 0..1) to listeners and into the atom's meta. */
  updateProgress(fraction: number, details?: unknown): void;
}

/**
 * What `revert` receives beside its arguments.
 * @example
 * task({ name: "charge", requires: ["amount"], execute: ({ amount }: { amount: number }) => charge(amount),
 *   revert: (_args, ctx) => (typeof ctx.result === "string" ? refund(ctx.result) : undefined) }) // nothing to refund if charge threw
 */
export interface RevertContext extends TaskContext {
  /** What execute returned, or its {@link Failure} when it threw (undefined if it never finished). */
  readonly result: unknown;
  /** The failures of the flow that caused this revert, by atom name. */
  readonly flowFailures: Readonly<Record<string, Failure>>;
}

/**
 * One action that can be undone. Subclass it, or use {@link task}. `Provides` (the names it
 * provides with their types) and `Name` type what a flow holding it gives back; {@link task}
 * infers both.
 *
 * @example
 * class Charge extends Task<{ amount: number }, string> {
 *   constructor() { super({ requires: ["amount"], provides: "receipt" }); }
 *   async execute({ amount }: { amount: number }) { return `paid ${amount}`; }
 *   async revert({ amount }: { amount: number }) { await refund(amount); }
 * }
 */
export abstract class Task<Args extends object = Record<string, unknown>, Result = unknown, Provides extends object = {}, Name extends string = string, N extends Needs = Needs>
  extends Atom<Args, Provides, ResultNamed<Name, Awaited<Result>>, N> {
  readonly kind = "task" as const;
  readonly action: AtomAction<any> = taskAction;
  /** The task's timeout in ms, from `timeoutMs` as written. */
  declare readonly timeoutMs: number | undefined;
  declare readonly needsNetwork: boolean;
  declare readonly retry: Retry<any> | undefined;
  /** The name an executor's workers know this task by (a {@link remoteTask}'s); else the atom's name. */
  declare readonly implementation?: string;

  constructor(options: TaskOptions<Args> = {}) {
    super(options);
    this.timeoutMs = duration(`task "${this.name}"`, "timeoutMs", options.timeoutMs);
    this.needsNetwork = options.needsNetwork ?? false;
    this.retry = options.retry;
    this.retry?.adopt(this.name);
  }

  abstract execute(args: Args, context: TaskContext): Result | Promise<Result>;
  /** Undoes execute. Runs for a task that succeeded, and for the one that failed. */
  revert?(args: Args, context: RevertContext): unknown;
}

/**
 * Options of {@link task}: the atom options plus the functions. The argument types come from
 * `execute` alone (`NoInfer`), so `requires`, `optional` and `inject` are checked against them;
 * the name and `provides` are kept as written (`P`, `N`), to type what the task provides.
 * @example const spec: TaskSpec<{ x: number }, number> = { name: "double", requires: ["x"], execute: ({ x }) => x * 2 }; task(spec)
 */
export interface TaskSpec<
  Args extends object,
  Result,
  P extends ProvidesSpec | undefined = ProvidesSpec,
  N extends string = string,
  Q extends Requires<Args> | undefined = Requires<Args> | undefined,
  B extends Rebind<Args> | undefined = Rebind<Args> | undefined,
  I extends Injected<Args> | undefined = Injected<Args> | undefined,
  Rt extends Retry<any> | undefined = Retry<any> | undefined,
> extends TaskOptions<NoInfer<Args>> {
  name: N;
  provides?: P;
  requires?: Q;
  rebind?: B;
  inject?: I;
  retry?: Rt;
  execute(args: Args, context: TaskContext): Result | Promise<Result>;
  revert?(args: Args, context: RevertContext): unknown;
}

class FunctionTask<Args extends object, Result, Provides extends object, Name extends string, N extends Needs> extends Task<Args, Result, Provides, Name, N> {
  private readonly spec: TaskSpec<Args, Result, ProvidesSpec | undefined, Name>;
  constructor(spec: TaskSpec<Args, Result, ProvidesSpec | undefined, Name>) {
    super(spec);
    this.spec = spec;
    if (spec.revert) this.revert = (args, ctx) => (spec.revert as NonNullable<typeof spec.revert>)(args, ctx);
  }
  execute(args: Args, context: TaskContext): Result | Promise<Result> {
    return this.spec.execute(args, context);
  }
}

/**
 * A task from functions. Its type carries what it provides, from `provides` and what `execute`
 * returns (`provides: "y"` with a number result: `{ y: number }`; names by index from an array
 * result; `{ name: key }` from an object's properties), and its result under its name: a flow
 * holding it types `fetch` and `getResult` from them.
 * @example
 * const double = task({ name: "double", requires: ["x"], provides: "y", execute: ({ x }: { x: number }) => x * 2 });
 */
export function task<
  Args extends object = Record<string, unknown>,
  Result = unknown,
  const P extends ProvidesSpec | undefined = ProvidesSpec | undefined,
  const N extends string = string,
  const Q extends Requires<Args> | undefined = Requires<Args> | undefined,
  const B extends Rebind<Args> | undefined = Rebind<Args> | undefined,
  I extends Injected<Args> | undefined = Injected<Args> | undefined,
  Rt extends Retry<any> | undefined = Retry<any> | undefined,
>(spec: TaskSpec<Args, Result, P, N, Q, B, I, Rt>): Task<Args, Result, ProvidedBy<P, Awaited<Result>>, N, TaskNeeds<N, P, Q, B, I, Rt>> {
  return new FunctionTask(spec);
}

// The spec's argument options as AtomOptions types them, checked against `execute`'s arguments
// (NoInfer: `execute` alone decides them), each captured as written to type what the task needs.
type Requires<Args extends object> = NonNullable<AtomOptions<NoInfer<Args>>["requires"]>;
type Rebind<Args extends object> = NonNullable<AtomOptions<NoInfer<Args>>["rebind"]>;
type Injected<Args extends object> = NonNullable<AtomOptions<NoInfer<Args>>["inject"]>;
