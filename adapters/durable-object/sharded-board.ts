import { InvalidFormat, NotFound } from "taskflow-ts";
import { byPriority, checkOwner, checkUpdates, claimJobs, leaseOf, type ClaimOptions, type ClaimUpdate, type Job, type JobBoard, type JobClaim, type JobDetails, type JobFilter, type WaitOptions } from "taskflow-ts/jobs";

/**
 * Options of {@link ShardedJobBoard}.
 * @example new ShardedJobBoard({ a: boardA, b: boardB }, { keyOf: (d) => String(d.args?.[0]) })
 */
export interface ShardedJobBoardOptions {
  /**
   * The key that picks a job's shard (jobs of one key go to one shard, in order). By default the
   * posts are spread over the shards in turn.
   */
  keyOf?: (details: JobDetails) => string;
}

const SEPARATOR = "~";

/**
 * One board over several, by a key: each job is posted to one shard (a {@link JobBoardObject} of
 * its own, say, so claims on different shards do not queue behind one object), and `iterate` and
 * `wait` span them all. A job's uuid here is its shard's name, `~`, and its uuid on that shard, so
 * every later call goes to its shard alone. The shards and their names must stay the same for
 * the jobs on them to be found.
 * @example
 * const shards = Object.fromEntries(["0", "1", "2", "3"].map((n) => [n, new DurableObjectJobBoard(env.JOB_BOARD.getByName(`jobs-${n}`) as unknown as JobBoardRpc, { credential })]));
 * const board = new ShardedJobBoard(shards);
 */
export class ShardedJobBoard implements JobBoard {
  readonly #names: string[];
  #turn = 0;

