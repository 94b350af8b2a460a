import { InvalidFormat } from "../errors.js";
import { type Clock, systemClock } from "../ports/clock.js";

/** `ms` when it is a finite number (≥ 0 unless `negative`). @throws InvalidFormat saying what it got */
function time(what: string, ms: unknown, negative = false): number {
  if (typeof ms !== "number" || !Number.isFinite(ms) || (!negative && ms < 0)) {
    throw new InvalidFormat(`ManualClock: ${what} must be a finite number of ms${negative ? "" : " ≥ 0"}, got ${typeof ms === "object" ? JSON.stringify(ms) : String(ms)}`);
  }
  return ms;
}

/**
 * A clock that only moves when told to, for tests: `advance(ms)` wakes the sleepers whose time
 * has come. With `{ autoAdvance: true }`, a sleep moves the clock forward by itself, so a run
 * that waits an hour finishes at once, and its timestamps still say an hour passed.
 *
 * @example const clock = new ManualClock(0, { autoAdvance: true }); await run(flow, { clock });
 */
export class ManualClock implements Clock {
  private sleepers: Array<{ at: number; wake: () => void }> = [];

  private current: number;
  private readonly options: { autoAdvance?: boolean };

  /**
   * @param current the time to start at (ms since the epoch)
   * @throws InvalidFormat for arguments of the wrong kind (checked at run time, for plain JavaScript)
   */
  constructor(current = 0, options: { autoAdvance?: boolean } = {}) {
    if (typeof current === "object") {
      throw new InvalidFormat(`ManualClock: the start time comes first, the options second: new ManualClock(0, { autoAdvance: true }); got ${JSON.stringify(current)} as the start time`);
    }
    this.current = time("the start time", current, true);
    if (typeof options !== "object" || options === null) throw new InvalidFormat(`ManualClock: options must be an object such as { autoAdvance: true }, got ${String(options)}`);
    if (options.autoAdvance !== undefined && typeof options.autoAdvance !== "boolean") {
      throw new InvalidFormat(`ManualClock: autoAdvance must be true or false, got ${JSON.stringify(options.autoAdvance)}`);
    }
    this.options = options;
  }

  now(): number {
    return this.current;
  }

  /** Moves time forward and wakes every sleeper whose time has come. */
  advance(ms: number): void {
    this.current += time("advance(ms)", ms);
    const due = this.sleepers.filter((s) => s.at <= this.current);
    this.sleepers = this.sleepers.filter((s) => s.at > this.current);
    for (const s of due) s.wake();
  }

  /** Sets the time (it never goes back). */
  set(ms: number): void {
    this.advance(Math.max(0, time("set(ms)", ms, true) - this.current));
  }

  /**
   * A new clock at this one's time, with its options and none of its sleepers: moving one does
   * not move the other. The crash harness runs each scenario on its own fork of the clock given.
   * @example const forked = clock.fork(); forked.advance(60_000); clock.now() // unchanged
   */
  fork(): ManualClock {
    return new ManualClock(this.current, this.options);
  }

  /** How many sleeps are pending (a test can wait for the engine to start waiting). */
  get waiting(): number {
    return this.sleepers.length;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (this.options.autoAdvance) {
      const at = this.current + Math.max(0, ms);
      // Advance only after a macrotask, and only if nobody cancelled the sleep meanwhile: work
      // that is already running (promise jobs) finishes first, as it would against a real timer.
      return systemClock.sleep(0).then(() => {
        if (!signal?.aborted && at > this.current) this.set(at);
      });
    }
    return new Promise<void>((resolve) => {
      if (signal?.aborted) return resolve();
      const sleeper = {
        at: this.current + Math.max(0, ms),
        wake: () => {
          signal?.removeEventListener("abort", cancel);
          resolve();
        },
      };
      const cancel = () => {
        this.sleepers = this.sleepers.filter((s) => s !== sleeper);
        resolve();
      };
      signal?.addEventListener("abort", cancel, { once: true });
      if (sleeper.at <= this.current) sleeper.wake();
      else this.sleepers.push(sleeper);
    });
  }
}
