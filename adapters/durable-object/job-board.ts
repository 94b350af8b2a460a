import { DurableObject } from "cloudflare:workers";
import { DisallowedAccess, Failure, InvalidFormat, JobFailure, NotFound, defaultIds, systemClock, type Clock, type Duration, type FailureData, type IdGenerator } from "taskflow-ts";
import {
  byPriority, checkClaim, checkJobDetails, checkOwner, checkUpdates, claimJob, claimJobs, heldJob, jobAt, leaseOf, matches, newJob, nextExpiry, settleJob, updateJobs,
  type ClaimOptions, type ClaimUpdate, type Job, type JobBoard, type JobClaim, type JobDetails, type JobFilter, type WaitOptions,
} from "taskflow-ts/jobs";

/**
 * Who calls a {@link JobBoardObject}: a name (a conductor's, as it claims; a producer's) and the
 * HMAC of that name under the board's secret, which only the holder of the secret can make
 * ({@link jobBoardCredential}). Give each conductor its own: it can then claim, renew, consume,
 * abandon and trash only as itself.
 * @example const credential = await jobBoardCredential(env.JOB_BOARD_SECRET, "conductor-1")
 */
export interface JobBoardCredential {
  id: string;
  /** base64url HMAC-SHA-256 of the id under the board's secret. */
  key: string;
}

const PURPOSE = "taskflow-ts/job-board/credential\n";
const encoder = new TextEncoder();

function hmacKey(secret: string, usage: "sign" | "verify"): Promise<CryptoKey> {
  return crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, [usage]);
}

/**
 * Makes the credential of `id` under the board's secret (where the secret is kept: a trusted
 * Worker or a deploy script, never a conductor).
 * @throws InvalidFormat for an empty secret or id
 * @example const credential = await jobBoardCredential(env.JOB_BOARD_SECRET, "conductor-1")
 */
export async function jobBoardCredential(secret: string, id: string): Promise<JobBoardCredential> {
  if (typeof secret !== "string" || secret.length < 16) throw new InvalidFormat("a job board's secret must be a string of at least 16 characters (say, 32 random bytes in base64)");
  checkOwner(id);
  const mac = await crypto.subtle.sign("HMAC", await hmacKey(secret, "sign"), encoder.encode(PURPOSE + id));
  return { id, key: base64url(new Uint8Array(mac)) };
}

