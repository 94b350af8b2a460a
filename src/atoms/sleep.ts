import { Task, type TaskOptions } from "./task.js";

/**
 * A task that waits. When the engine reaches it, the wake-up time is written to the log book
 * first; a host that goes away (a closed page, an evicted isolate) resumes waiting only for what
 * is left, or not at all if the time has passed. Provides the wake-up time (ms since the epoch)
 * when given `provides`.
 */
export class Sleep extends Task<Record<string, never>, number> {
  constructor(
    /** Milliseconds after the engine reaches it, or an absolute time (ms since the epoch). */
    readonly wait: { afterMs: number } | { at: number },
    options: TaskOptions<Record<string, never>> & { name: string },
  ) {
    super(options);
  }
  /** @internal the engine has already waited until the stored time: nothing left to do */
  execute(): number {
    return 0;
  }
}

/** @example linearFlow("remind", sendEmail, sleep("wait-a-day", 86_400_000), sendReminder) */
export function sleep(name: string, ms: number, options: Omit<TaskOptions<Record<string, never>>, "name"> = {}): Sleep {
  return new Sleep({ afterMs: ms }, { ...options, name });
}

/** @example sleepUntil("until-monday", Date.parse("2026-11-30T09:00:00Z")) */
export function sleepUntil(name: string, at: number | Date, options: Omit<TaskOptions<Record<string, never>>, "name"> = {}): Sleep {
  return new Sleep({ at: typeof at === "number" ? at : at.getTime() }, { ...options, name });
}
