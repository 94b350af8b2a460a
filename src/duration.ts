// Durations as people write them ("30s", "5 minutes", "1 day") or as milliseconds, in one place:
// a small parser, only in the bundles of what takes a duration (sleeps, waits, retries' backoff,
// leases), not in a minimal app's.
import { InvalidFormat } from "./errors.js";
import { named } from "./error-classes.js";

/**
 * A unit of a {@link Duration} string: `ms`, `s`, `m`, `h`, `d`, `w`, or the word, singular or plural.
 * @example const unit: DurationUnit = "days"
 */
export type DurationUnit =
  | "ms" | "s" | "m" | "h" | "d" | "w"
  | "millisecond" | "milliseconds" | "second" | "seconds" | "minute" | "minutes" | "hour" | "hours" | "day" | "days" | "week" | "weeks";

/**
 * A duration: milliseconds as a number, or a number and a unit, with or without a space between
 * ("250ms", "30s", "1.5h", "1 day", "3 days"). Never negative.
 * @example sleep("cool-off", "1 day"); waitFor("code", { timeoutMs: "10 minutes" })
 */
export type Duration = number | `${number}${DurationUnit}` | `${number} ${DurationUnit}`;

/**
 * A duration that does not parse or makes no sense (negative, infinite): the value, and the forms
 * that are accepted. An {@link InvalidFormat}.
 * @example try { parseDuration("soon") } catch (e) { if (e instanceof InvalidDuration) console.error(e.message) }
 */
export class InvalidDuration extends InvalidFormat {
  static {
    named(this, "InvalidDuration");
  }
}

const UNITS: Record<string, number> = { ms: 1, millisecond: 1, s: 1e3, second: 1e3, m: 6e4, minute: 6e4, h: 36e5, hour: 36e5, d: 864e5, day: 864e5, w: 6048e5, week: 6048e5 };

/**
 * Milliseconds of a {@link Duration}: a number as it is, a string by its unit.
 * @param what names the setting in the error, e.g. `sleep "cool-off"`
 * @throws InvalidDuration naming the value and the accepted forms, for a string of another form, a negative or non-finite number
 * @example parseDuration("1 day") // 86_400_000
 */
export function parseDuration(value: Duration, what = "duration"): number {
  const [, n, unit = ""] = (typeof value === "string" && /^(\d*\.?\d+) ?([a-z]+)$/.exec(value)) || [];
  // A plural is its singular's ("days"), for words only: "ms" and "s" are units of their own, "hs" is nothing.
  const ms = typeof value === "number" ? value : Number(n) * (UNITS[unit] ?? (unit.length > 3 ? UNITS[unit.slice(0, -1)] : undefined) ?? NaN);
  if (Number.isFinite(ms) && ms >= 0) return ms;
  throw new InvalidDuration(`${what}: ${typeof value === "string" ? JSON.stringify(value) : String(value)} is not a duration; write milliseconds ≥ 0, or a number and a unit: "250ms", "30s", "5m", "2h", "1 day", "3 weeks"`);
}
