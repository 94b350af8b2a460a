import { DurableObject } from "cloudflare:workers";
import { InvalidFormat, LockHeld, LockLost, parseDuration, systemClock, type Clock, type Duration, type Lease, type LockOptions, type LockService } from "taskflow-ts";

/**
 * A lease as the {@link LockObject} grants it: its token (one more than the name's last) and when it runs out.
 * @example
 * const grant = await env.LOCKS.getByName("flows").acquire("flow-1", { wait: false });
 * if (!("held" in grant)) console.log(grant.token, new Date(grant.expiresAt));
 */
export interface Grant {
  token: number;
  expiresAt: number;
}

/**
 * What {@link LockObject.acquire} is asked for, across RPC (an `AbortSignal` does not cross: the client races it).
 * @example
 * await env.LOCKS.getByName("flows").acquire("flow-1", { ttlMs: 10_000, steal: true });
 */
export interface GrantOptions {
  /** How long the lease lasts unless renewed, in ms. Default 30 s. */
  ttlMs?: number;
  /** Wait until the name is free (default), or answer `{ held: true }` at once. */
  wait?: boolean;
  /** Take the name from its holder (whose renewals fail from then on). */
  steal?: boolean;
  /** Names this wait, so that {@link LockObject.cancel} can withdraw it (the client's abort signal). */
  ticket?: string;
}

interface Waiter {
  wake: () => void;
  ticket: string | undefined;
}

interface Held {
  token: number;
  expiresAt: number;
}

const DEFAULT_TTL_MS = 30_000;
const HELD = "lock:held:";
const LAST = "lock:last:";
const key = (prefix: string, name: string): string => prefix + encodeURIComponent(name);

/**
 * A lock service as a Durable Object, for runners outside the object that keeps their flows: a
 * Worker, or another object, holding a flow through RPC. Each name has one holder at a time, with
 * a lease that runs out `ttlMs` after it was granted or last renewed: a holder that dies stops
 * renewing, and the object's alarm frees the name at its expiry and hands it to the next waiter.
 * Every grant gets a token one more than the name's last (stored, so it outlives the object's
 * memory), which renew and release must show: a holder whose lease ran out cannot renew or
 * release its successor's. The lock is for liveness; the backend's fencing tokens keep a holder
 * that missed its expiry from writing (see `Backend.claim`).
 *
 * Export it from the Worker (a SQLite-backed class) and reach it through
 * {@link DurableObjectLockService}.
 * @example
 * export { LockObject } from "taskflow-ts/durable-object";
 * const lock = new DurableObjectLockService(env.LOCKS.getByName("flows"));
 * const engine = load(flow, { backend, lock, flowDetailId });
 */
export class LockObject extends DurableObject {
  /** The calls waiting for a name, woken when it is released or expires. */
  readonly #waiters = new Map<string, Waiter[]>();
  /** Tickets of the `acquire` calls under way, and of those among them withdrawn by `cancel`. */
  readonly #active = new Set<string>();
  readonly #withdrawn = new Set<string>();

  /** "Now", in ms (the system clock; a test subclass moves it). */
  protected now(): number {
    return systemClock.now();
  }

