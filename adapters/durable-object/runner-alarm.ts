import type { Clock } from "taskflow-ts";

/** A host's one alarm (the part of a Durable Object's storage that keeps it). */
export interface AlarmStorage {
  getAlarm(): Promise<number | null>;
  setAlarm(scheduledTime: number): Promise<void>;
  deleteAlarm(): Promise<void>;
}

/** What the alarm driver needs from its FlowRunner. */
export interface AlarmHost {
  readonly storage: AlarmStorage;
  /** The flows' clock: wake-up times are in its time. */
  readonly clock: Clock;
  /** Added to "now" when arming the alarm for work to do at once (FlowRunnerOptions.resumeDelayMs). */
  readonly resumeDelayMs: number;
  /** The unfinished flows. */
  activeIds(): string[];
  /** When the flow has work to do (`dueAt` in runner-status.ts); undefined when only a caller can move it. */
  dueAt(id: string, now: number): Promise<number | undefined>;
  /** Runs the flow, in its turn, if it has work to do now. Never rejects. */
  run(id: string): Promise<void>;
  /** The finished flows to delete, with when (FlowRunnerOptions.retentionMs). */
  expiries(): Array<[string, number]>;
  /** Deletes a finished flow whose time has come, in its turn. Never rejects. */
  collect(id: string): Promise<void>;
}

/** What the alarm has to do: the flows due now, those to delete now, and when the next one waiting on a timer (or to delete) is. */
interface Plan {
  due: string[];
  expired: string[];
  next: number | undefined;
}

/**
 * How long one alarm invocation drives flows before it hands over to the next (returning with
 * the alarm armed at once, checked whenever something happens): an invocation is not meant to
 * last forever, and a shorter one loses less if the runtime ends it.
 */
const ALARM_TURN_MS = 5 * 60_000;
/** A flow still due after this many runs in one turn waits for the next turn (no busy loop). */
const MAX_RUNS_PER_TURN = 10;
const noop = (): void => undefined;

/**
 * A Durable Object has one alarm: this keeps it at the earliest time a flow has work to do,
 * and runs the flows when it fires. Alarm invocations of an object never overlap, so one that
 * waited for its longest run would hold back every other flow: it stays instead, starting each
 * flow that comes due meanwhile (a timer, a start, an input), until none runs.
 */
export class AlarmDriver {
  #scheduling: Promise<unknown> = Promise.resolve();
  /** Set while an alarm waits for its runs: new work wakes it. */
  #wake: (() => void) | undefined;

  constructor(private readonly host: AlarmHost) {}

  /** The body of `alarm()`. */
  async drive(): Promise<void> {
    const until = Date.now() + ALARM_TURN_MS;
    const runs = new Map<string, Promise<void>>();
    const started = new Map<string, number>();
    for (;;) {
      // Armed first (at once, while anything runs): if the object goes away now, the flows resume.
      const { due, expired, next } = await this.reschedule();
      for (const id of expired) await this.host.collect(id);
      for (const id of due) {
        if (runs.has(id) || (started.get(id) ?? 0) >= MAX_RUNS_PER_TURN) continue;
        started.set(id, (started.get(id) ?? 0) + 1);
        runs.set(id, this.host.run(id).finally(() => runs.delete(id)));
      }
      if (runs.size === 0) break;
      if (Date.now() >= until) return;
      await this.#somethingHappens([...runs.values()], next);
    }
    await this.reschedule();
  }

  /** Arms the alarm for work just stored, and wakes an alarm invocation waiting for its runs. */
  async workAdded(): Promise<void> {
    await this.reschedule();
    this.#wake?.();
  }

  /**
   * Arms the alarm for the flow that next has work to do (at once, plus `resumeDelayMs`, for
   * one that has work now; at its wake-up time for one waiting on a timer), or removes it. One
   * at a time, each reading the latest state: an earlier one finishing late never undoes a newer
   * alarm.
   */
  reschedule(): Promise<Plan> {
    const arm = async (): Promise<Plan> => {
      const now = this.host.clock.now();
      const plan = await this.#plan(now);
      const at = plan.due.length + plan.expired.length > 0 ? now + this.host.resumeDelayMs : plan.next;
      if (at === undefined) await this.host.storage.deleteAlarm();
      else if ((await this.host.storage.getAlarm()) !== at) await this.host.storage.setAlarm(at);
      return plan;
    };
    const scheduled = this.#scheduling.then(arm, arm);
    this.#scheduling = scheduled.then(noop, noop);
    return scheduled;
  }

  async #plan(now: number): Promise<Plan> {
    const plan: Plan = { due: [], expired: [], next: undefined };
    const add = (id: string, at: number, bucket: string[]): void => {
      if (at <= now) bucket.push(id);
      else if (plan.next === undefined || at < plan.next) plan.next = at;
    };
    for (const id of this.host.activeIds()) {
      const at = await this.host.dueAt(id, now).catch(() => now); // unreadable: a run finds out why, and marks the flow
      if (at !== undefined) add(id, at, plan.due);
    }
    for (const [id, at] of this.host.expiries()) add(id, at, plan.expired);
    return plan;
  }

  /** Waits for a run to end, the next timer to come due, or new work. */
  async #somethingHappens(runs: Array<Promise<void>>, next: number | undefined): Promise<void> {
    const stop = new AbortController();
    await Promise.race([
      ...runs,
      new Promise<void>((resolve) => (this.#wake = resolve)),
      ...(next === undefined ? [] : [this.host.clock.sleep(Math.max(0, next - this.host.clock.now()), stop.signal)]),
    ]);
    stop.abort();
    this.#wake = undefined;
  }
}
