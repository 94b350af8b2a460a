/**
 * Runs tasks one after another per key, in the order they were queued. A Durable Object
 * delivers a new call at each `await` of the one in progress, so two calls about one flow (an
 * alarm and a cancel, two starts with one id) would otherwise interleave their reads and
 * writes. The queue lives in memory: an evicted object forgets it along with everything that
 * was running, which is what the log book and the alarm are for.
 */
export class KeyedQueue {
  private readonly tails = new Map<string, Promise<void>>();

  /** Runs `task` once everything queued before it for `key` has settled; settles as it does. */
  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const result = (this.tails.get(key) ?? Promise.resolve()).then(task);
    this.after(key, result);
    return result;
  }

  /** Makes what is queued next for `key` wait for `promise` too (work started outside the queue). */
  after(key: string, promise: Promise<unknown>): void {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const tail = Promise.allSettled([previous, promise]).then(settled);
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
  }
}

const settled = (): void => undefined;