  constructor(
    private readonly shards: Readonly<Record<string, JobBoard>>,
    private readonly options: ShardedJobBoardOptions = {},
  ) {
    this.#names = Object.keys(shards).sort();
    if (this.#names.length === 0) throw new InvalidFormat("a ShardedJobBoard needs at least one shard");
    for (const name of this.#names) if (name === "" || name.includes(SEPARATOR)) throw new InvalidFormat(`a shard's name must be non-empty and without "${SEPARATOR}", got ${JSON.stringify(name)}`);
  }

  async post(details: JobDetails): Promise<Job> {
    const name = this.options.keyOf ? this.#names[hash(this.options.keyOf(details)) % this.#names.length] : this.#names[this.#turn++ % this.#names.length];
    return outer(name as string, await this.#board(name as string).post(details));
  }

  async get(uuid: string): Promise<Job> {
    const [name, inner] = this.#split(uuid);
    return outer(name, await this.#board(name).get(inner));
  }

  async *iterate(filter: JobFilter = {}): AsyncGenerator<Job> {
    const lists = await Promise.all(this.#names.map(async (name) => {
      const jobs: Job[] = [];
      for await (const job of this.#board(name).iterate(filter)) jobs.push(outer(name, job));
      return jobs;
    }));
    yield* lists.flat().sort(byPriority);
  }

  async claim(uuid: string, owner: string, options?: ClaimOptions): Promise<JobClaim> {
    const [name, inner] = this.#split(uuid);
    return { ...(await this.#board(name).claim(inner, owner, options)), jobUuid: uuid };
  }

  /** Claims on each shard in one call of its own (the shards at once), in the order of `uuids`. */
  async claimMany(uuids: string[], owner: string, options?: ClaimOptions): Promise<JobClaim[]> {
    claimJobs(() => undefined, uuids, checkOwner(owner), leaseOf(options?.leaseMs ?? 1), 0); // refused before any shard is asked
    const byShard = this.#byShard(uuids, (uuid) => uuid);
    const got = new Map<string, JobClaim>();
    await Promise.all([...byShard].map(async ([name, outers]) => {
      const claims = await this.#board(name).claimMany(outers.map((u) => this.#split(u)[1]), owner, options);
      for (const claim of claims) got.set(name + SEPARATOR + claim.jobUuid, { ...claim, jobUuid: name + SEPARATOR + claim.jobUuid });
    }));
    return [...new Set(uuids)].flatMap((uuid) => got.get(uuid) ?? []);
  }

  /** Updates on each shard in one call of its own (the shards at once), results in the order of `updates`. */
  async updateMany(updates: ClaimUpdate[], options?: ClaimOptions): Promise<Array<JobClaim | undefined>> {
    checkUpdates(updates); // refused before any shard is asked
    const results: Array<JobClaim | undefined> = new Array(updates.length);
    const byShard = this.#byShard(updates.map((u, i) => [u, i] as const), ([u]) => u.claim.jobUuid);
    await Promise.all([...byShard].map(async ([name, entries]) => {
      const out = await this.#board(name).updateMany(entries.map(([u]) => ({ ...u, claim: { ...u.claim, jobUuid: this.#split(u.claim.jobUuid)[1] } })), options);
      entries.forEach(([u, i], k) => {
        const r = out[k];
        results[i] = r && { ...r, jobUuid: u.claim.jobUuid };
      });
    }));
    return results;
  }

  /** `items` by the shard of their job; those of no shard of this board left out (no shard has their job). */
  #byShard<T>(items: readonly T[], uuidOf: (item: T) => string): Map<string, T[]> {
    const byShard = new Map<string, T[]>();
    for (const item of items) {
      const uuid = uuidOf(item);
      const at = typeof uuid === "string" ? uuid.indexOf(SEPARATOR) : -1;
      const name = at > 0 ? uuid.slice(0, at) : "";
      if (Object.hasOwn(this.shards, name)) byShard.set(name, [...(byShard.get(name) ?? []), item]);
    }
    return byShard;
  }

  async renew(claim: JobClaim, options?: ClaimOptions): Promise<JobClaim> {
    const [name, inner] = this.#split(claim.jobUuid);
    return { ...(await this.#board(name).renew({ ...claim, jobUuid: inner }, options)), jobUuid: claim.jobUuid };
  }

  async consume(claim: JobClaim): Promise<void> {
    const [name, inner] = this.#split(claim.jobUuid);
    await this.#board(name).consume({ ...claim, jobUuid: inner });
  }

  async abandon(claim: JobClaim): Promise<void> {
    const [name, inner] = this.#split(claim.jobUuid);
    await this.#board(name).abandon({ ...claim, jobUuid: inner });
  }

  async trash(claim: JobClaim): Promise<void> {
    const [name, inner] = this.#split(claim.jobUuid);
    await this.#board(name).trash({ ...claim, jobUuid: inner });
  }

  /** Waits on every shard at once: the first with unclaimed jobs answers, the others stop waiting. */
  async wait(options: WaitOptions = {}): Promise<Job[]> {
    const stop = new AbortController();
    const onAbort = () => stop.abort();
    options.signal?.addEventListener("abort", onAbort, { once: true });
    if (options.signal?.aborted) stop.abort();
    try {
      const waits = this.#names.map((name) =>
        this.#board(name)
          .wait({ ...options, signal: stop.signal })
          .then((jobs) => {
            if (jobs.length === 0) return Promise.reject(new NotFound("no jobs"));
            stop.abort();
            return jobs.map((job) => outer(name, job));
          }),
      );
      try {
        return await Promise.any(waits);
      } catch (e) {
        // Every shard gave up: all timed out (NotFound), or the signal aborted (no jobs).
        if (options.signal?.aborted) return [];
        const errors = (e as AggregateError).errors as unknown[];
        throw errors.find((x) => !(x instanceof NotFound) || x.message !== "no jobs") ?? errors[0];
      } finally {
        stop.abort();
        await Promise.allSettled(waits);
      }
    } finally {
      options.signal?.removeEventListener("abort", onAbort);
    }
  }

  async close(): Promise<void> {
    for (const name of this.#names) await this.#board(name).close();
  }

  #board(name: string): JobBoard {
    return this.shards[name] as JobBoard;
  }

  /** The shard and the uuid on it. @throws NotFound for a uuid of no shard of this board */
  #split(uuid: string): [string, string] {
    const at = typeof uuid === "string" ? uuid.indexOf(SEPARATOR) : -1;
    const name = at > 0 ? uuid.slice(0, at) : "";
    if (!Object.hasOwn(this.shards, name)) throw new NotFound(`job "${String(uuid)}" is not on the board (no shard of this board has it)`);
    return [name, uuid.slice(at + 1)];
  }
}

function outer(name: string, job: Job): Job {
  return { ...job, uuid: name + SEPARATOR + job.uuid };
}

/** FNV-1a of the key: the same shard for the same key, wherever it is computed. */
function hash(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return h >>> 0;
}
