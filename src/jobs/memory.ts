import { InvalidFormat, JobFailure, LockLost, NotFound, UnclaimableJob } from "../errors.js";
import { cloneRecord } from "../persistence/clone.js";
import { type Clock, systemClock } from "../ports/clock.js";
import { defaultIds, type IdGenerator } from "../ports/ids.js";
import type { ClaimOptions, JobBoard, WaitOptions } from "./board.js";
import { byPriority, checkJobDetails, matches, type Job, type JobClaim, type JobDetails, type JobFilter } from "./job.js";

/**
 * Options of {@link MemoryJobBoard}.
 * @example new MemoryJobBoard({ clock: new ManualClock(0), leaseMs: 10_000 })
 */
export interface MemoryJobBoardOptions {
  /** Where leases read the time (tests: `ManualClock`). */
  clock?: Clock;
  /** A claim's lease unless the claim asks for another (ms; default 30 s). */
  leaseMs?: number;
  /** Makes job ids (and the ids of their new log books). */
  ids?: IdGenerator;
}

/**
 * The lease, if it is a finite number of ms > 0 (every board checks a claim's lease with it).
 * @throws InvalidFormat saying what it got
 * @example const expiresAt = clock.now() + leaseOf(options.leaseMs ?? 30_000)
 */
export function leaseOf(ms: unknown): number {
  if (typeof ms !== "number" || !Number.isFinite(ms) || ms <= 0) throw new InvalidFormat(`a claim's lease must be a finite number of ms > 0, got ${String(ms)}`);
  return ms;
}

/**
 * A job board in memory, for the conductors of one process (one page, one isolate, a test).
 * Leases are read on its clock: a claim whose lease ran out lists as UNCLAIMED and can be claimed
 * again, and its holder's next call is refused with `LockLost`. Jobs and claims are copied in and
 * out, as a remote board's would be.
 * @example
 * const board = new MemoryJobBoard({ clock });
 * await board.post({ flow: "paint", args: ["red"] });
 * const [job] = await board.wait();
 */
export class MemoryJobBoard implements JobBoard {
  readonly #jobs = new Map<string, Job>();
  readonly #clock: Clock;
  readonly #leaseMs: number;
  readonly #ids: IdGenerator;
  readonly #waiters = new Set<() => void>();
  #closed = false;

  constructor(options: MemoryJobBoardOptions = {}) {
    this.#clock = options.clock ?? systemClock;
    this.#leaseMs = leaseOf(options.leaseMs ?? 30_000);
    this.#ids = options.ids ?? defaultIds;
  }

  async post(details: JobDetails): Promise<Job> {
    this.#open();
    const d = checkJobDetails(details);
    const now = this.#clock.now();
    const uuid = this.#ids();
    const job: Job = {
      uuid,
      name: d.name ?? d.flow,
      flow: d.flow,
      args: cloneRecord(d.args ?? []),
      store: cloneRecord(d.store ?? {}),
      priority: d.priority ?? "NORMAL",
      bookUuid: d.bookUuid ?? this.#ids(),
      flowUuid: d.flowUuid,
      state: "UNCLAIMED",
      claims: 0,
      createdAt: now,
      updatedAt: now,
    };
    this.#jobs.set(uuid, job);
    this.#wake();
    return cloneRecord(job);
  }

