import { InvalidFormat, JobFailure, NotFound } from "../errors.js";
import { cloneRecord } from "../persistence/clone.js";
import { parseDuration, type Duration } from "../duration.js";
import { type Clock, systemClock } from "../ports/clock.js";
import { defaultIds, type IdGenerator } from "../ports/ids.js";
import type { ClaimOptions, JobBoard, WaitOptions } from "./board.js";
import { byPriority, checkJobDetails, matches, type ClaimUpdate, type Job, type JobClaim, type JobDetails, type JobFilter } from "./job.js";
import { checkOwner, checkUpdates, claimJob, claimJobs, heldJob, jobAt, newJob, nextExpiry, settleJob, updateJobs, waitForJobs } from "./rules.js";

/**
 * Options of {@link MemoryJobBoard}.
 * @example new MemoryJobBoard({ clock: new ManualClock(0), leaseMs: 10_000 })
 */
export interface MemoryJobBoardOptions {
  /** Where leases read the time (tests: `ManualClock`). */
  clock?: Clock;
  /** A claim's lease unless the claim asks for another (ms; default 30 s). */
  leaseMs?: Duration;
  /** Makes job ids (and the ids of their new log books). */
  ids?: IdGenerator;
}

/**
 * The lease in ms, if it is a finite number of ms > 0 or a {@link Duration} string of more than 0
 * ("30s", "5 minutes"); every board checks a claim's lease with it.
 * @throws InvalidFormat saying what it got (`InvalidDuration` for a string that is not a duration)
 * @example const expiresAt = clock.now() + leaseOf(options.leaseMs ?? "30s")
 */
export function leaseOf(lease: unknown): number {
  const ms = typeof lease === "string" ? parseDuration(lease as Duration, "a claim's lease") : lease;
  if (typeof ms !== "number" || !Number.isFinite(ms) || ms <= 0) throw new InvalidFormat(`a claim's lease must be a finite number of ms > 0 or a duration such as "30s", got ${String(lease)}`);
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
    const job = newJob(cloneRecord(d), this.#ids(), this.#clock.now(), this.#ids);
    this.#jobs.set(job.uuid, job);
    this.#wake();
    return cloneRecord(job);
  }

  async get(uuid: string): Promise<Job> {
    this.#open();
    const job = this.#jobs.get(uuid);
    if (!job) throw new NotFound(`job "${uuid}" is not on the board`);
    return cloneRecord(jobAt(job, this.#clock.now()));
  }

  async *iterate(filter: JobFilter = {}): AsyncGenerator<Job> {
    this.#open();
    for (const job of this.#list(filter)) yield job;
  }

  async claim(uuid: string, owner: string, options: ClaimOptions = {}): Promise<JobClaim> {
    this.#open();
    checkOwner(owner);
    const leaseMs = leaseOf(options.leaseMs ?? this.#leaseMs);
    const { job, claim } = claimJob(this.#jobs.get(uuid), uuid, owner, leaseMs, this.#clock.now());
    this.#jobs.set(uuid, job);
    return claim;
  }

  async claimMany(uuids: string[], owner: string, options: ClaimOptions = {}): Promise<JobClaim[]> {
    this.#open();
    checkOwner(owner);
    const { jobs, claims } = claimJobs((uuid) => this.#jobs.get(uuid), uuids, owner, leaseOf(options.leaseMs ?? this.#leaseMs), this.#clock.now());
    for (const job of jobs) this.#jobs.set(job.uuid, job);
    return claims;
  }

  async updateMany(updates: ClaimUpdate[], options: ClaimOptions = {}): Promise<Array<JobClaim | undefined>> {
    this.#open();
    const leaseMs = leaseOf(options.leaseMs ?? this.#leaseMs);
    const { jobs, results } = updateJobs((uuid) => this.#jobs.get(uuid), checkUpdates(updates), leaseMs, this.#clock.now());
    for (const job of jobs) this.#jobs.set(job.uuid, job);
    if (jobs.some((j) => j.state === "UNCLAIMED")) this.#wake();
    return results;
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
    return waitForJobs(
      {
        clock: this.#clock,
        // Woken by a post or an abandon, by the next lease to run out, by the deadline, or the signal.
        look: async () => ({ unclaimed: this.#list({ only: "unclaimed" }), nextExpiry: nextExpiry(this.#jobs.values()) }),
        listen: (wake) => {
          this.#waiters.add(wake);
          return () => this.#waiters.delete(wake);
        },
        closed: () => this.#closed,
      },
      options,
    );
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#wake();
  }

  #open(): void {
    if (this.#closed) throw new JobFailure("the job board is closed; open a new one");
  }

  #list(filter: JobFilter): Job[] {
    const now = this.#clock.now();
    return [...this.#jobs.values()].map((j) => jobAt(j, now)).filter((j) => matches(j, filter)).sort(byPriority).map((j) => cloneRecord(j));
  }

  /** The job `claim` holds. @throws NotFound, LockLost, JobFailure (see {@link JobBoard.renew}) */
  #held(claim: JobClaim, action: string): Job {
    this.#open();
    return heldJob(this.#jobs.get(claim.jobUuid), claim, action, this.#clock.now());
  }

  #settle(job: Job, state: "COMPLETE" | "UNCLAIMED" | "TRASHED"): void {
    this.#jobs.set(job.uuid, settleJob(job, state, this.#clock.now()));
  }

  #wake(): void {
    for (const wake of [...this.#waiters]) wake();
    this.#waiters.clear();
  }
}
