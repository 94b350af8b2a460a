import { type Clock, systemClock } from "../ports/clock.js";

/**
 * A clock that only moves when told to, for tests: `advance(ms)` wakes the sleepers whose time
 * has come. With `{ autoAdvance: true }`, a sleep moves the clock forward by itself, so a run
 * that waits an hour finishes at once, and its timestamps still say an hour passed.
 *
 * @example const clock = new ManualClock(0, { autoAdvance: true }); await run(flow, { clock });
 */
export class ManualClock implements Clock {
  private sleepers: Array<{ at: number; wake: () => void }> = [];

  constructor(
    private current = 0,
    private readonly options: { autoAdvance?: boolean } = {},
  ) {}

  now(): number {
    return this.current;
  }

  /** Moves time forward and wakes every sleeper whose time has come. */
  advance(ms: number): void {
    this.current += ms;
    const due = this.sleepers.filter((s) => s.at <= this.current);
    this.sleepers = this.sleepers.filter((s) => s.at > this.current);
    for (const s of due) s.wake();
  }

  /** Sets the time (it never goes back). */
  set(ms: number): void {
    this.advance(Math.max(0, ms - this.current));
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
