import { LockHeld, LockLost } from "../errors.js";
import type { Lease, LockOptions, LockService } from "../ports/lock.js";

interface Holder {
  lease: Lease;
  controller: AbortController;
}

interface Name {
  holder: Holder | undefined;
  waiters: Array<() => void>;
}

/**
 * Locks within one process (one page, one isolate, a test): the default of a
 * {@link MemoryBackend}, whose engines share it.
 * @example
 * const locks = new MemoryLockService();
 * const a = load(flow, { backend, lock: locks, flowDetailId });
 * const b = load(flow, { backend, lock: locks, flowDetailId }); // b.run() waits until a's run ends
 */
export class MemoryLockService implements LockService {
  readonly #names = new Map<string, Name>();

  async acquire(name: string, options: LockOptions = {}): Promise<Lease> {
    const entry = this.#names.get(name) ?? { holder: undefined, waiters: [] };
    this.#names.set(name, entry);
    if (entry.holder && options.steal) this.#lose(entry, `the lock "${name}" was stolen`);
    while (entry.holder) {
      if (options.wait === false) throw new LockHeld(`"${name}" is held by another runner; try again when it ends, or wait for it`);
      options.signal?.throwIfAborted();
      await new Promise<void>((resolve) => {
        entry.waiters.push(resolve);
        options.signal?.addEventListener("abort", () => resolve(), { once: true });
      });
    }
    options.signal?.throwIfAborted();
    const controller = new AbortController();
    const holder: Holder = {
      controller,
      lease: {
        name,
        signal: controller.signal,
        release: async () => {
          if (entry.holder === holder) this.#free(entry);
        },
      },
    };
    entry.holder = holder;
    return holder.lease;
  }

  /**
   * Takes the lock from its holder as a lost lease would (for tests of what a runner does then):
   * its signal aborts and the next waiter gets the lock. With `{ notify: false }` the holder is
   * not told, like a frozen tab: only the backend's fencing stops it.
   */
  breakLock(name: string, options: { notify?: boolean } = {}): void {
    const entry = this.#names.get(name);
    if (!entry?.holder) return;
    if (options.notify === false) this.#free(entry);
    else this.#lose(entry, `the lock "${name}" was broken`);
  }

  #lose(entry: Name, why: string): void {
    const holder = entry.holder as Holder;
    this.#free(entry);
    holder.controller.abort(new LockLost(why));
  }

  #free(entry: Name): void {
    entry.holder = undefined;
    for (const wake of entry.waiters.splice(0)) wake();
  }
}
