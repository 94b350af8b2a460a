// Durations as people write them ("30s", "5 minutes", "1 day") or as milliseconds, in one place:
// a small parser, only in the bundles of what takes a duration (sleeps, waits, retries' backoff,
// leases), not in a minimal app's.
import { CompilationFailure, InvalidFormat } from "./errors.js";
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

// A unit is its first letter ("days" is "d"), except milliseconds ("ms"); plurals only for words.
const UNITS: Record<string, number> = { ms: 1, s: 1e3, m: 6e4, h: 36e5, d: 864e5, w: 6048e5 };
const FORM = /^(\d*\.?\d+) ?(?:(ms|[smhdw])|(millisecond|second|minute|hour|day|week)s?)$/;

/**
 * Milliseconds of a {@link Duration}: a number as it is, a string by its unit.
 * @param what names the setting in the error, e.g. `sleep "cool-off"`
 * @throws InvalidDuration naming the value and the accepted forms, for a string of another form, a negative or non-finite number
 * @example parseDuration("1 day") // 86_400_000
 */
export function parseDuration(value: Duration, what = "duration"): number {
  const [, n, unit, word] = (typeof value === "string" && FORM.exec(value)) || [];
  const ms = typeof value === "number" ? value : Number(n) * (UNITS[unit ?? (word === "millisecond" ? "ms" : word?.[0] ?? "")] ?? NaN);
  if (Number.isFinite(ms) && ms >= 0) return ms;
  throw new InvalidDuration(`${what}: ${typeof value === "string" ? JSON.stringify(value) : String(value)} is not a duration; write ms ≥ 0 or a number and a unit: "250ms", "30s", "5m", "2h", "1 day"`);
}

/**
 * A duration setting of an atom, in ms, checked when the atom is built: a string is parsed
 * (`InvalidDuration` naming `owner: what` for one that is not a duration), a number must be
 * finite and ≥ 0 so that a log book can store it and a timer wait it.
 * @throws CompilationFailure naming its owner, for a number that is not finite or is negative
 * @example this.timeoutMs = duration(`task "${this.name}"`, "timeoutMs", options.timeoutMs)
 */
export function duration(owner: string, what: string, value: Duration | undefined): number | undefined {
  if (typeof value === "string") return parseDuration(value, `${owner}: ${what}`);
  if (value !== undefined && !(Number.isFinite(value) && value >= 0)) throw new CompilationFailure(`${owner}: ${what} must be a finite number ≥ 0, got ${value}`);
  return value;
}
