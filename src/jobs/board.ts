import type { Duration } from "../duration.js";
import type { ClaimUpdate, Job, JobClaim, JobDetails, JobFilter } from "./job.js";

/**
 * Options of {@link JobBoard.claim}.
 * @example await board.claim(job.uuid, "conductor-1", { leaseMs: 10_000 })
 */
export interface ClaimOptions {
  /** How long the claim lasts unless renewed (ms); the board's default otherwise. */
  leaseMs?: Duration;
}

/**
 * Options of {@link JobBoard.wait}.
 * @example const jobs = await board.wait({ timeoutMs: 5_000, signal: stop.signal })
 */
export interface WaitOptions {
  /** Give up after this long (on the board's clock): rejects with `NotFound`. Default: wait on. */
  timeoutMs?: number;
  /** Give up when it aborts: resolves with no jobs. */
  signal?: AbortSignal;
}

/**
 * Where jobs wait for conductors (TaskFlow's job board, as a port). A job names a flow factory,
 * its arguments and store, and owns a log book; it is posted, claimed by exactly one conductor at
 * a time, and consumed when done. A claim is a lease: its holder renews it while it works, and a
 * holder that stops (a killed tab, an evicted isolate) loses it when it runs out, so another
 * conductor can claim the job and resume its flow from the log book.
 *
 * Every operation on a held job passes its {@link JobClaim} back: the board refuses a claim
 * that ran out or that another claim followed with `LockLost`, one held by someone else with
 * `JobFailure`, an unknown job with `NotFound`; a refused call changes nothing. The board keeps
 * conductors apart; the backend keeps their writes apart: the conductor fences every write of the
 * job's flow with the epoch it got from `backend.claim` under the claim, so a holder whose lease
 * ran out cannot write even if it wakes up and tries.
 *
 * Implementations: {@link MemoryJobBoard} (one process); every board passes the contract suite
 * (`test/contract/jobboard-contract.ts`). Everything crossing it is plain data.
 * @example
 * const job = await board.post({ flow: "paint", args: ["red"] });
 * const claim = await board.claim(job.uuid, "conductor-1");
 * await board.consume(claim);
 */
export interface JobBoard {
  /**
   * Posts a job, checked first (`checkJobDetails`). Resolves with the job as stored, UNCLAIMED.
   * @throws InvalidFormat naming the wrong detail; nothing is posted
   */
  post(details: JobDetails): Promise<Job>;
  /** The job as stored now. @throws NotFound */
  get(uuid: string): Promise<Job>;
  /**
   * The jobs passing `filter` (by default those still to do, UNCLAIMED and CLAIMED), higher
   * priority first, then older first. A claim whose lease ran out lists as UNCLAIMED.
   */
  iterate(filter?: JobFilter): AsyncIterable<Job>;
  /**
   * Claims a job for `owner` (a non-empty name) with a lease: until `expiresAt`, nobody else can
   * claim it. @throws UnclaimableJob when it is held (even by `owner`), complete or trashed;
   * NotFound for an unknown job; InvalidFormat for an empty owner or a bad lease
   */
  claim(uuid: string, owner: string, options?: ClaimOptions): Promise<JobClaim>;
  /**
   * Claims for `owner` those of `uuids` that can be claimed now, in one transaction (a conductor
   * that runs many jobs at once takes them in one call): the claims got, in the order of `uuids`.
   * A job held (even by `owner`), complete, trashed or unknown is skipped, as {@link claim} would
   * refuse it; a uuid given twice is claimed once.
   * @throws InvalidFormat for an empty owner, a bad lease or `uuids` not an array of strings; nothing is claimed
   */
  claimMany(uuids: string[], owner: string, options?: ClaimOptions): Promise<JobClaim[]>;
  /**
   * Extends a held claim by its lease from now; resolves with the claim and its new expiry.
   * @throws LockLost when the lease ran out or another claim followed; JobFailure when someone else holds it
   */
  renew(claim: JobClaim, options?: ClaimOptions): Promise<JobClaim>;
  /** Marks the job COMPLETE (the work is done): no one claims it again. @throws as {@link renew} */
  consume(claim: JobClaim): Promise<void>;
  /** Gives the job back, UNCLAIMED, for any conductor to claim again. @throws as {@link renew} */
  abandon(claim: JobClaim): Promise<void>;
  /** Marks the job TRASHED: it cannot run (its dispatch failed), and no one claims it again. @throws as {@link renew} */
  trash(claim: JobClaim): Promise<void>;
  /**
   * Renews, consumes, abandons or trashes several held claims of one owner in one transaction
   * (a conductor's renewals and settlements of one moment). Each update is judged alone, as
   * {@link renew} and the others judge theirs: its result is the claim (with its new expiry for a
   * renewal) when it was applied, `undefined` when the claim no longer held its job (ran out, was
   * followed by another, the job is settled or unknown): that one changed nothing.
   * `options.leaseMs` is the renewals' lease.
   * @throws InvalidFormat for an update that is not one, or claims of several owners; nothing changes
   */
  updateMany(updates: ClaimUpdate[], options?: ClaimOptions): Promise<Array<JobClaim | undefined>>;
  /**
   * Resolves with the unclaimed jobs once there is one: at once if there are, or when one is
   * posted, abandoned, or its holder's lease runs out.
   * @throws NotFound when `timeoutMs` passes first
   */
  wait(options?: WaitOptions): Promise<Job[]>;
  /** Lets go of what the board holds open; later calls fail. */
  close(): Promise<void>;
}