  /**
   * Grants the name: at once when free (or its lease ran out), else when it is (or `{ held: true }`
   * with `wait: false`, `{ withdrawn: true }` when the wait was cancelled).
   */
  async acquire(name: string, options: GrantOptions = {}): Promise<Grant | { held: true } | { withdrawn: true }> {
    checkName(name);
    const ttlMs = options.ttlMs ?? DEFAULT_TTL_MS;
    if (!Number.isFinite(ttlMs) || ttlMs < 0) throw new InvalidFormat(`LockObject: ttlMs must be a finite number of ms ≥ 0, got ${String(ttlMs)}`);
    if (options.steal) this.ctx.storage.kv.delete(key(HELD, name));
    const { ticket } = options;
    if (ticket !== undefined) this.#active.add(ticket);
    try {
      for (;;) {
        const held = this.#current(name);
        if (!held) break;
        if (options.wait === false) return { held: true };
        await this.#armFor(held.expiresAt);
        if (ticket !== undefined && this.#withdrawn.has(ticket)) return { withdrawn: true }; // cancelled meanwhile
        await new Promise<void>((wake) => this.#waiters.set(name, [...(this.#waiters.get(name) ?? []), { wake, ticket }]));
        if (ticket !== undefined && this.#withdrawn.has(ticket)) return { withdrawn: true };
      }
    } finally {
      if (ticket !== undefined) {
        this.#active.delete(ticket);
        this.#withdrawn.delete(ticket);
      }
    }
    const { kv } = this.ctx.storage;
    const token = (kv.get<number>(key(LAST, name)) ?? 0) + 1;
    const grant = { token, expiresAt: this.now() + ttlMs };
    kv.put(key(LAST, name), token);
    kv.put(key(HELD, name), grant);
    return grant;
  }

  /** Extends the lease by `ttlMs` from now; undefined when it is no longer the holder's (expired, stolen, released). */
  async renew(name: string, token: number, ttlMs = DEFAULT_TTL_MS): Promise<number | undefined> {
    const held = this.#current(name);
    if (held?.token !== token) return undefined;
    const expiresAt = this.now() + ttlMs;
    this.ctx.storage.kv.put(key(HELD, name), { token, expiresAt });
    return expiresAt;
  }

  /** Gives the name back (the next waiter gets it); false when it was no longer the holder's. */
  async release(name: string, token: number): Promise<boolean> {
    const held = this.#current(name);
    if (held?.token !== token) return false;
    this.ctx.storage.kv.delete(key(HELD, name));
    this.#wake(name);
    return true;
  }

  /**
   * Withdraws a waiting `acquire` (its `ticket`), which then answers `{ withdrawn: true }`: a
   * caller that gave up is never granted the name. False when no such call is under way (it was
   * granted already: the caller gives the grant back).
   */
  async cancel(name: string, ticket: string): Promise<boolean> {
    if (!this.#active.has(ticket)) return false;
    this.#withdrawn.add(ticket);
    const waiters = this.#waiters.get(name) ?? [];
    const waiter = waiters.find((w) => w.ticket === ticket);
    if (waiter) {
      this.#waiters.set(name, waiters.filter((w) => w !== waiter));
      waiter.wake();
    }
    return true;
  }

  /** Frees the names whose leases ran out, wakes their waiters, and arms itself for the next expiry. */
  override async alarm(): Promise<void> {
    const now = this.now();
    let next: number | undefined;
    for (const [k, held] of this.ctx.storage.kv.list<Held>({ prefix: HELD })) {
      const name = decodeURIComponent(k.slice(HELD.length));
      if (held.expiresAt <= now) {
        this.ctx.storage.kv.delete(k);
        this.#wake(name);
      } else if (this.#waiters.has(name)) next = Math.min(next ?? Infinity, held.expiresAt);
    }
    if (next !== undefined) await this.ctx.storage.setAlarm(next);
  }

  /** The name's lease if it has not run out (one that has is forgotten here). */
  #current(name: string): Held | undefined {
    const held = this.ctx.storage.kv.get<Held>(key(HELD, name));
    if (held && held.expiresAt <= this.now()) {
      this.ctx.storage.kv.delete(key(HELD, name));
      return undefined;
    }
    return held;
  }

  #wake(name: string): void {
    const waiters = this.#waiters.get(name) ?? [];
    this.#waiters.delete(name);
    for (const { wake } of waiters) wake();
  }

  /** A waiter needs the alarm at the lease's expiry at the latest. */
  async #armFor(expiresAt: number): Promise<void> {
    const armed = await this.ctx.storage.getAlarm();
    if (armed === null || armed > expiresAt) await this.ctx.storage.setAlarm(expiresAt);
  }
}

function checkName(name: unknown): asserts name is string {
  if (typeof name !== "string" || name === "") throw new InvalidFormat(`LockObject: a lock's name must be a non-empty string, got ${JSON.stringify(name)}`);
}

/**
 * The RPC methods of a {@link LockObject} that the client calls (its stub has them).
 * @example
 * const stub: LockObjectRpc = env.LOCKS.getByName("flows");
 * const lock = new DurableObjectLockService(stub);
 */
export interface LockObjectRpc {
  acquire(name: string, options?: GrantOptions): Promise<Grant | { held: true } | { withdrawn: true }>;
  cancel(name: string, ticket: string): Promise<boolean>;
  renew(name: string, token: number, ttlMs?: number): Promise<number | undefined>;
  release(name: string, token: number): Promise<boolean>;
}

/**
 * Options of {@link DurableObjectLockService}.
 * @example
 * const lock = new DurableObjectLockService(env.LOCKS.getByName("flows"), { ttlMs: "20s", renewEveryMs: "5s" });
 */
export interface DurableObjectLockOptions {
  /** The lease's length, in ms or as a readable duration ("20s"; default 30 s): a holder that dies keeps the name this long at most. */
  ttlMs?: Duration;
  /** How often a holder renews its lease, in ms or as a readable duration (default a third of `ttlMs`). */
  renewEveryMs?: Duration;
  /** Where time comes from (the renewals' timer); the system clock by default. */
  clock?: Clock;
}

/**
 * The client of a {@link LockObject}: a `LockService` for engines outside the object. A lease is
 * renewed while held; when a renewal fails (the lease ran out and another took the name, or it
 * was stolen), its signal aborts with `LockLost` and the engine stops.
 * @example
 * const lock = new DurableObjectLockService(env.LOCKS.getByName("flows"), { ttlMs: 20_000 });
 * await load(flow, { backend, lock, flowDetailId }).run();
 */
export class DurableObjectLockService implements LockService {
  readonly #ttlMs: number;
  readonly #every: number;
  readonly #clock: Clock;

  constructor(private readonly stub: LockObjectRpc, options: DurableObjectLockOptions = {}) {
    this.#ttlMs = options.ttlMs === undefined ? DEFAULT_TTL_MS : parseDuration(options.ttlMs, "DurableObjectLockService: ttlMs");
    this.#every = options.renewEveryMs === undefined ? this.#ttlMs / 3 : parseDuration(options.renewEveryMs, "DurableObjectLockService: renewEveryMs");
    this.#clock = options.clock ?? systemClock;
  }

  async acquire(name: string, options: LockOptions = {}): Promise<Lease> {
    options.signal?.throwIfAborted();
    const ticket = options.signal ? crypto.randomUUID() : undefined;
    const asked = this.stub.acquire(name, { ttlMs: this.#ttlMs, wait: options.wait ?? true, steal: options.steal ?? false, ...(ticket ? { ticket } : {}) });
    const granted = options.signal && ticket ? await this.#unlessAborted(name, ticket, asked, options.signal) : await asked;
    if ("withdrawn" in granted) throw new LockHeld(`"${name}": the wait was withdrawn`); // only after a cancel of ours, which rejects first
    if ("held" in granted) throw new LockHeld(`"${name}" is held by another runner; try again when it ends, or wait for it`);
    const controller = new AbortController();
    const stop = new AbortController(); // ends the renewals' sleep when the lease is released
    void (async () => {
      for (;;) {
        await this.#clock.sleep(this.#every, stop.signal);
        if (stop.signal.aborted) return;
        const renewed = await this.stub.renew(name, granted.token, this.#ttlMs).catch(() => undefined);
        if (stop.signal.aborted) return;
        if (renewed === undefined) {
          controller.abort(new LockLost(`the lease of "${name}" (token ${granted.token}) ran out or was taken before it was renewed`));
          return;
        }
      }
    })();
    return {
      name,
      signal: controller.signal,
      release: async () => {
        if (stop.signal.aborted) return;
        stop.abort();
        await this.stub.release(name, granted.token);
      },
    };
  }

  /**
   * The object's answer, or, when `signal` aborts first, the signal's reason once the wait is
   * withdrawn from the object (or, if the name was granted meanwhile, once it is given back): by
   * the time the caller hears that it gave up, it holds nothing.
   */
  #unlessAborted<T extends Grant | { held: true } | { withdrawn: true }>(name: string, ticket: string, asked: Promise<T>, signal: AbortSignal): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => {
        void (async () => {
          await this.stub.cancel(name, ticket).catch(() => false);
          const late = await asked.catch(() => undefined);
          if (late && "token" in late) await this.stub.release(name, late.token).catch(() => false);
          reject(signal.reason as Error);
        })();
      };
      signal.addEventListener("abort", onAbort, { once: true });
      asked.then(
        (value) => {
          if (signal.aborted) return; // onAbort answers
          signal.removeEventListener("abort", onAbort);
          resolve(value);
        },
        (e: unknown) => {
          if (signal.aborted) return;
          signal.removeEventListener("abort", onAbort);
          reject(e as Error);
        },
      );
    });
  }
}
