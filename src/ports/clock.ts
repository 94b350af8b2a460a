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

/**
 * The platform's clock and timers (web-standard `Date.now` and `setTimeout`, present in every runtime
 * we target); the engine's default.
 * @example await backend.expire({ olderThanMs: 86_400_000, now: systemClock.now() })
 */
export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve) => {
      if (signal?.aborted) return resolve();
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, ms));
      signal?.addEventListener("abort", done, { once: true });
    }),
};
