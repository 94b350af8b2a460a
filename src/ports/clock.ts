/**
 * Where the engine reads the time. Hosts and tests inject their own (a simulated clock in
 * tests; later, the Durable Object host turns wake-ups into alarms).
 */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
}

/** The platform's wall clock. */
export const systemClock: Clock = { now: () => Date.now() };

/**
 * A clock that only moves when told to, for tests.
 * @example const clock = new ManualClock(0); clock.advance(1000);
 */
export class ManualClock implements Clock {
  constructor(private current = 0) {}
  now(): number {
    return this.current;
  }
  advance(ms: number): void {
    this.current += ms;
  }
}
