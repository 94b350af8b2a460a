import { InvalidFormat } from "../errors.js";
import { checkStorable } from "../storage/storable.js";

/**
 * Where a job is (TaskFlow's job states): on the board waiting for a conductor, held by one, done
 * (consumed), or put aside for good (trashed: its dispatch failed and running it again would too).
 * @example if (job.state === "UNCLAIMED") await board.claim(job.uuid, "conductor-1")
 */
export type JobState = "UNCLAIMED" | "CLAIMED" | "COMPLETE" | "TRASHED";

/**
 * TaskFlow's job priorities: among unclaimed jobs, conductors see the higher ones first (then the
 * older ones first).
 * @example await board.post({ flow: "resize", args: ["cat.png"], priority: "HIGH" })
 */
export type JobPriority = "VERY_HIGH" | "HIGH" | "NORMAL" | "LOW" | "VERY_LOW";

/**
 * The priorities, highest first (the order conductors see jobs in).
 * @example JOB_PRIORITIES.indexOf(job.priority) // 0 for VERY_HIGH
 */
export const JOB_PRIORITIES: readonly JobPriority[] = ["VERY_HIGH", "HIGH", "NORMAL", "LOW", "VERY_LOW"];

/**
 * What a producer posts: the flow to run (a factory name the conductors registered), the
 * factory's arguments and the store, all plain data (checked when posted: a refused post stores
 * nothing). The job owns a log book: `bookUuid`, a new one by default; `flowUuid` names the flow
 * detail to run in it, by default the book's only flow detail, or a new one made on first dispatch.
 * @example await board.post({ name: "paint red", flow: "paint", args: ["red"], store: { brush: "wide" } })
 */
export interface JobDetails {
  /** The name of the flow factory to run (registered in a `FlowRegistry`). */
  flow: string;
  /** A name for people; the flow's name by default. */
  name?: string;
  /** The factory's arguments (plain data: they are stored). */
  args?: unknown[];
  /** Values injected at the flow level, on top of those its flow detail stores already. */
  store?: Record<string, unknown>;
  priority?: JobPriority;
  /** The log book of the job's flow: an existing book (an imported one, say), or a new one's id. */
  bookUuid?: string;
  /** The flow detail to run in the book. */
  flowUuid?: string;
}

/**
 * A job as the board keeps it: plain data, the same from every board (memory, IndexedDB, a
 * Durable Object).
 * @example for await (const job of board.iterate({ only: "unclaimed" })) console.log(job.name, job.priority)
 */
export interface Job {
  uuid: string;
  name: string;
  flow: string;
  args: unknown[];
  store: Record<string, unknown>;
  priority: JobPriority;
  bookUuid: string;
  flowUuid?: string | undefined;
  state: JobState;
  /** Who holds it, while CLAIMED. */
  owner?: string | undefined;
  /** When the holder's lease runs out (ms since the epoch), while CLAIMED. */
  expiresAt?: number | undefined;
  /** How many times it was claimed (each claim's `token`). */
  claims: number;
  createdAt: number;
  updatedAt: number;
}

/**
 * A held claim on a job: who holds it, the claim's token (a new one per claim of the job) and
 * when its lease runs out. Plain data, so a remote board can hand it over RPC. Every operation of
 * the holder passes it back, and the board refuses it once the lease ran out or another claim
 * followed (`LockLost`). The conductor adds the backend's fencing token of the job's flow
 * (`epoch`, from `backend.claim`) once it holds the claim: every write of the flow carries it.
 * @example const claim = await board.claim(job.uuid, "conductor-1", { leaseMs: 30_000 }); await board.renew(claim)
 */
export interface JobClaim {
  jobUuid: string;
  owner: string;
  token: number;
  expiresAt: number;
}

/**
 * One step of a held claim for {@link JobBoard.updateMany}: renew its lease, or settle its job as
 * {@link JobBoard.consume}, {@link JobBoard.abandon} or {@link JobBoard.trash} would.
 * @example await board.updateMany([{ claim: a, action: "renew" }, { claim: b, action: "consume" }])
 */