  async get(uuid: string): Promise<Job> {
    this.#open();
    return cloneRecord(this.#view(this.#find(uuid)));
  }

  async *iterate(filter: JobFilter = {}): AsyncGenerator<Job> {
    this.#open();
    for (const job of this.#list(filter)) yield job;
  }

  async claim(uuid: string, owner: string, options: ClaimOptions = {}): Promise<JobClaim> {
    this.#open();
    if (typeof owner !== "string" || owner.trim() === "") throw new InvalidFormat(`a claim needs its owner's name (a non-empty string), got ${JSON.stringify(owner) ?? String(owner)}`);
    const leaseMs = leaseOf(options.leaseMs ?? this.#leaseMs);
    const job = this.#view(this.#find(uuid));
    if (job.state !== "UNCLAIMED") {
      const why = job.state === "CLAIMED" ? `it is claimed by "${job.owner}" until ${job.expiresAt}` : `it is ${job.state}`;
      throw new UnclaimableJob(`job "${uuid}" cannot be claimed by "${owner}": ${why}; claim another job`);
    }
    const now = this.#clock.now();
    const claims = job.claims + 1;
    this.#jobs.set(uuid, { ...job, state: "CLAIMED", owner, expiresAt: now + leaseMs, claims, updatedAt: now });
    return { jobUuid: uuid, owner, token: claims, expiresAt: now + leaseMs };
  }

  async renew(claim: JobClaim, options: ClaimOptions = {}): Promise<JobClaim> {
    const leaseMs = leaseOf(options.leaseMs ?? this.#leaseMs);
    const job = this.#held(claim, "renew");
    const expiresAt = this.#clock.now() + leaseMs;
    this.#jobs.set(job.uuid, { ...job, expiresAt, updatedAt: this.#clock.now() });
    return { ...claim, expiresAt };
  }

  async consume(claim: JobClaim): Promise<void> {
    this.#settle(this.#held(claim, "consume"), "COMPLETE");
  }

  async abandon(claim: JobClaim): Promise<void> {
    this.#settle(this.#held(claim, "abandon"), "UNCLAIMED");
    this.#wake();
  }

  async trash(claim: JobClaim): Promise<void> {
    this.#settle(this.#held(claim, "trash"), "TRASHED");
  }

  async wait(options: WaitOptions = {}): Promise<Job[]> {
    this.#open();
    const { signal } = options;
    const deadline = options.timeoutMs === undefined ? undefined : this.#clock.now() + Math.max(0, options.timeoutMs);
    for (;;) {
      const jobs = this.#list({ only: "unclaimed" });
      if (jobs.length > 0 || signal?.aborted || this.#closed) return jobs;
      const now = this.#clock.now();
      if (deadline !== undefined && now >= deadline) throw new NotFound(`no unclaimed job was posted within ${options.timeoutMs} ms`);
      // Woken by a post or an abandon, by the next lease to run out, by the deadline, or the signal.
      const expiries = [...this.#jobs.values()].flatMap((j) => (j.state === "CLAIMED" && j.expiresAt !== undefined ? [j.expiresAt] : []));
      const wakeAt = Math.min(deadline ?? Infinity, ...expiries);
      const timer = new AbortController();
      let wake = (): void => {};
      await new Promise<void>((resolve) => {
        wake = resolve;
        this.#waiters.add(wake);
        signal?.addEventListener("abort", wake, { once: true });
        if (wakeAt !== Infinity) void this.#clock.sleep(wakeAt - now, timer.signal).then(wake);
      });
      timer.abort();
      this.#waiters.delete(wake);
      signal?.removeEventListener("abort", wake);
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#wake();
  }

  #open(): void {
    if (this.#closed) throw new JobFailure("the job board is closed; open a new one");
  }

  #find(uuid: string): Job {
    const job = this.#jobs.get(uuid);
    if (!job) throw new NotFound(`job "${uuid}" is not on the board`);
    return job;
  }

  /** The job as it stands now: a claim whose lease ran out is no claim. */
  #view(job: Job): Job {
    if (job.state !== "CLAIMED" || (job.expiresAt ?? Infinity) > this.#clock.now()) return job;
    const { owner: _owner, expiresAt: _expiresAt, ...rest } = job;
    return { ...rest, state: "UNCLAIMED" };
  }

  #list(filter: JobFilter): Job[] {
    return [...this.#jobs.values()].map((j) => this.#view(j)).filter((j) => matches(j, filter)).sort(byPriority).map((j) => cloneRecord(j));
  }

  /** The job `claim` holds. @throws NotFound, LockLost, JobFailure (see {@link JobBoard.renew}) */
  #held(claim: JobClaim, action: string): Job {
    this.#open();
    const stored = this.#find(claim.jobUuid);
    if (stored.state === "COMPLETE" || stored.state === "TRASHED") throw new NotFound(`cannot ${action} job "${claim.jobUuid}": it is ${stored.state}, no longer on the board`);
    const job = this.#view(stored);
    if (job.claims !== claim.token || job.state !== "CLAIMED") {
      throw new LockLost(`cannot ${action} job "${claim.jobUuid}": the claim of "${claim.owner}" (token ${claim.token}) ${job.claims !== claim.token ? "was followed by another" : "ran out"}; nothing changed: stop working on it`);
    }
    if (job.owner !== claim.owner) throw new JobFailure(`cannot ${action} job "${claim.jobUuid}" as "${claim.owner}": it is held by "${job.owner}"; nothing changed`);
    return job;
  }

  #settle(job: Job, state: "COMPLETE" | "UNCLAIMED" | "TRASHED"): void {
    const { owner: _owner, expiresAt: _expiresAt, ...rest } = job;
    this.#jobs.set(job.uuid, { ...rest, state, updatedAt: this.#clock.now() });
  }

  #wake(): void {
    for (const wake of [...this.#waiters]) wake();
    this.#waiters.clear();
  }
}
