/**
 * Where the engine reads the time and how it waits. Hosts and tests inject their own: a
 * simulated clock in tests (`ManualClock` from `taskflow-ts/testing`), so nothing ever sleeps for real; a Durable Object host that ends the
 * run and sets an alarm instead of waiting (`maxWaitMs: 0`).
 * @example const clock = new ManualClock(Date.parse("2026-01-01")); load(flow, { clock }); clock.advance(60_000) // taskflow-ts/testing
 */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
  /** Resolves after `ms` milliseconds, or as soon as `signal` aborts (without rejecting). */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** The longest delay `setTimeout` holds (a signed 32-bit number of ms); a longer one fires at once. */
const LONGEST_TIMER = 2 ** 31 - 1;

/**
 * The platform's clock and timers (web-standard `Date.now` and `setTimeout`, present in every runtime
 * we target); the engine's default. A delay longer than a timer holds (2^31−1 ms, about 24.8 days:
 * past it, runtimes fire at once) is waited in chunks, so a 30-day timeout waits 30 days.
 * @example await backend.expire({ olderThanMs: 86_400_000, now: systemClock.now() })
 */
export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve) => {
      if (signal?.aborted) return resolve();
      const at = Date.now() + Math.max(0, ms);
      let timer: ReturnType<typeof setTimeout>;
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", done);
        resolve();
      };
      const arm = (): void => {
        const left = at - Date.now();
        timer = setTimeout(left > LONGEST_TIMER ? arm : done, Math.min(Math.max(0, left), LONGEST_TIMER));
      };
      arm();
      signal?.addEventListener("abort", done, { once: true });
    }),
};