function base64url(bytes: Uint8Array): string {
  let text = "";
  for (const b of bytes) text += String.fromCharCode(b);
  return btoa(text).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

function fromBase64url(text: string): Uint8Array<ArrayBuffer> | undefined {
  try {
    const raw = atob(text.replaceAll("-", "+").replaceAll("_", "/"));
    return Uint8Array.from(raw, (c) => c.charCodeAt(0));
  } catch {
    return undefined;
  }
}

/**
 * What a {@link JobBoardObject} answers: the value, or the failure (its class rebuilt by the client).
 * @example const reply: JobBoardReply<Job> = await stub.get(credential, uuid); if ("error" in reply) throw Failure.fromJSON(reply.error).toError();
 */
export type JobBoardReply<T> = { value: T } | { error: FailureData };

/**
 * The RPC methods of a {@link JobBoardObject} (its stub has them), for {@link DurableObjectJobBoard}.
 * @example const board = new DurableObjectJobBoard(env.JOB_BOARD.getByName("jobs") as unknown as JobBoardRpc, { credential })
 */
export interface JobBoardRpc {
  post(credential: JobBoardCredential, details: JobDetails): Promise<JobBoardReply<Job>>;
  get(credential: JobBoardCredential, uuid: string): Promise<JobBoardReply<Job>>;
  list(credential: JobBoardCredential, filter: JobFilter): Promise<JobBoardReply<Job[]>>;
  claim(credential: JobBoardCredential, uuid: string, owner: string, leaseMs?: Duration): Promise<JobBoardReply<JobClaim>>;
  claimMany(credential: JobBoardCredential, uuids: string[], owner: string, leaseMs?: Duration): Promise<JobBoardReply<JobClaim[]>>;
  renew(credential: JobBoardCredential, claim: JobClaim, leaseMs?: Duration): Promise<JobBoardReply<JobClaim>>;
  updateMany(credential: JobBoardCredential, updates: ClaimUpdate[], leaseMs?: Duration): Promise<JobBoardReply<Array<JobClaim | null>>>;
  consume(credential: JobBoardCredential, claim: JobClaim): Promise<JobBoardReply<null>>;
  abandon(credential: JobBoardCredential, claim: JobClaim): Promise<JobBoardReply<null>>;
  trash(credential: JobBoardCredential, claim: JobClaim): Promise<JobBoardReply<null>>;
  wait(credential: JobBoardCredential, waitId: string): Promise<JobBoardReply<Job[]>>;
  stopWaiting(credential: JobBoardCredential, waitId: string): Promise<JobBoardReply<null>>;
}

const TODO = "job:todo:";
const DONE = "job:done:";
const DEFAULT_LEASE_MS = 30_000;

/**
 * A job board as a Durable Object, for conductors in any number of Workers: they claim over RPC
 * ({@link DurableObjectJobBoard}). The object runs one call at a time on its thread, and each
 * change reads and writes the job in one `transactionSync` with nothing awaited in between, so
 * claims are serialized. Jobs live in its SQLite-backed storage; the alarm is set at the next
 * lease's expiry, frees the claims that ran out and wakes the waiting conductors.
 *
 * Every call carries a {@link JobBoardCredential} checked against the secret in the binding
 * `JOB_BOARD_SECRET` (`wrangler secret put JOB_BOARD_SECRET`): a caller without a valid one, one
 * claiming under another name, or acting on a claim not its own, is refused with
 * `DisallowedAccess` and nothing changes. Details are checked at post (`checkJobDetails`).
 *
 * Export it from the Worker (a SQLite-backed class: `new_sqlite_classes`).
 * @example
 * export { JobBoardObject } from "taskflow-ts/durable-object";
 * const board = new DurableObjectJobBoard(env.JOB_BOARD.getByName("jobs") as unknown as JobBoardRpc, { credential });
 */
export class JobBoardObject<Env = unknown> extends DurableObject<Env> implements JobBoardRpc {
  /** The wait calls in progress here, by id: woken by a post, an abandon or an expiry. */
  readonly #waiters = new Map<string, () => void>();
  #verifier: Promise<CryptoKey> | undefined;
  /** Credentials verified already (id and key), so a conductor's every call costs one HMAC once. */
  readonly #admitted = new Set<string>();

  /** "Now", in ms (the system clock; a test subclass moves it). */
  protected now(): number {
    return systemClock.now();
  }

  /**
   * When the alarm rings for a lease that runs out at `expiry` ({@link now}'s time): that very
   * time on the system clock the alarm runs on. A subclass that moves {@link now} maps it back
   * (an alarm in the system clock's past would fire at once, again and again).
   */
  protected alarmAt(expiry: number): number {
    return expiry;
  }

  /** The board's secret (by default the binding `JOB_BOARD_SECRET`). */
  protected secret(): string | undefined {
    const secret = (this.env as { JOB_BOARD_SECRET?: unknown } | undefined)?.JOB_BOARD_SECRET;
    return typeof secret === "string" ? secret : undefined;
  }

  /** How long one wait call is held open at most (ms) before it answers with no jobs and the client asks again. */
  protected readonly maxWaitMs: number = 30_000;

  async post(credential: JobBoardCredential, details: JobDetails): Promise<JobBoardReply<Job>> {
    return this.#reply(credential, () => undefined, () => {
      const job = newJob(checkJobDetails(details), defaultIds(), this.now(), defaultIds);
      this.ctx.storage.kv.put(TODO + job.uuid, job);
      this.#wake();
      return job;
    });
  }

  async get(credential: JobBoardCredential, uuid: string): Promise<JobBoardReply<Job>> {
    return this.#reply(credential, () => undefined, () => {
      const job = this.#find(String(uuid));
      if (!job) throw new NotFound(`job "${String(uuid)}" is not on the board`);
      return jobAt(job, this.now());
    });
  }

  async list(credential: JobBoardCredential, filter: JobFilter = {}): Promise<JobBoardReply<Job[]>> {
    return this.#reply(credential, () => undefined, () => this.#list(filter ?? {}));
  }

  async claim(credential: JobBoardCredential, uuid: string, owner: string, leaseMs?: Duration): Promise<JobBoardReply<JobClaim>> {
    return this.#reply(credential, () => checkOwner(owner), async () => {
      const lease = leaseOf(leaseMs ?? DEFAULT_LEASE_MS);
      const claim = this.ctx.storage.transactionSync(() => {
        const { job, claim } = claimJob(this.#find(String(uuid)), String(uuid), owner, lease, this.now());
        this.ctx.storage.kv.put(TODO + job.uuid, job);
        return claim;
      });
      await this.#arm();
      return claim;
    });
  }

  /** See {@link JobBoard.claimMany}: one `transactionSync` for all of them. */
  async claimMany(credential: JobBoardCredential, uuids: string[], owner: string, leaseMs?: Duration): Promise<JobBoardReply<JobClaim[]>> {
    return this.#reply(credential, () => checkOwner(owner), async () => {
      const lease = leaseOf(leaseMs ?? DEFAULT_LEASE_MS);
      const claims = this.ctx.storage.transactionSync(() => {
        const { jobs, claims } = claimJobs((uuid) => this.#find(uuid), uuids, owner, lease, this.now());
        for (const job of jobs) this.ctx.storage.kv.put(TODO + job.uuid, job);
        return claims;
      });
      if (claims.length > 0) await this.#arm();
      return claims;
    });
  }

  /**
   * See {@link JobBoard.updateMany}: one `transactionSync` for all of them; a refused update is
   * `null` (RPC carries no `undefined` in an array).
   */
  async updateMany(credential: JobBoardCredential, updates: ClaimUpdate[], leaseMs?: Duration): Promise<JobBoardReply<Array<JobClaim | null>>> {
    return this.#reply(credential, () => checkUpdates(updates)[0]?.claim.owner, async () => {
      const lease = leaseOf(leaseMs ?? DEFAULT_LEASE_MS);
      const checked = checkUpdates(updates);
      const { results, abandoned } = this.ctx.storage.transactionSync(() => {
        const { jobs, results } = updateJobs((uuid) => this.#find(uuid), checked, lease, this.now());
        for (const job of jobs) this.#store(job);
        return { results, abandoned: jobs.some((j) => j.state === "UNCLAIMED") };
      });
      if (abandoned) this.#wake();
      if (checked.some((u) => u.action === "renew")) await this.#arm();
      return results.map((r) => r ?? null);
    });
  }

  async renew(credential: JobBoardCredential, claim: JobClaim, leaseMs?: Duration): Promise<JobBoardReply<JobClaim>> {
    return this.#reply(credential, () => checkClaim(claim).owner, async () => {
      const checked = checkClaim(claim);
      const lease = leaseOf(leaseMs ?? DEFAULT_LEASE_MS);
      const renewed = this.#change(checked, "renew", (job, now) => [{ ...job, expiresAt: now + lease, updatedAt: now }, { ...checked, expiresAt: now + lease }]);
      await this.#arm();
      return renewed;
    });
  }

  async consume(credential: JobBoardCredential, claim: JobClaim): Promise<JobBoardReply<null>> {
    return this.#settle(credential, claim, "consume", "COMPLETE");
  }

  async abandon(credential: JobBoardCredential, claim: JobClaim): Promise<JobBoardReply<null>> {
    return this.#settle(credential, claim, "abandon", "UNCLAIMED");
  }

  async trash(credential: JobBoardCredential, claim: JobClaim): Promise<JobBoardReply<null>> {
    return this.#settle(credential, claim, "trash", "TRASHED");
  }

  /**
   * The unclaimed jobs: at once if there are, else when one is posted, abandoned or its lease
   * runs out (the alarm), when {@link stopWaiting} is called with `waitId`, or after
   * `maxWaitMs` (then none: the client asks again).
   */
  async wait(credential: JobBoardCredential, waitId: string): Promise<JobBoardReply<Job[]>> {
    return this.#reply(credential, () => undefined, async () => {
      const unclaimed = this.#list({ only: "unclaimed" });
      if (unclaimed.length > 0) return unclaimed;
      const id = String(waitId);
      const bound = new AbortController();
      await new Promise<void>((resolve) => {
        this.#waiters.get(id)?.();
        this.#waiters.set(id, resolve);
        void systemClock.sleep(this.maxWaitMs, bound.signal).then(resolve);
      });
      bound.abort();
      this.#waiters.delete(id);
      return this.#list({ only: "unclaimed" });
    });
  }

  /** Ends the wait call `waitId` (its caller gave up): it answers at once. */
  async stopWaiting(credential: JobBoardCredential, waitId: string): Promise<JobBoardReply<null>> {
    return this.#reply(credential, () => undefined, () => {
      this.#waiters.get(String(waitId))?.();
      return null;
    });
  }

  /** Frees the claims whose leases ran out, wakes the waiters, and arms itself for the next expiry. */
  override async alarm(): Promise<void> {
    const now = this.now();
    let freed = false;
    this.ctx.storage.transactionSync(() => {
      for (const [key, job] of this.ctx.storage.kv.list<Job>({ prefix: TODO })) {
        if (job.state === "CLAIMED" && (job.expiresAt ?? Infinity) <= now) {
          this.ctx.storage.kv.put(key, settleJob(job, "UNCLAIMED", now));
          freed = true;
        }
      }
    });
    if (freed) this.#wake();
    await this.#arm();
  }

  async #settle(credential: JobBoardCredential, claim: JobClaim, action: string, state: "COMPLETE" | "UNCLAIMED" | "TRASHED"): Promise<JobBoardReply<null>> {
    return this.#reply(credential, () => checkClaim(claim).owner, () => {
      this.#change(checkClaim(claim), action, (held, now) => [settleJob(held, state, now), null]);
      if (state === "UNCLAIMED") this.#wake();
      return null;
    });
  }

  /** Changes the job `claim` holds, in one transaction with the check that it still holds it. */
  #change<T>(claim: JobClaim, action: string, fn: (job: Job, now: number) => [Job, T]): T {
    return this.ctx.storage.transactionSync(() => {
      const now = this.now();
      const [job, out] = fn(heldJob(this.#find(claim.jobUuid), claim, action, now), now);
      this.#store(job);
      return out;
    });
  }

  /** Stores a job under the prefix of its state: a finished one goes off the list of what is to do. */
  #store(job: Job): void {
    if (job.state === "COMPLETE" || job.state === "TRASHED") {
      this.ctx.storage.kv.delete(TODO + job.uuid);
      this.ctx.storage.kv.put(DONE + job.uuid, job);
    } else this.ctx.storage.kv.put(TODO + job.uuid, job);
  }

  #find(uuid: string): Job | undefined {
    return this.ctx.storage.kv.get<Job>(TODO + uuid) ?? this.ctx.storage.kv.get<Job>(DONE + uuid);
  }

  #list(filter: JobFilter): Job[] {
    const only = filter.only;
    const prefixes = only === undefined || only === "unclaimed" || only === "claimed" ? [TODO] : only === "all" ? [TODO, DONE] : [DONE];
    const now = this.now();
    const jobs: Job[] = [];
    for (const prefix of prefixes) for (const [, job] of this.ctx.storage.kv.list<Job>({ prefix })) jobs.push(jobAt(job, now));
    return jobs.filter((j) => matches(j, filter)).sort(byPriority);
  }

  /**
   * The alarm at the next lease's expiry at the latest ({@link alarmAt}). It is not computed as an
   * offset from two readings of the clock: workerd moves its clock at I/O, such as the storage
   * read between them, so the alarm rang a millisecond before the lease it was for had run out.
   */
  async #arm(): Promise<void> {
    const todo = [...this.ctx.storage.kv.list<Job>({ prefix: TODO })].map(([, job]) => job);
    const next = nextExpiry(todo);
    if (next === undefined) return;
    const at = this.alarmAt(next);
    const armed = await this.ctx.storage.getAlarm();
    if (armed === null || armed > at) await this.ctx.storage.setAlarm(at);
  }

  #wake(): void {
    for (const wake of [...this.#waiters.values()]) wake();
  }

  /** Checks the credential (and that it is `as`'s, when the call acts as someone), then runs `fn`. */
  async #reply<T>(credential: JobBoardCredential, as: () => string | undefined, fn: () => T | Promise<T>): Promise<JobBoardReply<T>> {
    try {
      await this.#admit(credential, as());
      return { value: await fn() };
    } catch (e) {
      return { error: Failure.fromError(e).toJSON() };
    }
  }

  async #admit(credential: unknown, as: string | undefined): Promise<void> {
    const secret = this.secret();
    if (secret === undefined) throw new DisallowedAccess("this job board has no secret, so it admits no one: set JOB_BOARD_SECRET (wrangler secret put JOB_BOARD_SECRET); nothing changed");
    const c = credential as Partial<JobBoardCredential> | null;
    const seen = typeof c?.id === "string" && typeof c.key === "string" ? `${c.id}\n${c.key}` : undefined;
    if (seen !== undefined && this.#admitted.has(seen)) return this.#as(c?.id as string, as);
    const mac = typeof c?.key === "string" ? fromBase64url(c.key) : undefined;
    this.#verifier ??= hmacKey(secret, "verify");
    if (typeof c?.id !== "string" || !mac || !(await crypto.subtle.verify("HMAC", await this.#verifier, mac, encoder.encode(PURPOSE + c.id)))) {
      throw new DisallowedAccess("the job board refused the call: no valid credential (make one with jobBoardCredential(secret, id)); nothing changed");
    }
    if (this.#admitted.size >= 1_000) this.#admitted.clear();
    this.#admitted.add(seen as string);
    this.#as(c.id, as);
  }

  #as(id: string, as: string | undefined): void {
    if (as !== undefined && id !== as) throw new DisallowedAccess(`the job board refused the call: "${id}" cannot act as "${as}" (each conductor claims and settles its own jobs); nothing changed`);
  }
}

/**
 * Options of {@link DurableObjectJobBoard}.
 * @example new DurableObjectJobBoard(stub, { credential, leaseMs: 20_000 })
 */
export interface DurableObjectJobBoardOptions {
  /** This caller's credential (a conductor: its own name's). */
  credential?: JobBoardCredential;
  /**
   * The board's secret, for a trusted caller that acts under many names (a test, an admin Worker):
   * it makes the credential of each name it claims as. A conductor gets `credential` instead.
   */
  secret?: string;
  /** A claim's lease unless the claim asks for another (ms; default 30 s). */
  leaseMs?: Duration;
  /** Where `wait`'s timeout reads the time. */
  clock?: Clock;
  /** Makes the ids of wait calls. */
  ids?: IdGenerator;
}

/**
 * A {@link JobBoard} over RPC to a {@link JobBoardObject}: conductors in any Worker claim, renew
 * and consume through it. Failures arrive with their classes (`UnclaimableJob`, `LockLost`,
 * `DisallowedAccess`…).
 * @example
 * const credential = await jobBoardCredential(env.JOB_BOARD_SECRET, "conductor-1");
 * const board = new DurableObjectJobBoard(env.JOB_BOARD.getByName("jobs") as unknown as JobBoardRpc, { credential });
 * const [job] = await board.wait();
 */
export class DurableObjectJobBoard implements JobBoard {
  readonly #clock: Clock;
  readonly #ids: IdGenerator;
  readonly #leaseMs: number;
  readonly #minted = new Map<string, Promise<JobBoardCredential>>();
  #closed = false;

  constructor(
    private readonly stub: JobBoardRpc,
    private readonly options: DurableObjectJobBoardOptions = {},
  ) {
    if (!options.credential && options.secret === undefined) throw new InvalidFormat("DurableObjectJobBoard needs a credential (jobBoardCredential(secret, name)) or, for a trusted caller, the secret");
    this.#clock = options.clock ?? systemClock;
    this.#ids = options.ids ?? defaultIds;
    this.#leaseMs = leaseOf(options.leaseMs ?? DEFAULT_LEASE_MS);
  }

  async post(details: JobDetails): Promise<Job> {
    const d = checkJobDetails(details); // refused here already, without a round trip (the object checks again)
    return this.#call((c) => this.stub.post(c, d));
  }

  async get(uuid: string): Promise<Job> {
    return this.#call((c) => this.stub.get(c, uuid));
  }

  async *iterate(filter: JobFilter = {}): AsyncGenerator<Job> {
    for (const job of await this.#call((c) => this.stub.list(c, filter))) yield job;
  }

  async claim(uuid: string, owner: string, options: ClaimOptions = {}): Promise<JobClaim> {
    checkOwner(owner);
    const lease = leaseOf(options.leaseMs ?? this.#leaseMs);
    return this.#call((c) => this.stub.claim(c, uuid, owner, lease), owner);
  }

  async claimMany(uuids: string[], owner: string, options: ClaimOptions = {}): Promise<JobClaim[]> {
    checkOwner(owner);
    const lease = leaseOf(options.leaseMs ?? this.#leaseMs);
    claimJobs(() => undefined, uuids, owner, lease, 0); // refused here already, without a round trip
    if (uuids.length === 0) return [];
    return this.#call((c) => this.stub.claimMany(c, uuids, owner, lease), owner);
  }

  async renew(claim: JobClaim, options: ClaimOptions = {}): Promise<JobClaim> {
    const lease = leaseOf(options.leaseMs ?? this.#leaseMs);
    return this.#call((c) => this.stub.renew(c, claim, lease), claim.owner);
  }

  async updateMany(updates: ClaimUpdate[], options: ClaimOptions = {}): Promise<Array<JobClaim | undefined>> {
    const lease = leaseOf(options.leaseMs ?? this.#leaseMs);
    const checked = checkUpdates(updates);
    if (checked.length === 0) return [];
    const results = await this.#call((c) => this.stub.updateMany(c, checked, lease), checked[0]?.claim.owner);
    return results.map((r) => r ?? undefined);
  }

  async consume(claim: JobClaim): Promise<void> {
    await this.#call((c) => this.stub.consume(c, claim), claim.owner);
  }

  async abandon(claim: JobClaim): Promise<void> {
    await this.#call((c) => this.stub.abandon(c, claim), claim.owner);
  }

  async trash(claim: JobClaim): Promise<void> {
    await this.#call((c) => this.stub.trash(c, claim), claim.owner);
  }

  async wait(options: WaitOptions = {}): Promise<Job[]> {
    const { signal } = options;
    const deadline = options.timeoutMs === undefined ? undefined : this.#clock.now() + Math.max(0, options.timeoutMs);
    const credential = await this.#credential(undefined);
    for (;;) {
      this.#open();
      if (signal?.aborted) return [];
      const now = this.#clock.now();
      if (deadline !== undefined && now >= deadline) throw new NotFound(`no unclaimed job was posted within ${options.timeoutMs} ms`);
      // A long poll: the object answers on news or after its maxWaitMs; giving up here ends it there.
      const waitId = this.#ids();
      const call = this.stub.wait(credential, waitId).then(unwrap);
      const gaveUp = new AbortController();
      const stop = () => gaveUp.abort();
      signal?.addEventListener("abort", stop, { once: true });
      if (deadline !== undefined) void this.#clock.sleep(deadline - now, gaveUp.signal).then(stop);
      const jobs = await Promise.race([call, new Promise<undefined>((resolve) => gaveUp.signal.addEventListener("abort", () => resolve(undefined), { once: true }))]);
      signal?.removeEventListener("abort", stop);
      gaveUp.abort();
      if (jobs === undefined) {
        await this.stub.stopWaiting(credential, waitId).then(unwrap);
        await call.catch(() => undefined);
        continue; // the signal or the deadline: said at the top
      }
      if (jobs.length > 0) return jobs;
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
  }

  #open(): void {
    if (this.#closed) throw new JobFailure("the job board client is closed; make a new one");
  }

  /** The credential to call with: the caller's, or (with the secret) `as`'s. */
  #credential(as: string | undefined): Promise<JobBoardCredential> {
    if (this.options.secret === undefined || (as === undefined && this.options.credential)) return Promise.resolve(this.options.credential as JobBoardCredential);
    const id = as ?? "taskflow-ts/job-board-client";
    let minted = this.#minted.get(id);
    if (!minted) this.#minted.set(id, (minted = jobBoardCredential(this.options.secret, id)));
    return minted;
  }

  async #call<T>(fn: (credential: JobBoardCredential) => Promise<JobBoardReply<T>>, as?: string): Promise<T> {
    this.#open();
    return unwrap(await fn(await this.#credential(as)));
  }
}

function unwrap<T>(reply: JobBoardReply<T>): T {
  if ("error" in reply) throw Failure.fromJSON(reply.error).toError();
  return reply.value;
}
