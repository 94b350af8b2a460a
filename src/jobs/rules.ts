// The rules of a job's claim, as pure functions over plain records: every board (memory,
// IndexedDB, a Durable Object) reads and writes its jobs its own way and decides with these, so a
// claim that ran out, a stale token or another owner's claim is refused the same everywhere.
import { InvalidFormat, JobFailure, LockLost, NotFound, UnclaimableJob } from "../errors.js";
import type { Clock } from "../ports/clock.js";
import type { WaitOptions } from "./board.js";
import type { ClaimUpdate, Job, JobClaim, JobDetails } from "./job.js";

/**
 * A new job, UNCLAIMED, from details already checked (`checkJobDetails`).
 * @example const job = newJob(checkJobDetails(details), ids(), clock.now(), ids)
 */
export function newJob(details: JobDetails, uuid: string, now: number, ids: () => string): Job {
  return {
    uuid,
    name: details.name ?? details.flow,
    flow: details.flow,
    args: details.args ?? [],
    store: details.store ?? {},
    priority: details.priority ?? "NORMAL",
    bookUuid: details.bookUuid ?? ids(),
    flowUuid: details.flowUuid,
    state: "UNCLAIMED",
    claims: 0,
    createdAt: now,
    updatedAt: now,
  };
}

/**
 * The job as it stands at `now`: a claim whose lease ran out is no claim (UNCLAIMED, no owner).
 * @example const visible = jobAt(stored, clock.now())
 */
export function jobAt(job: Job, now: number): Job {
  if (job.state !== "CLAIMED" || (job.expiresAt ?? Infinity) > now) return job;
  const { owner: _owner, expiresAt: _expiresAt, ...rest } = job;
  return { ...rest, state: "UNCLAIMED" };
}

/**
 * The owner's name, if it is a non-empty string.
 * @throws InvalidFormat saying what it got
 * @example checkOwner("conductor-1")
 */
export function checkOwner(owner: unknown): string {
  if (typeof owner !== "string" || owner.trim() === "") throw new InvalidFormat(`a claim needs its owner's name (a non-empty string), got ${JSON.stringify(owner) ?? String(owner)}`);
  return owner;
}

/**
 * A claim as a remote caller hands it back, if it has the shape of one (a board across RPC cannot
 * trust its argument's type).
 * @throws InvalidFormat naming the wrong field
 * @example const claim = checkClaim(fromRpc)
 */
export function checkClaim(value: unknown): JobClaim {
  const c = value as Partial<JobClaim> | null;
  if (typeof c !== "object" || c === null || typeof c.jobUuid !== "string" || typeof c.owner !== "string" || !Number.isInteger(c.token) || typeof c.expiresAt !== "number") {
    throw new InvalidFormat(`expected a claim as the board returned it ({ jobUuid, owner, token, expiresAt }), got ${JSON.stringify(value) ?? String(value)}; nothing changed`);
  }
  return { jobUuid: c.jobUuid, owner: c.owner, token: c.token as number, expiresAt: c.expiresAt };
}

/**
 * Claims `stored` (the job `uuid` as stored, if any) for `owner` at `now`: the job to store and
 * the claim to hand out. Nothing is stored by it: the board writes the job in the same
 * transaction it read it in.
 * @throws NotFound, UnclaimableJob when it is held, COMPLETE or TRASHED
 * @example const { job, claim } = claimJob(await store.get(uuid), uuid, "c1", 30_000, clock.now())
 */
export function claimJob(stored: Job | undefined, uuid: string, owner: string, leaseMs: number, now: number): { job: Job; claim: JobClaim } {
  if (!stored) throw new NotFound(`job "${uuid}" is not on the board`);
  const job = jobAt(stored, now);
  if (job.state !== "UNCLAIMED") {
    const why = job.state === "CLAIMED" ? `it is claimed by "${job.owner}" until ${job.expiresAt}` : `it is ${job.state}`;
    throw new UnclaimableJob(`job "${uuid}" cannot be claimed by "${owner}": ${why}; claim another job`);
  }
  const claims = job.claims + 1;
  const expiresAt = now + leaseMs;
  return { job: { ...job, state: "CLAIMED", owner, expiresAt, claims, updatedAt: now }, claim: { jobUuid: uuid, owner, token: claims, expiresAt } };
}