export interface ClaimUpdate {
  claim: JobClaim;
  action: "renew" | "consume" | "abandon" | "trash";
}

/**
 * Which jobs {@link JobBoard.iterate} lists: by default those still to be done (UNCLAIMED and
 * CLAIMED); `only` narrows that, `owner` keeps the jobs a conductor holds.
 * @example board.iterate({ only: "claimed", owner: "conductor-1" })
 */
export interface JobFilter {
  only?: "unclaimed" | "claimed" | "complete" | "trashed" | "all";
  owner?: string;
}

const fail = (what: string): never => {
  throw new InvalidFormat(`job details: ${what}; nothing was posted`);
};
const text = (value: unknown, what: string): string | undefined => {
  if (value === undefined) return undefined;
  if (typeof value !== "string" || value.trim() === "") fail(`${what} must be a non-empty string, got ${JSON.stringify(value) ?? String(value)}`);
  return value as string;
};

/**
 * Checks what a producer posts, before a board stores anything (every board calls it): a flow
 * name, plain-data arguments and store, a known priority, ids as strings.
 * @throws InvalidFormat naming the wrong field and what it got
 * @example const details = checkJobDetails({ flow: "paint", args: ["red"] })
 */
export function checkJobDetails(value: unknown): JobDetails {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return fail(`expected an object such as { flow: "paint", args: ["red"] }, got ${JSON.stringify(value) ?? String(value)}`);
  const d = value as Record<string, unknown>;
  const known = ["flow", "name", "args", "store", "priority", "bookUuid", "flowUuid"];
  const extra = Object.keys(d).filter((k) => !known.includes(k));
  if (extra.length > 0) fail(`unknown field${extra.length > 1 ? "s" : ""} ${extra.map((k) => `"${k}"`).join(", ")} (known: ${known.join(", ")})`);
  if (d.flow === undefined) fail(`"flow" (the name of a registered flow factory) is required`);
  text(d.flow, `"flow"`);
  text(d.name, `"name"`);
  text(d.bookUuid, `"bookUuid"`);
  text(d.flowUuid, `"flowUuid"`);
  if (d.args !== undefined && !Array.isArray(d.args)) fail(`"args" must be an array of the factory's arguments, got ${JSON.stringify(d.args) ?? String(d.args)}`);
  if (d.store !== undefined && (typeof d.store !== "object" || d.store === null || Array.isArray(d.store))) fail(`"store" must be an object of named values, got ${JSON.stringify(d.store) ?? String(d.store)}`);
  if (d.priority !== undefined && !JOB_PRIORITIES.includes(d.priority as JobPriority)) fail(`"priority" must be one of ${JOB_PRIORITIES.join(", ")}, got ${JSON.stringify(d.priority) ?? String(d.priority)}`);
  checkStorable(d.args ?? [], "args", "job details: the factory's arguments");
  checkStorable(d.store ?? {}, "store", "job details: the store");
  return d as unknown as JobDetails;
}

/**
 * Orders jobs as conductors should see them: higher priority first, then older first.
 * @example jobs.sort(byPriority)
 */
export function byPriority(a: Job, b: Job): number {
  return JOB_PRIORITIES.indexOf(a.priority) - JOB_PRIORITIES.indexOf(b.priority) || a.createdAt - b.createdAt || (a.uuid < b.uuid ? -1 : a.uuid > b.uuid ? 1 : 0);
}

/**
 * Whether a job passes a filter (boards use it for {@link JobBoard.iterate}).
 * @example jobs.filter((job) => matches(job, { only: "claimed", owner: "c1" }))
 */
export function matches(job: Job, filter: JobFilter = {}): boolean {
  if (filter.owner !== undefined && job.owner !== filter.owner) return false;
  switch (filter.only) {
    case undefined:
      return job.state === "UNCLAIMED" || job.state === "CLAIMED";
    case "all":
      return true;
    default:
      return job.state === filter.only.toUpperCase();
  }
}
