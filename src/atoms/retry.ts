import { CompilationFailure, NotFound } from "../errors.js";
import { Atom, type AtomOptions } from "./atom.js";
import { type Backoff, checkBackoff } from "./backoff.js";
import type { History } from "./history.js";
import { retryAction, type RetryAction } from "../engine/actions/retry.js";

export { History, type HistoryEntry } from "./history.js";

/**
 * What a retry controller decides after an atom of its flow failed.
 * @example class UpToFive extends Retry { onFailure(h: History): RetryDecision { return h.length < 5 ? "RETRY" : "REVERT_ALL"; } }
 */
export type RetryDecision = "RETRY" | "REVERT" | "REVERT_ALL";

/**
 * Options of every retry controller.
 * @example new Times(5, { name: "sync_retry", provides: "attempt", backoff: { initialMs: 1000, maxMs: 60_000 } })
 */
export interface RetryOptions<Args extends object = Record<string, unknown>> extends Omit<AtomOptions<Args>, "name"> {
  /** Defaults to `<flow name>_retry` when attached to a flow. */
  name?: string;
  /** Wait before each retry (stored as a wake-up time, so it survives a reload or an eviction). */
  backoff?: Backoff;
}

/**
 * Decides what happens when an atom of its flow fails: try the flow again (RETRY), revert this
 * flow (REVERT, deferring to an enclosing retry), or revert everything (REVERT_ALL). Its execute
 * runs before the flow's atoms and may provide a value to them (the try number, a parameter…).
 *
 * @example linearFlow("call", { retry: new Times(3, { backoff: { initialMs: 1000 } }) }, callApi)
 */
export abstract class Retry<Args extends object = Record<string, unknown>> extends Atom<Args> {
  readonly kind = "retry" as const;
  readonly action: RetryAction = retryAction;
  declare readonly backoff: Backoff | undefined;
  private named: boolean;

  constructor(options: RetryOptions<Args> = {}) {
    super({ ...options, name: options.name ?? "retry" });
    this.named = options.name !== undefined;
    this.backoff = options.backoff;
    if (options.backoff) checkBackoff(this.name, options.backoff);
  }

  /** @internal gives an unnamed retry its flow's name, as TaskFlow does */
  adopt(flowName: string): void {
    if (this.named) return;
    (this as { name: string }).name = `${flowName}_retry`;
    this.named = true;
  }

  /** The value this try provides (default: nothing). */
  execute(_history: History, _args: Args): unknown {
    return undefined;
  }

  /** Undoes execute when the flow is reverted (default: nothing). */
  revert(_history: History, _args: Args): unknown {
    return undefined;
  }

  abstract onFailure(history: History, args: Args): RetryDecision;
}

const giveUp = (revertAll: boolean | undefined): RetryDecision => (revertAll ? "REVERT_ALL" : "REVERT");

/**
 * Never retries: reverts its flow (and lets an enclosing retry decide).
 * @example linearFlow("outer", { retry: new Times(3) }, linearFlow("inner", { retry: new AlwaysRevert() }, reserve, pay))
 */
export class AlwaysRevert extends Retry {
  onFailure(): RetryDecision {
    return "REVERT";
  }
}

/**
 * Never retries: reverts the whole flow, enclosing flows included.
 * @example linearFlow("payment", { retry: new AlwaysRevertAll() }, charge) // a failed charge reverts everything that ran
 */
export class AlwaysRevertAll extends Retry {
  onFailure(): RetryDecision {
    return "REVERT_ALL";
  }
}

/**
 * Tries the flow `attempts` times in all (`Times(0)` and `Times(1)` give up at the first
 * failure). Provides the try number, 1 for the first.
 * @example linearFlow("call", { retry: new Times(3, { provides: "attempt" }) }, callApi) // callApi may require "attempt"
 */
export class Times extends Retry {
  constructor(
    readonly attempts = 1,
    private readonly options: RetryOptions & { revertAll?: boolean } = {},
  ) {
    super(options);
    if (!Number.isInteger(attempts) || attempts < 0) {
      throw new CompilationFailure(`retry "${this.name}": attempts must be a whole number ≥ 0, got ${attempts}`);
    }
  }
  override execute(history: History): number {
    return history.length + 1;
  }
  onFailure(history: History): RetryDecision {
    return history.length < this.attempts ? "RETRY" : giveUp(this.options.revertAll);
  }
}

/** Values not yet provided, one occurrence per try: [3, 2, 3, 5] tries 3, 2, 3 and 5. */
function remaining(values: readonly unknown[], history: History): unknown[] {
  const left = [...values];
  for (const used of history.provided) {
    const i = left.findIndex((v) => Object.is(v, used) || JSON.stringify(v) === JSON.stringify(used));
    if (i >= 0) left.splice(i, 1);
  }
  return left;
}

function nextValue(name: string, values: readonly unknown[], history: History): unknown {
  const left = remaining(values, history);
  if (left.length === 0) throw new NotFound(`No elements left in collection of iterable for retry controller "${name}"`);
  return left[0];
}

/**
 * Tries the flow once with each of `values`, provided under the retry's `provides` name.
 * @example linearFlow("send", { retry: new ForEach(["smtp-a", "smtp-b"], { provides: "server" }) }, send) // send requires "server"
 */
export class ForEach extends Retry {
  constructor(
    readonly values: readonly unknown[],
    private readonly options: RetryOptions & { revertAll?: boolean } = {},
  ) {
    super(options);
  }
  override execute(history: History): unknown {
    return nextValue(this.name, this.values, history);
  }
  onFailure(history: History): RetryDecision {
    return remaining(this.values, history).length > 0 ? "RETRY" : giveUp(this.options.revertAll);
  }
}

/**
 * {@link ForEach} over the list it requires as `values` (rebind it to read another name).
 * @example linearFlow("send", { retry: new ParameterizedForEach({ rebind: { values: "servers" }, provides: "server" }) }, send)
 */
export class ParameterizedForEach extends Retry<{ values: unknown[] }> {
  constructor(private readonly options: RetryOptions<{ values: unknown[] }> & { revertAll?: boolean } = {}) {
    super({ ...options, requires: ["values"] });
  }
  override execute(history: History, args: { values: unknown[] }): unknown {
    return nextValue(this.name, args.values, history);
  }
  onFailure(history: History, args: { values: unknown[] }): RetryDecision {
    return remaining(args.values, history).length > 0 ? "RETRY" : giveUp(this.options.revertAll);
  }
}
