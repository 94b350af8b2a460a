// A JobBoard that times its holder's board calls, shared by the job-board benchmarks (the
// IndexedDB page in Chromium, bench/jobs-page.ts, and the Durable Object board in workerd,
// bench/durable-object/jobs.test.ts).
import type { ClaimOptions, ClaimUpdate, Job, JobBoard, JobClaim, JobDetails, JobFilter, WaitOptions } from "../src/jobs/index.js";

/** Times the board calls of the holder (claim, renew, consume and the rest; not wait or post). */
export class TimedBoard implements JobBoard {
  boardMs = 0;
  readonly claims: number[] = [];
  constructor(private readonly inner: JobBoard) {}
  async #timed<T>(fn: () => Promise<T>, claim = false): Promise<T> {
    const start = performance.now();
    const value = await fn();
    const ms = performance.now() - start;
    this.boardMs += ms;
    if (claim) this.claims.push(ms);
    return value;
  }
  post(details: JobDetails): Promise<Job> { return this.inner.post(details); }
  get(uuid: string): Promise<Job> { return this.#timed(() => this.inner.get(uuid)); }
  iterate(filter?: JobFilter): AsyncIterable<Job> { return this.inner.iterate(filter); }
  claim(uuid: string, owner: string, options?: ClaimOptions): Promise<JobClaim> { return this.#timed(() => this.inner.claim(uuid, owner, options), true); }
  claimMany(uuids: string[], owner: string, options?: ClaimOptions): Promise<JobClaim[]> { return this.#timed(() => this.inner.claimMany(uuids, owner, options), true); }
  renew(claim: JobClaim, options?: ClaimOptions): Promise<JobClaim> { return this.#timed(() => this.inner.renew(claim, options)); }
  updateMany(updates: ClaimUpdate[], options?: ClaimOptions): Promise<Array<JobClaim | undefined>> { return this.#timed(() => this.inner.updateMany(updates, options)); }
  consume(claim: JobClaim): Promise<void> { return this.#timed(() => this.inner.consume(claim)); }
  abandon(claim: JobClaim): Promise<void> { return this.#timed(() => this.inner.abandon(claim)); }
  trash(claim: JobClaim): Promise<void> { return this.#timed(() => this.inner.trash(claim)); }
  wait(options?: WaitOptions): Promise<Job[]> { return this.inner.wait(options); }
  close(): Promise<void> { return this.inner.close(); }
}
