import type { AtomAction } from "../engine/actions/action.js";
import { sleepAction } from "../engine/actions/sleep.js";
import { CompilationFailure } from "../errors.js";
import { Atom, type AtomOptions, type ProvidesSpec } from "./atom.js";
import type { Needs, OpenBy, ProvidedBy, ResultNamed } from "../typing.js";
import { duration, parseDuration, type Duration } from "../duration.js";

/**
 * Options of a sleep: its name, what it provides (its wake-up time), its version and priority.
 * @example
 * const options: SleepOptions = { name: "cool-off", provides: "wokeAt" };
 * linearFlow("remind", sendEmail, sleep("a-day-later", 86_400_000, { provides: options.provides }), sendReminder);
 */
export type SleepOptions = Omit<AtomOptions<Record<string, never>>, "requires" | "optional" | "rebind" | "inject">;

/**
 * An atom that waits. When the engine reaches it, the wake-up time is written to the log book
 * first; a host that goes away (a closed page, an evicted isolate) resumes waiting only for what
 * is left, or not at all if the time has passed. Provides the wake-up time (ms since the epoch)
 * when given `provides`.
 * @example new Sleep({ at: Date.parse("2026-12-24T18:00:00Z") }, { name: "until-eve", provides: "wokeAt" })
 */
export class Sleep<Provides extends object = {}, Results extends object = {}, N extends Needs = Needs> extends Atom<Record<string, never>, Provides, Results, N> {
  readonly kind = "task" as const;
  readonly action: AtomAction<any> = sleepAction;

  constructor(
    /** Milliseconds after the engine reaches it, or an absolute time (ms since the epoch). */
    readonly wait: { afterMs: number } | { at: number },
    options: SleepOptions & { name: string },
  ) {
    super(options);
    // Refused here, not when the engine reaches it: an infinite wake-up time cannot be stored.
    const who = `sleep "${this.name}"`;
    if (!("at" in wait)) duration(who, "ms", wait.afterMs);
    else if (!Number.isFinite(wait.at)) throw new CompilationFailure(`${who}: at must be a finite time (ms since the epoch), got ${wait.at}`);
  }
}

/** A sleep's type: its wake-up time (a number), provided as `provides` says, is its result. */
type Slept<N extends string, P> = Sleep<ProvidedBy<P, number>, ResultNamed<N, number>, Needs<never, OpenBy<P>>>;

/**
 * A sleep of `ms` milliseconds, or of a readable {@link Duration} ("30s", "1 day").
 * @throws InvalidDuration for a string that is not a duration
 * @example linearFlow("remind", sendEmail, sleep("wait-a-day", "1 day"), sendReminder)
 */
export function sleep<const N extends string, const P extends ProvidesSpec | undefined = undefined>(name: N, ms: Duration, options: Omit<SleepOptions, "name"> & { provides?: P } = {}): Slept<N, P> {
  return new Sleep({ afterMs: typeof ms === "string" ? parseDuration(ms, `sleep "${name}"`) : ms }, { ...options, name });
}

/** @example sleepUntil("until-monday", Date.parse("2026-11-30T09:00:00Z")) */
export function sleepUntil<const N extends string, const P extends ProvidesSpec | undefined = undefined>(name: N, at: number | Date, options: Omit<SleepOptions, "name"> & { provides?: P } = {}): Slept<N, P> {
  return new Sleep({ at: typeof at === "number" ? at : at.getTime() }, { ...options, name });
}
