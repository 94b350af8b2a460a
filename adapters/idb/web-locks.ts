import { LockHeld, LockLost, type Lease, type LockOptions as AcquireOptions, type LockService } from "taskflow-ts";

/**
 * Options of {@link WebLockService}.
 * @example new WebLockService({ scope: backend.name, steal: true }) // takes flows over from the tabs holding them
 */
export interface WebLockOptions {
  /**
   * Keeps these locks apart from other users of the origin's Web Locks: names become
   * `taskflow-ts/<scope>/<name>`. `IndexedDbBackend` uses its database name, so engines on two
   * databases never wait for each other.
   */
  scope?: string;
  /**
   * Every acquire takes the lock from its holder (`navigator.locks.request(name, { steal: true })`)
   * instead of waiting: for a tab that must go on when the holder does not answer (frozen,
   * hung). The holder's lease signal aborts, and the backend's fencing refuses its writes.
   */
  steal?: boolean;
  /** The Web Locks to use; `navigator.locks` by default. */
  locks?: LockManager;
}

/**
 * Flow locks across the tabs, workers and Service Workers of one origin, through the browser's
 * Web Locks (`navigator.locks`). A lock is held while its request's callback runs: `release()`
 * ends the callback; a steal by another context rejects the holder's request with AbortError,
 * which aborts its lease's signal (its run stops with `LockLost`). A tab that closes or crashes
 * lets its locks go at once. Default of {@link IndexedDbBackend} where `navigator.locks` exists.
 * @example
 * const backend = await IndexedDbBackend.open("checkout"); // backend.locks: a WebLockService scoped to "checkout"
 * // Take a flow over from a frozen tab: its writes are refused from now on.
 * await load(flow, { backend, flowDetailId, lock: new WebLockService({ scope: backend.name, steal: true }) }).run();
 */
export class WebLockService implements LockService {
  readonly #prefix: string;
  readonly #steal: boolean;
  readonly #locks: LockManager | undefined;

  constructor(options: WebLockOptions = {}) {
    this.#prefix = options.scope === undefined ? "taskflow-ts/" : `taskflow-ts/${options.scope}/`;
    this.#steal = options.steal ?? false;
    this.#locks = options.locks;
  }

  /** Whether this context has Web Locks (`navigator.locks`). */
  static get available(): boolean {
    return typeof navigator !== "undefined" && typeof navigator.locks?.request === "function";
  }

  acquire(name: string, options: AcquireOptions = {}): Promise<Lease> {
    const locks = this.#locks ?? navigator.locks;
    const steal = options.steal ?? this.#steal;
    // Web Locks refuse `signal` or `ifAvailable` together with `steal`: a steal neither waits nor fails.
    const request: LockOptions = steal ? { steal } : { ifAvailable: options.wait === false, ...(options.signal ? { signal: options.signal } : {}) };
    // A rejection, not a throw: callers of a promise-returning method catch with .catch().
    if (options.signal?.aborted) return Promise.reject(options.signal.reason as Error);
    return new Promise<Lease>((resolve, reject) => {
      let lease: Lease | undefined;
      const lost = new AbortController();
      let release!: () => void;
      const held = new Promise<void>((r) => (release = r));
      const done = locks.request(this.#prefix + name, request, async (lock) => {
        if (lock === null) {
          reject(new LockHeld(`"${name}" is held by another tab or worker; try again when it ends, or wait for it`));
          return;
        }
        lease = {
          name,
          signal: lost.signal,
          release: async () => {
            release();
            await done.catch(() => {});
          },
        };
        resolve(lease);
        await held;
      });
      done.then(
        () => {},
        (e: unknown) => {
          // Before the lock was granted: the wait was given up (the caller's signal). After: lost.
          if (!lease) reject(e);
          else lost.abort(new LockLost(`the lock "${name}" was taken by another tab or worker (${(e as Error)?.name ?? String(e)})`, { cause: e }));
        },
      );
    });
  }
}