/**
 * Claims for `owner` at `now` those of `uuids` that can be claimed ({@link JobBoard.claimMany}),
 * each judged by {@link claimJob} against `read(uuid)` (the job as stored) and the claims before
 * it: the jobs to store and the claims, in the order of `uuids`. Nothing is stored by it.
 * @throws InvalidFormat when `uuids` is not an array of strings
 * @example const { jobs, claims } = claimJobs((uuid) => stored.get(uuid), uuids, "c1", 30_000, clock.now())
 */
export function claimJobs(read: (uuid: string) => Job | undefined, uuids: unknown, owner: string, leaseMs: number, now: number): { jobs: Job[]; claims: JobClaim[] } {
  if (!Array.isArray(uuids) || !uuids.every((u) => typeof u === "string")) throw new InvalidFormat(`expected the uuids of the jobs to claim (an array of strings), got ${JSON.stringify(uuids) ?? String(uuids)}; nothing was claimed`);
  const changed = new Map<string, Job>();
  const claims: JobClaim[] = [];
  for (const uuid of uuids as string[]) {
    try {
      const { job, claim } = claimJob(changed.get(uuid) ?? read(uuid), uuid, owner, leaseMs, now);
      changed.set(uuid, job);
      claims.push(claim);
    } catch (error) {
      if (!(error instanceof UnclaimableJob || error instanceof NotFound)) throw error;
    }
  }
  return { jobs: [...changed.values()], claims };
}

/**
 * The updates as a remote caller hands them ({@link JobBoard.updateMany}), if each is a claim and
 * a known action, and all are one owner's (whose credential a remote board checks).
 * @throws InvalidFormat naming what is wrong
 * @example const owner = checkUpdates(updates)[0]?.claim.owner
 */
export function checkUpdates(value: unknown): ClaimUpdate[] {
  if (!Array.isArray(value)) throw new InvalidFormat(`expected an array of { claim, action } updates, got ${JSON.stringify(value) ?? String(value)}; nothing changed`);
  const updates = value.map((u: Partial<ClaimUpdate> | null) => {
    if (!["renew", "consume", "abandon", "trash"].includes(u?.action as string)) throw new InvalidFormat(`an update's action must be "renew", "consume", "abandon" or "trash", got ${JSON.stringify(u?.action) ?? String(u?.action)}; nothing changed`);
    return { claim: checkClaim(u?.claim), action: u?.action as ClaimUpdate["action"] };
  });
  const owners = new Set(updates.map((u) => u.claim.owner));
  if (owners.size > 1) throw new InvalidFormat(`updateMany takes the claims of one owner, got claims of ${[...owners].map((o) => `"${o}"`).join(", ")}; nothing changed: update each owner's claims in a call of its own`);
  return updates;
}

/**
 * Applies checked `updates` at `now` ({@link JobBoard.updateMany}), each judged by
 * {@link heldJob} against `read(uuid)` and the updates before it: the jobs to store (each once,
 * as it ends) and each update's result, the claim or `undefined` when it no longer held its job.
 * Nothing is stored by it.
 * @example const { jobs, results } = updateJobs((uuid) => stored.get(uuid), checkUpdates(updates), 30_000, clock.now())
 */
export function updateJobs(read: (uuid: string) => Job | undefined, updates: ClaimUpdate[], leaseMs: number, now: number): { jobs: Job[]; results: Array<JobClaim | undefined> } {
  const changed = new Map<string, Job>();
  const results = updates.map(({ claim, action }) => {
    let held: Job;
    try {
      held = heldJob(changed.get(claim.jobUuid) ?? read(claim.jobUuid), claim, action, now);
    } catch (error) {
      if (error instanceof LockLost || error instanceof JobFailure || error instanceof NotFound) return undefined;
      throw error;
    }
    if (action === "renew") {
      changed.set(held.uuid, { ...held, expiresAt: now + leaseMs, updatedAt: now });
      return { ...claim, expiresAt: now + leaseMs };
    }
    changed.set(held.uuid, settleJob(held, action === "consume" ? "COMPLETE" : action === "abandon" ? "UNCLAIMED" : "TRASHED", now));
    return claim;
  });
  return { jobs: [...changed.values()], results };
}

/**
 * The job `claim` holds, as stored, if the claim still holds it at `now`.
 * @throws NotFound (unknown, COMPLETE or TRASHED), LockLost (the lease ran out or another claim
 * followed), JobFailure (someone else holds it)
 * @example const job = heldJob(await store.get(claim.jobUuid), claim, "consume", clock.now())
 */
