import { Failure, type FailureData } from "../failure.js";

/**
 * One try of a retry's flow, as stored in the retry's atom detail.
 * @example history.entries.map((e: HistoryEntry) => Object.keys(e.failures)) // which atoms failed on each try
 */
export interface HistoryEntry {
  /** What the retry's execute provided for this try. */
  value: unknown;
  /** The failures of this try, by atom name. */
  failures: Record<string, FailureData>;
}

/**
 * The tries of a retry's flow so far: each value the retry provided and the failures that
 * followed it. Persisted in the retry's atom detail, so a resumed flow sees the same history.
 * @example
 * class OnTimeouts extends Retry {
 *   onFailure(history: History): RetryDecision { return history.causedBy(RequestTimeout) && history.length < 3 ? "RETRY" : "REVERT"; }
 * }
 */
export class History {
  constructor(
    readonly entries: readonly HistoryEntry[],
    /** The failure of the retry's own execute, if it threw. */
    readonly failure?: Failure,
  ) {}

  /** Number of tries so far (the current one included, once the retry has executed). */
  get length(): number {
    return this.entries.length;
  }

  /** The values provided, oldest first. */
  get provided(): unknown[] {
    return this.entries.map((e) => e.value);
  }

  /** `[value, failures]` for each try, failures rebuilt as {@link Failure}s. */
  get outcomes(): Array<[unknown, Record<string, Failure>]> {
    return this.entries.map((e) => [e.value, Object.fromEntries(Object.entries(e.failures).map(([k, f]) => [k, Failure.fromJSON(f)]))]);
  }

  /** Whether any try failed with an error of this class or name. */
  causedBy(classOrName: string | (abstract new (...a: never[]) => Error)): boolean {
    return this.outcomes.some(([, failures]) => Object.values(failures).some((f) => f.check(classOrName) !== undefined));
  }
}
