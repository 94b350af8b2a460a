import { CompilationFailure } from "../errors.js";
import { duration, parseDuration, type Duration } from "../duration.js";

/**
 * How long to wait before each retry, after AWS Step Functions' retriers: the first retry waits
 * `initialMs` (IntervalSeconds), each next one `rate` times longer (BackoffRate), never more than
 * `maxMs` (MaxDelaySeconds); `jitter: "full"` (JitterStrategy FULL) waits a random time between
 * 0 and that delay, so that many clients retrying together spread out.
 *
 * Delays are milliseconds or readable {@link Duration}s.
 * @example { initialMs: "500ms", rate: 2, maxMs: "30s", jitter: "full" } // 0.5 s, 1 s, 2 s … ≤ 30 s
 */
export interface Backoff {
  initialMs: Duration;
  /** Multiplier between two retries; 1 for a fixed delay. Default 2. */
  rate?: number;
  /** Upper bound of one delay. Default: none. */
  maxMs?: Duration | undefined;
  /** Default "none". */
  jitter?: "none" | "full";
}

/** Checks a backoff policy when the retry is built, so a typo fails early with its name. */
export function checkBackoff(owner: string, b: Backoff): void {
  const who = `retry "${owner}"`;
  duration(who, "backoff initialMs", b.initialMs ?? NaN);
  duration(who, "backoff maxMs", b.maxMs);
  if (b.rate !== undefined && !(Number.isFinite(b.rate) && b.rate >= 1)) throw new CompilationFailure(`${who}: backoff rate must be a finite number ≥ 1, got ${b.rate}`);
  if (b.jitter !== undefined && b.jitter !== "none" && b.jitter !== "full") throw new CompilationFailure(`${who}: backoff jitter must be "none" or "full"`);
}

/** The longest delay: the range of a `Date` (about 273,790 years), so a wake-up time stays a finite, storable number. */
const LONGEST = 8.64e15;

/**
 * The delay before retry number `retry` (1 for the first retry).
 * @param random a number in [0, 1): the engine's injectable random source
 * @example backoffDelay({ initialMs: 500 }, 3, Math.random) // 2000: 500 × 2²
 */
export function backoffDelay(b: Backoff, retry: number, random: () => number): number {
  const raw = (ms(b.initialMs) as number) * Math.pow(b.rate ?? 2, Math.max(0, retry - 1));
  // rate^retry overflows to Infinity after enough retries: cap it so that it can be stored.
  const capped = Math.min(ms(b.maxMs) ?? LONGEST, raw, LONGEST);
  return b.jitter === "full" ? Math.floor(random() * capped) : capped;
}

/** Milliseconds of a delay as written: a number as it is (checked by the caller), a string parsed. */
function ms(d: Duration | undefined): number | undefined {
  return typeof d === "string" ? parseDuration(d) : d;
}