export function heldJob(stored: Job | undefined, claim: JobClaim, action: string, now: number): Job {
  if (!stored) throw new NotFound(`job "${claim.jobUuid}" is not on the board`);
  if (stored.state === "COMPLETE" || stored.state === "TRASHED") throw new NotFound(`cannot ${action} job "${claim.jobUuid}": it is ${stored.state}, no longer on the board`);
  const job = jobAt(stored, now);
  if (job.claims !== claim.token || job.state !== "CLAIMED") {
    throw new LockLost(`cannot ${action} job "${claim.jobUuid}": the claim of "${claim.owner}" (token ${claim.token}) ${job.claims !== claim.token ? "was followed by another" : "ran out"}; nothing changed: stop working on it`);
  }
  if (job.owner !== claim.owner) throw new JobFailure(`cannot ${action} job "${claim.jobUuid}" as "${claim.owner}": it is held by "${job.owner}"; nothing changed`);
  return job;
}

/**
 * The job let go of: COMPLETE (consumed), UNCLAIMED (abandoned, or its lease ran out) or TRASHED,
 * with no owner and no expiry.
 * @example await store.put(settleJob(heldJob(stored, claim, "consume", now), "COMPLETE", now))
 */
export function settleJob(job: Job, state: "COMPLETE" | "UNCLAIMED" | "TRASHED", now: number): Job {
  const { owner: _owner, expiresAt: _expiresAt, ...rest } = job;
  return { ...rest, state, updatedAt: now };
}

/**
 * When the first of these jobs' claims runs out (stored CLAIMED jobs), if any does.
 * @example const wakeAt = nextExpiry(jobs) ?? Infinity
 */
export function nextExpiry(jobs: Iterable<Job>): number | undefined {
  let next: number | undefined;
  for (const j of jobs) if (j.state === "CLAIMED" && j.expiresAt !== undefined && (next === undefined || j.expiresAt < next)) next = j.expiresAt;
  return next;
}

/**
 * Where {@link waitForJobs} looks for unclaimed jobs and hears of new ones.
 * @example waitForJobs({ clock, look, listen: (wake) => channel.on(wake), closed: () => false }, options)
 */
export interface JobWaitSource {
  clock: Clock;
  /** The unclaimed jobs now (best first), and when the next claim runs out. */
  look(): Promise<{ unclaimed: Job[]; nextExpiry?: number | undefined }>;
  /** Calls `wake` on news (a post, an abandon) until the function it returns is called. */
  listen(wake: () => void): () => void;
  /** Whether the board closed (the wait ends with no jobs). */
  closed(): boolean;
  /** Look again at least this often (ms): for news that cannot reach this waiter. */
  pollMs?: number | undefined;
}

/**
 * {@link JobBoard.wait} for a board that can look at its jobs and hear news of them: resolves with
 * the unclaimed jobs at once if there are, or when news comes, the next claim runs out, or the
 * poll comes round; with none when the signal aborts or the board closes.
 * @throws NotFound when `timeoutMs` passes first (on the source's clock)
 * @example wait(options) { return waitForJobs({ clock, look, listen, closed }, options); }
 */
export async function waitForJobs(source: JobWaitSource, options: WaitOptions = {}): Promise<Job[]> {
  const { clock, pollMs } = source;
  const { signal } = options;
  const deadline = options.timeoutMs === undefined ? undefined : clock.now() + Math.max(0, options.timeoutMs);
  for (;;) {
    // Listening before looking: news that comes while the look is under way is not missed.
    let woken = false;
    let wake = (): void => void (woken = true);
    const stop = source.listen(() => wake());
    try {
      const { unclaimed, nextExpiry: expiry } = await source.look();
      if (unclaimed.length > 0 || signal?.aborted || source.closed()) return unclaimed;
      const now = clock.now();
      if (deadline !== undefined && now >= deadline) throw new NotFound(`no unclaimed job was posted within ${options.timeoutMs} ms`);
      if (woken) continue;
      const wakeAt = Math.min(deadline ?? Infinity, expiry ?? Infinity, pollMs === undefined ? Infinity : now + pollMs);
      const timer = new AbortController();
      await new Promise<void>((resolve) => {
        wake = resolve;
        signal?.addEventListener("abort", resolve, { once: true });
        if (wakeAt !== Infinity) void clock.sleep(Math.max(0, wakeAt - now), timer.signal).then(resolve);
      });
      timer.abort();
      signal?.removeEventListener("abort", wake);
    } finally {
      stop();
    }
  }
}
