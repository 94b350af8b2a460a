import { CompilationFailure } from "../errors.js";

/**
 * How long to wait before each retry, after AWS Step Functions' retriers: the first retry waits
 * `initialMs` (IntervalSeconds), each next one `rate` times longer (BackoffRate), never more than
 * `maxMs` (MaxDelaySeconds); `jitter: "full"` (JitterStrategy FULL) waits a random time between
 * 0 and that delay, so that many clients retrying together spread out.
 *
 * @example { initialMs: 500, rate: 2, maxMs: 30_000, jitter: "full" } // 0.5 s, 1 s, 2 s … ≤ 30 s
 */
export interface Backoff {
  initialMs: number;
  /** Multiplier between two retries; 1 for a fixed delay. Default 2. */
  rate?: number;
  /** Upper bound of one delay. Default: none. */
  maxMs?: number;
  /** Default "none". */
  jitter?: "none" | "full";
}

/** Checks a backoff policy when the retry is built, so a typo fails early with its name. */
export function checkBackoff(owner: string, b: Backoff): void {
  const bad = (what: string) => new CompilationFailure(`retry "${owner}": backoff ${what}`);
  if (!(b.initialMs >= 0) || !Number.isFinite(b.initialMs)) throw bad(`initialMs must be a finite number ≥ 0, got ${b.initialMs}`);
  if (b.rate !== undefined && !(b.rate >= 1)) throw bad(`rate must be ≥ 1, got ${b.rate}`);
  if (b.maxMs !== undefined && !(b.maxMs >= 0)) throw bad(`maxMs must be ≥ 0, got ${b.maxMs}`);
  if (b.jitter !== undefined && b.jitter !== "none" && b.jitter !== "full") throw bad(`jitter must be "none" or "full"`);
}

/**
 * The delay before retry number `retry` (1 for the first retry).
 * @param random a number in [0, 1): the engine's injectable random source
 * @example backoffDelay({ initialMs: 500 }, 3, Math.random) // 2000: 500 × 2²
 */
export function backoffDelay(b: Backoff, retry: number, random: () => number): number {
  const raw = b.initialMs * Math.pow(b.rate ?? 2, Math.max(0, retry - 1));
  const capped = b.maxMs === undefined ? raw : Math.min(b.maxMs, raw);
  return b.jitter === "full" ? Math.floor(random() * capped) : capped;
}
