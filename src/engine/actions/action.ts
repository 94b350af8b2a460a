import type { Failure } from "../../failure.js";
import type { FlowDetail } from "../../persistence/models.js";
import type { Clock } from "../../ports/clock.js";
import type { Storage } from "../../storage/storage.js";
import type { AtomNode, TaskNode } from "../compiler.js";
import type { Journal } from "../journal.js";

/**
 * What keeps a ready atom from starting, as its action says: a time (a sleep, a retry's backoff),
 * an input (a wait, until its deadline), or the network (a task that needs it while the host is
 * offline). The runner keeps held atoms in one place and asks each hold whether it is over, so
 * a new kind that waits for something brings its own hold, and apps without waits carry no code
 * for them.
 */
export interface Hold {
  /** Why a flow stopped with only this holding it (its stored `suspendedReason`); a runner sleeps in-process only for `"waiting"`. */
  readonly reason: "waiting" | "input" | "offline";
  /** When it ends by itself (a timer) or fails (a wait's deadline), ms since the epoch. */
  readonly at: number | undefined;
  /** What the flow waits for, for a wait (the flow detail's `waitingFor` lists these). */
  readonly input?: NonNullable<FlowDetail["waitingFor"]>[number];
  /** Whether the atom may go now: its time has come, its input came, the network is back. */
  over(host: ActionHost, now: number): boolean;
}

/** Holds an atom until a stored time (a sleep's wake-up, a retry's backoff) if it is still ahead. */
export function untilTime(at: number | undefined, now: number): Hold | undefined {
  return at !== undefined && at > now ? { reason: "waiting", at, over: (_, t) => at <= t } : undefined;
}

/** What an action sees of its run. */
export interface ActionHost {
  readonly journal: Journal;
  readonly storage: Storage;
  readonly clock: Clock;
  online(): boolean;
  /** Where tasks run, when not here (the engine's `executor` option). */
  readonly executor: { run(node: TaskNode, host: ActionHost, signal: ActionSignal, action: "execute" | "revert"): Promise<unknown> } | undefined;
  /** A number in [0, 1), for a retry's backoff jitter. */
  random(): number;
}

/**
 * How one kind of atom runs: what holds it once it is ready, how it executes and reverts. The
 * engine asks the atom's own action, never its class, so that a new kind (a remote task) is one
 * more action, and two copies of the package (a page and its worker bundle) agree on kinds.
 */
export interface AtomAction<N extends AtomNode = AtomNode> {
  readonly kind: N["kind"];
  /** Called when the atom is ready to execute; what it still waits for, if anything (may store a timer). */
  hold(node: N, host: ActionHost): Hold | undefined;
  /** Runs execute; resolves to what the log book stores as its result. */
  execute(node: N, host: ActionHost, signal: ActionSignal): unknown;
  /** Runs revert; resolves to what the log book stores as its revert result. */
  revert(node: N, host: ActionHost, signal: ActionSignal): unknown;
  /** Bookkeeping once an execute's SUCCESS is recorded (a wait consumes its input). */
  succeeded?(node: N, host: ActionHost): void;
  /** The longest an execute may take before it fails with `RequestTimeout`. */
  timeoutMs?(node: N): number | undefined;
  /** Whether a failure of this atom while offline is no failure of the atom (it waits for the network). */
  needsNetwork?(node: N): boolean;
}

/**
 * Failures an action throws as they are (an executor's, come back as data): the runner records
 * them unwrapped. A WeakSet, not `instanceof`, which throws on a revoked Proxy someone threw.
 * @example asFailure.add(failure); throw failure
 */
export const asFailure = new WeakSet<object>();

/** The outcome of an action, as data: what the runner records. */
export type Outcome = { ok: true; value: unknown } | { ok: false; failure: Failure };

/**
 * The abort signal of one action, created only when the task reads `ctx.signal`: most tasks
 * never do, and an AbortController per atom is a measurable share of a no-op atom's cost.
 */
export class ActionSignal {
  private controller: AbortController | undefined;
  private reason: { value: unknown } | undefined;

  get(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.reason) this.controller.abort(this.reason.value);
    }
    return this.controller.signal;
  }

  abort(reason: unknown): void {
    this.reason ??= { value: reason };
    this.controller?.abort(reason);
  }
}
