import { FlowRunner, type FlowRunnerOptions, type Json, type Started } from "../../adapters/durable-object/index.js";
import { type Backend, type Clock, systemClock } from "../../src/index.js";
import { FaultyBackend } from "../../src/testing/index.js";
import { runnerFlows } from "./runner-flows.js";

const HOUR = 3_600_000;
const DIE_AT = "test:die-at-commit";
const CLOCK = "test:clock-offset-ms";
const TALLY = "test:tally:";
const RETENTION = "test:retention-ms";

/**
 * The FlowRunner under test, as a user would subclass it, plus what the tests need:
 * - steps count their executions and reverts in storage (`tally()`), so evictions keep the count;
 * - its clock runs ahead by a stored offset (`advanceClock(ms)`), so a backoff of a minute can
 *   be over without waiting for it; the runner reads its time from the same clock;
 * - the alarm for work to do at once is set an hour ahead: tests run alarms by hand
 *   (`runDurableObjectAlarm`, which runs a set alarm whatever its time), and nothing fires behind
 *   their back; timers keep their stored time, so `alarmAt()` is what the runner asked for;
 * - finished flows are kept forever (these tests check that no alarm is left once a flow ends),
 *   unless `keepFinishedFor(ms)` is stored before the object is (re)made: evict it after;
 * - `dieAtCommit(k)`: in this life of the object, commit k never returns, as when the isolate is
 *   lost while writing; `start` and `alarm` then return ("host died") instead of hanging, and
 *   the test evicts the object. Only one life dies: the plan is consumed when the backend is made.
 */
export class TestRunner extends FlowRunner {
  protected readonly flows = runnerFlows({ count: (kind, name) => this.#count(kind, name), gate: () => this.#gate });
  #openGate!: () => void;
  readonly #gate = new Promise<void>((resolve) => (this.#openGate = resolve));
  readonly #clock: Clock = { now: () => systemClock.now() + (this.ctx.storage.kv.get<number>(CLOCK) ?? 0), sleep: systemClock.sleep };
  protected override readonly options: FlowRunnerOptions = {
    resumeDelayMs: HOUR,
    clock: this.#clock,
    retentionMs: this.ctx.storage.kv.get<number>(RETENTION) ?? Infinity,
  };
  #faulty: FaultyBackend | undefined;
  #died = false;

  protected override makeBackend(): Backend {
    const at = this.ctx.storage.kv.get<number>(DIE_AT);
    this.ctx.storage.kv.delete(DIE_AT);
    this.#faulty = new FaultyBackend(super.makeBackend(), at ?? Infinity, "kill");
    void this.#faulty.crashed.then(() => (this.#died = true));
    return this.#faulty;
  }

  override async start(id: string, flow: string, args?: Json[], store?: { [name: string]: Json }): Promise<Started> {
    return this.#unlessDead(super.start(id, flow, args, store));
  }

  override async alarm(): Promise<void> {
    await this.#unlessDead(super.alarm()).catch((e: unknown) => {
      if (!this.#died) throw e; // a dead host's alarm "returns": the eviction that follows is the point
    });
  }

  /** Plans the death of this life of the object at its k-th commit (start's included). */
  dieAtCommit(k: number): void {
    this.ctx.storage.kv.put(DIE_AT, k);
  }

  /** Whether this life died (its planned commit was reached). */
  died(): boolean {
    return this.#died;
  }

  /** Keeps finished flows `ms` in the object's next life (evict it to apply). */
  keepFinishedFor(ms: number): void {
    this.ctx.storage.kv.put(RETENTION, ms);
  }

  /** How many log books the object's storage holds. */
  async logBooks(): Promise<number> {
    return (await this.backend.listLogBooks()).length;
  }

  /** Lets the "gated" flow's step finish. */
  openGate(): void {
    this.#openGate();
  }

  /** Commits that reached storage in this life. */
  commits(): number {
    return this.#faulty?.committed.length ?? 0;
  }

  tally(): Record<string, number> {
    return Object.fromEntries([...this.ctx.storage.kv.list<number>({ prefix: TALLY })].map(([k, n]) => [k.slice(TALLY.length), n]));
  }

  advanceClock(ms: number): number {
    this.ctx.storage.kv.put(CLOCK, (this.ctx.storage.kv.get<number>(CLOCK) ?? 0) + ms);
    return this.#clock.now();
  }

  now(): number {
    return this.#clock.now();
  }

  alarmAt(): Promise<number | null> {
    return this.ctx.storage.getAlarm();
  }

  #count(kind: string, name: string): number {
    const key = `${TALLY}${kind}:${name}`;
    const n = (this.ctx.storage.kv.get<number>(key) ?? 0) + 1;
    this.ctx.storage.kv.put(key, n);
    return n;
  }

  /** The call's outcome, or a rejection "host died" once the planned commit is reached. */
  #unlessDead<T>(call: Promise<T>): Promise<T> {
    void this.backend; // made by now (it is made on first use), so that its crash can be awaited
    return Promise.race([call, this.#death()]);
  }

  #deathRejection: Promise<never> | undefined;
  /** One rejection for the life, marked handled: calls that ended before the death must not report it. */
  #death(): Promise<never> {
    if (!this.#deathRejection) {
      this.#deathRejection = (this.#faulty?.crashed ?? new Promise<void>(() => {})).then((): never => {
        throw new Error("host died");
      });
      this.#deathRejection.catch(() => undefined);
    }
    return this.#deathRejection;
  }
}
