/**
 * A lock on one name, held: a signal for its loss, and how to give it back.
 * @example const lease = await locks.acquire(`taskflow:flow:${id}`); try { await work() } finally { await lease.release() }
 */
export interface Lease {
  readonly name: string;
  /** Aborted when the lock is lost (stolen, broken, or its lease ran out). */
  readonly signal: AbortSignal;
  /** Gives the lock back (the next waiter gets it). Idempotent. */
  release(): Promise<void>;
}

/**
 * Options of {@link LockService.acquire}.
 * @example await locks.acquire(name, { wait: false }) // throws LockHeld at once if someone holds it
 */
export interface LockOptions {
  /** Wait until the lock is free (default), or throw `LockHeld` at once. */
  wait?: boolean;
  /** Take the lock from its holder (whose signal aborts, and whose writes are refused from then on). */
  steal?: boolean;
  /** Gives up waiting (rejects with the signal's reason). */
  signal?: AbortSignal;
}

/**
 * Keeps runners apart (TaskFlow's lock service, as a port): one holder per name at a time. The
 * lock is for liveness (a second runner waits instead of fighting); safety comes from the
 * backend's fencing tokens (`Backend.claim`), which live in the same store as the records they
 * guard, so a holder that lost its lock without knowing it cannot write. Implementations: {@link MemoryLockService} (one
 * process), Web Locks (tabs and workers of one origin), a Durable Object (the edge).
 * @example const engine = load(flow, { backend, lock: new MemoryLockService() })
 */
export interface LockService {
  /** Resolves once the lock is held. @throws LockHeld with `wait: false` when another holds it */
  acquire(name: string, options?: LockOptions): Promise<Lease>;
}
