import * as z from "zod/mini";
import { StorageFailure } from "taskflow-ts";
import { problemsOf, type Json } from "./runner-requests.js";

/**
 * What a FlowRunner keeps about each flow it was asked to start, beside the log books:
 * - `runner:flow:<id>`: the caller's id, the request (to tell a repeated start from a
 *   conflicting one, and to create the flow detail again if the object died before writing it),
 *   the flow detail it runs, and what the caller asked of it since (suspend, revise).
 * - `runner:active:<id>`: present while the flow is unfinished, so that an alarm reads the flows
 *   it may have to run, not every flow the object ever ran.
 * - `runner:expires:<id>`: when a finished flow is to be deleted (`retentionMs` after it ended).
 * Ids are percent-encoded as in keys.ts; the prefixes differ from the backend's (`lb:`, `fd:`,
 * `fp:`, `ad:`), so both live in the object's one storage without meeting.
 */
export interface FlowEntry {
  id: string;
  /** The registry name of the flow. */
  flow: string;
  args: Json[];
  store: { [name: string]: Json };
  /** Set once the flow detail is created (it is written right after this entry). */
  flowDetailId?: string | undefined;
  createdAt: number;
  /** Suspended on request: no alarm runs it until `resume`. */
  held: boolean;
  /** Has work to do that its stored state does not show (a revision, a cancel under way): run it at once. */
  runNow: boolean;
  /** Why the runner stopped trying to run it (the flow cannot be loaded or stored); cleared by `resume`. */
  error?: string | undefined;
}

const ENTRY_PREFIX = "runner:flow:";
const ACTIVE_PREFIX = "runner:active:";
const EXPIRES_PREFIX = "runner:expires:";
const entryKey = (id: string): string => ENTRY_PREFIX + encodeURIComponent(id);
const activeKey = (id: string): string => ACTIVE_PREFIX + encodeURIComponent(id);
const expiresKey = (id: string): string => EXPIRES_PREFIX + encodeURIComponent(id);
/** The flow id in a key made above; undefined for a key that does not decode (a foreign write: skipped, not fatal). */
const idOf = (key: string, prefix: string): string | undefined => {
  try {
    return decodeURIComponent(key.slice(prefix.length));
  } catch {
    return undefined;
  }
};

/** The synchronous key-value storage the index needs (a Durable Object's `storage.kv`, or a Map in a test). */
export interface SyncKv {
  get<T = unknown>(key: string): T | undefined;
  put<T>(key: string, value: T): void;
  delete(key: string): unknown;
  list<T = unknown>(options: { prefix: string }): Iterable<[string, T]>;
}

const entrySchema: z.ZodMiniType<FlowEntry> = z.object({
  id: z.string(),
  flow: z.string(),
  args: z.array(z.json()),
  store: z.record(z.string(), z.json()),
  flowDetailId: z.optional(z.string()),
  createdAt: z.number(),
  held: z.boolean(),
  runNow: z.boolean(),
  error: z.optional(z.string()),
}) as z.ZodMiniType<FlowEntry>;

/** The runner's entries, on the synchronous key-value API (no await: nothing interleaves). */
export class FlowIndex {
  constructor(private readonly kv: SyncKv) {}

  /**
   * @throws StorageFailure when the stored entry is not one (a foreign write under our key, a disk
   * error): what is stored is wrong, not the caller's request; the entry is left as it is
   */
  get(id: string): FlowEntry | undefined {
    const key = entryKey(id);
    const raw = this.kv.get(key);
    if (raw === undefined) return undefined;
    const parsed = entrySchema.safeParse(raw, { reportInput: true });
    if (!parsed.success) {
      throw new StorageFailure(
        `runner entry "${key}" is corrupted or foreign: ${problemsOf(parsed.error)}; the runner no longer runs it: ` +
          "repair the entry (or delete it with the flow's log book), then resume the flow",
      );
    }
    return parsed.data;
  }

  /**
   * Stores the entry; an unfinished flow is listed as active, a finished one is not, and is
   * deleted at `expiresAt` when given (else at the time it had, if any).
   */
  put(entry: FlowEntry, active: boolean, expiresAt?: number): void {
    this.kv.put(entryKey(entry.id), entry);
    if (active) {
      this.kv.put(activeKey(entry.id), 1);
      this.kv.delete(expiresKey(entry.id));
    } else {
      this.kv.delete(activeKey(entry.id));
      if (expiresAt !== undefined) this.kv.put(expiresKey(entry.id), expiresAt);
    }
  }

  /** When the finished flow is to be deleted, if it is (a stored time that is not a number is no time: nothing is deleted on its word). */
  expiresAt(id: string): number | undefined {
    const at = this.kv.get(expiresKey(id));
    return typeof at === "number" ? at : undefined;
  }

  /** Each finished flow to be deleted, with when (keys or times that do not read back are skipped). */
  expiries(): Array<[string, number]> {
    return [...this.kv.list({ prefix: EXPIRES_PREFIX })].flatMap(([key, at]) => {
      const id = idOf(key, EXPIRES_PREFIX);
      return id !== undefined && typeof at === "number" ? [[id, at] as [string, number]] : [];
    });
  }

  isActive(id: string): boolean {
    return this.kv.get(activeKey(id)) !== undefined;
  }

  /** Takes the flow off the alarm's lists (unfinished, to delete), keeping its entry: for a flow the runner cannot run. */
  unschedule(id: string): void {
    this.kv.delete(activeKey(id));
    this.kv.delete(expiresKey(id));
  }

  delete(id: string): void {
    this.kv.delete(entryKey(id));
    this.kv.delete(activeKey(id));
    this.kv.delete(expiresKey(id));
  }

  /** Ids of the flows that are not finished. */
  activeIds(): string[] {
    return [...this.kv.list({ prefix: ACTIVE_PREFIX })].flatMap(([key]) => idOf(key, ACTIVE_PREFIX) ?? []);
  }
}

/** JSON with object keys sorted, so that two equal requests compare equal as strings. */
export function canonical(value: Json): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value !== null && typeof value === "object") {
    return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${canonical(value[k] as Json)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

/** What differs between a stored request and a new one with the same id; empty when they match. */
export function requestDifferences(entry: FlowEntry, flow: string, args: Json[], store: { [name: string]: Json }): string[] {
  const out: string[] = [];
  if (entry.flow !== flow) out.push(`flow "${entry.flow}" ≠ "${flow}"`);
  if (canonical(entry.args) !== canonical(args)) out.push("args differ");
  if (canonical(entry.store) !== canonical(store)) out.push(`store differs (${storeDiff(entry.store, store).join(", ")})`);
  return out;
}

function storeDiff(a: { [name: string]: Json }, b: { [name: string]: Json }): string[] {
  const names = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  return names.filter((n) => !(n in a) || !(n in b) || canonical(a[n] as Json) !== canonical(b[n] as Json)).map((n) => `"${n}"`);
}
