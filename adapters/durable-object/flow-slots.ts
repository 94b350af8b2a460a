// The FlowRunner's logic, without the Durable Object around it: one slot per flow, in one table,
// each in an explicit state; runtime-agnostic (no `cloudflare:workers`), so it runs in Node's
// tests on a MemoryBackend and a ManualClock. flow-runner.ts is the RPC/HTTP façade over it.
import {
  DisallowedAccess, Duplicate, InvalidFormat, InvalidState, isFinalFlowState, NotFound, readSnapshot, StorageFailure, systemClock,
  type Backend, type Clock, type Engine, type EngineOptions, type FlowRegistry, type FlowSnapshot,
  provide,
  revise,
  runIter,
} from "taskflow-ts";
import { AlarmDriver, type AlarmStorage } from "./runner-alarm.js";
import { FlowIndex, requestDifferences, type FlowEntry, type SyncKv } from "./runner-index.js";
import * as schemas from "./runner-requests.js";
import { parse, type Json } from "./runner-requests.js";
import { dueAt, statusOf, type FlowLog, type FlowStatus } from "./runner-status.js";

/**
 * How a FlowRunner runs its flows.
 * @example
 * export class Jobs extends FlowRunner<Env> {
 *   protected readonly flows = registry;
 *   protected override readonly options: FlowRunnerOptions = { engine: "parallel", retentionMs: 30 * 86_400_000 };
 * }
 */
export interface FlowRunnerOptions extends Pick<EngineOptions, "engine" | "maxConcurrency" | "clock" | "random" | "deferReverts" | "neverResolve" | "onListenerError" | "executor"> {
  /**
   * How long after it has work to do (just started, given its input, resumed, or interrupted by
   * an eviction) the alarm runs a flow. Default 0: at once. Timers are always served at their
   * stored time. Tests set an hour and run the alarm by hand (`runDurableObjectAlarm`).
   */
  resumeDelayMs?: number;
  /**
   * How long a finished flow (SUCCESS, FAILURE, REVERTED) is kept after it ended: then the alarm
   * deletes its log book and its entry, `get(id)` answers NotFound and the id can start a new
   * flow. Default 7 days; `Infinity` keeps finished flows forever. A revision of a finished flow
   * keeps it until it has ended again, for as long again.
   */
  retentionMs?: number;
  /** The Worker secret (a binding of `env`) that HTTP requests must show as a bearer token. Default `"API_TOKEN"`. */
  tokenSecret?: string;
}

/**
 * What `start` returns: the flow's status, and whether this call created it.
 * @example
 * const { created, state } = await env.JOBS.getByName("jobs").start("order-1", "checkout", [], { cart });
 * if (!created) console.log("already started:", state);
 */
export interface Started extends FlowStatus {
  /** False when a flow with this id and the same input already existed: nothing new was started. */
  created: boolean;
}

/** Default of {@link FlowRunnerOptions.retentionMs}: a week. */
export const DEFAULT_RETENTION_MS = 7 * 24 * 3_600_000;
/** A collection that failed (the log book could not be deleted) is tried again this much later. */
const COLLECT_RETRY_MS = 3_600_000;

/**
 * What the runner holds in memory for one flow in this life of the object:
 * - `idle`: nothing under way; `engine` is the flow's engine once loaded (kept for the object's
 *   life, so every run and input of the flow goes through one engine), or undefined.
 * - `loading`: its engine is being built from the registry (a new flow) or from its log book.
 * - `running`: `engine` runs (a run by the alarm, a suspension's short run, a revert): inputs,
 *   suspend and cancel act on it at once; any other call waits for its turn.
 * - `cancelling`: `cancel()` asked the running engine to revert; turns wait until it is done,
 *   even if its run ended first (the engine then reverts outside the run).
 * Everything the object must not forget is in storage instead: the entry (runner-index.ts), the
 * log book, and the alarm.
 */
export type SlotState = "idle" | "loading" | "running" | "cancelling";

/** Which state a slot may move to from each state: every other move is a bug (`InvalidState`). */
export const SLOT_TRANSITIONS: { readonly [S in SlotState]: readonly SlotState[] } = {
  idle: ["loading", "running"],
  loading: ["idle"],
  running: ["idle", "cancelling"],
  cancelling: ["idle"],
};

interface Slot {
  state: SlotState;
  engine: Engine | undefined;
  /** The end of the flow's turns: a call about the flow starts when the one before has settled. */
  turns: Promise<void>;
  /** While `cancelling`: the cancels under way. */
  cancels: Promise<void> | undefined;
}

/** What a {@link FlowSlots} needs from its host (a Durable Object, or a test). */
export interface SlotsHost {
  /** Where the log books are. */
  readonly backend: Backend;
  /** The flows it may start, by name. */
  readonly flows: FlowRegistry;
  readonly options: FlowRunnerOptions;
  /** Synchronous key-value storage for the runner's entries (a Durable Object's `storage.kv`). */
  readonly kv: SyncKv;
  /** The host's one alarm (a Durable Object's storage). */
  readonly alarm: AlarmStorage;
  /** Called with each engine made for a flow (listeners). */
  observe(engine: Engine, id: string): void;
}

const noop = (): void => undefined;

/**
 * The flows of one FlowRunner: `start`, `get`, `logBook`, `provide`, `revise`, `suspend`,
 * `resume`, `cancel` (the RPC methods, with the same validation and errors) and `alarm`.
 * See {@link FlowRunner} for what they do; {@link SlotState} for what each flow is doing.
 */
export class FlowSlots {
  readonly #slots = new Map<string, Slot>();
  readonly #entries: FlowIndex;
  readonly #alarms: AlarmDriver;
  readonly #clock: Clock;

  constructor(private readonly host: SlotsHost) {
    this.#entries = new FlowIndex(host.kv);
    this.#clock = host.options.clock ?? systemClock;
    this.#alarms = new AlarmDriver({
      storage: host.alarm,
      clock: this.#clock,
      resumeDelayMs: host.options.resumeDelayMs ?? 0,
      activeIds: () => this.#entries.activeIds(),
      dueAt: async (id, now) => {
        const entry = this.#entries.get(id);
        if (!entry || entry.held || entry.error !== undefined) return undefined;
        return dueAt(entry, await this.#snapshot(entry), now);
      },
      run: (id) => this.#turn(id, () => this.#runIfDue(id)),
      expiries: () => this.#entries.expiries(),
      collect: (id) => this.#turn(id, () => this.#collect(id)),
    });
  }

  /** What the flow's slot is doing now (`idle` for a flow this life of the object has not touched). */
  stateOf(id: string): SlotState {
    return this.#slots.get(id)?.state ?? "idle";
  }

  async start(id: string, flow: string, args: Json[] = [], store: { [name: string]: Json } = {}): Promise<Started> {
    const request = {
      id: parse(schemas.flowId, id, "flow id"),
      flow: parse(schemas.flowName, flow, "flow name"),
      args: parse(schemas.flowArgs, args ?? [], "args"),
      store: parse(schemas.flowStore, store ?? {}, "store"),
    };
    return this.#turn(request.id, async () => {
      const existing = this.#entries.get(id);
      if (existing) {
        const differences = requestDifferences(existing, request.flow, request.args, request.store);
        if (differences.length > 0) {
          throw new Duplicate(`flow id "${id}" is taken by a flow started with other input (${differences.join("; ")}); start it under a new id, or send the same input to get the existing flow`);
        }
        // The object died between storing the request and writing the flow: write it now.
        if ((await this.#snapshot(existing)) === undefined) {
          await this.#create(existing);
          await this.#alarms.workAdded();
        }
        return { created: false, ...(await this.get(id)) };
      }
      const entry: FlowEntry = { ...request, createdAt: this.#clock.now(), held: false, runNow: false };
      try {
        await this.#create(entry);
      } catch (e) {
        this.#entries.delete(id); // refused or not written: the id stays free
        this.#slot(id).engine = undefined;
        await this.#alarms.reschedule();
        throw e;
      }
      await this.#alarms.workAdded();
      return { created: true, ...(await this.get(id)) };
    });
  }

  async get(id: string): Promise<FlowStatus> {
    const entry = this.#require(id);
    return statusOf(entry, await this.#snapshot(entry), this.#clock.now());
  }

  async logBook(id: string): Promise<FlowLog> {
    const entry = this.#require(id);
    const snap = await this.#snapshot(entry);
    if (!snap) throw new NotFound(`flow "${id}" has no log book yet: its start is still being written; ask again`);
    const backend = this.host.backend;
    const logBook = await stored(id, () => backend.getLogBook(snap.flowDetail.bookUuid));
    const records = { logBook, flowDetail: snap.flowDetail, atomDetails: await stored(id, () => backend.getAtomDetails(snap.uuid)) };
    return records as FlowLog; // records are checked storable data (the engine refuses anything else)
  }

  async provide(id: string, name: string, value: unknown): Promise<FlowStatus> {
    const input = parse(schemas.inputName, name, "input name");
    await this.#withEngine(id, "provide an input to", (engine) => provide(engine, input, value, { run: false }));
    await this.#alarms.workAdded();
    return this.get(id);
  }

  async revise(id: string, name: string, value: unknown): Promise<FlowStatus> {
    const input = parse(schemas.inputName, name, "input name");
    await this.#withEngine(id, "revise", (engine) => revise(engine, input, value, { run: false }));
    // Its state may not show the work to redo (a finished flow): say so, so the alarm runs it.
    this.#update(id, { runNow: true }, true);
    await this.#alarms.workAdded();
    return this.get(id);
  }

  async suspend(id: string): Promise<FlowStatus> {
    this.#refuseEnded(id, await this.#snapshot(this.#require(id)), "suspend");
    this.#update(id, { held: true }, true); // first: from here on, no alarm starts it
    this.#live(id)?.suspend();
    await this.#turn(id, async () => {
      const entry = this.#require(id);
      const snap = await this.#snapshot(entry);
      // A flow stored RUNNING (or never run) is run just long enough to be stored SUSPENDED.
      if (snap && snap.state !== "SUSPENDED" && !snap.isFinal) {
        await this.#runLive(id, await this.#engine(entry), async (engine) => {
          const states = runIter(engine);
          await states.next(); // RESUMING: the flow is RUNNING and nothing is scheduled yet
          await states.return(); // leaving the loop suspends the engine, as TaskFlow's run_iter does
        });
      }
    });
    await this.#alarms.reschedule();
    return this.get(id);
  }

  async resume(id: string): Promise<FlowStatus> {
    const entry = this.#require(id);
    if (!entry.runNow) this.#refuseEnded(id, await this.#snapshot(entry), "resume");
    this.#update(id, { held: false, error: undefined }, true);
    await this.#alarms.workAdded();
    return this.get(id);
  }

  async cancel(id: string, reason = "cancelled"): Promise<FlowStatus> {
    const why = parse(schemas.reason, reason ?? "cancelled", "reason");
    this.#require(id);
    const slot = this.#slot(id);
    if (slot.state === "running" || slot.state === "cancelling") {
      // The running engine cancels itself (aborting its tasks). If its run ends just before, the
      // engine runs the revert on its own, outside the run: the flow's turns wait for it.
      const engine = slot.engine as Engine;
      const cancelling = engine.cancel(why).catch(noop); // a failed revert ends FAILURE: see the status
      if (slot.state === "running") this.#move(slot, "cancelling");
      const all = Promise.allSettled([slot.cancels, cancelling]).then(noop);
      slot.cancels = all;
      slot.turns = Promise.allSettled([slot.turns, all]).then(noop);
      await all;
      if (slot.cancels === all) {
        slot.cancels = undefined;
        this.#move(slot, "idle");
      }
    } else {
      await this.#turn(id, async () => {
        const entry = this.#require(id);
        const snap = await this.#snapshot(entry);
        this.#refuseEnded(id, snap, "cancel");
        const engine = snap ? await this.#engine(entry) : await this.#create(entry);
        // Written ahead: an eviction mid-revert leaves an alarm that finishes the revert.
        this.#update(id, { runNow: true, held: false }, true);
        await this.#alarms.reschedule();
        await this.#runLive(id, engine, (e) => e.cancel(why));
      });
    }
    this.#update(id, { runNow: false, held: false });
    await this.#alarms.reschedule();
    return this.get(id);
  }

  /** The body of the host's `alarm()`: runs the flows that have work to do (see runner-alarm.ts). */
  alarm(): Promise<void> {
    return this.#alarms.drive();
  }

  #slot(id: string): Slot {
    let slot = this.#slots.get(id);
    if (!slot) this.#slots.set(id, (slot = { state: "idle", engine: undefined, turns: Promise.resolve(), cancels: undefined }));
    return slot;
  }

  #move(slot: Slot, to: SlotState): void {
    if (!SLOT_TRANSITIONS[slot.state].includes(to)) throw new InvalidState(`flow slot: ${slot.state} -> ${to} is not allowed`);
    slot.state = to;
  }

  /** The engine running the flow now (running or cancelling), if any. */
  #live(id: string): Engine | undefined {
    const slot = this.#slots.get(id);
    return slot?.state === "running" || slot?.state === "cancelling" ? slot.engine : undefined;
  }

  /**
   * Runs `task` in the flow's turn: once every earlier call about the flow has settled (and any
   * cancel under way). A Durable Object delivers a new call at each `await` of the one in
   * progress, so two calls about one flow would otherwise interleave their reads and writes.
   */
  #turn<T>(id: string, task: () => Promise<T>): Promise<T> {
    const slot = this.#slot(id);
    const result = slot.turns.then(task);
    const turns = result.then(noop, noop);
    slot.turns = turns;
    // A slot with nothing under way and no engine is forgotten: the table holds busy flows only.
    void turns.then(() => {
      if (slot.turns === turns && slot.state === "idle" && slot.engine === undefined && this.#slots.get(id) === slot) this.#slots.delete(id);
    });
    return result;
  }

  #require(id: string): FlowEntry {
    const entry = this.#entries.get(parse(schemas.flowId, id, "flow id"));
    if (!entry) throw new NotFound(`no flow "${id}" in this runner; start it first (POST /flows or start())`);
    return entry;
  }

  /** Changes an entry without an await in between reading and writing it. */
  #update(id: string, patch: Partial<FlowEntry>, active?: boolean): void {
    const entry = this.#entries.get(id);
    if (entry) this.#entries.put({ ...entry, ...patch }, active ?? this.#entries.isActive(id));
  }

  /** The flow has ended: no alarm runs it any more, and it is collected after the retention period. */
  #ended(id: string): void {
    const retention = this.host.options.retentionMs ?? DEFAULT_RETENTION_MS;
    const entry = this.#entries.get(id);
    if (entry) this.#entries.put(entry, false, Number.isFinite(retention) ? this.#clock.now() + retention : undefined);
  }

  #refuseEnded(id: string, snap: FlowSnapshot | undefined, action: string): void {
    if (snap?.isFinal) {
      throw new DisallowedAccess(`cannot ${action} flow "${id}": it has ended ${snap.state}; start a new flow to run it again`);
    }
  }

  /**
   * The flow read from its log book, or undefined while its start is not written.
   * @throws StorageFailure when its records do not read back (see {@link stored})
   */
  async #snapshot(entry: FlowEntry): Promise<FlowSnapshot | undefined> {
    const id = entry.flowDetailId;
    if (id === undefined) return undefined;
    return stored(entry.id, () => readSnapshot(this.host.backend, id)).catch((e: unknown) => {
      if (e instanceof NotFound) return undefined;
      throw e;
    });
  }

  /** Acts on the flow's engine: the running one at once (it picks the change up), else in turn. */
  async #withEngine(id: string, action: string, act: (engine: Engine) => Promise<void>): Promise<void> {
    this.#require(id);
    const live = this.#live(id);
    if (live) return act(live);
    return this.#turn(id, async () => {
      const entry = this.#require(id);
      const snap = await this.#snapshot(entry);
      if (!snap) throw new DisallowedAccess(`cannot ${action} flow "${id}" yet: its start is still being written; try again`);
      if (snap.state === "REVERTED" || snap.state === "FAILURE") this.#refuseEnded(id, snap, action);
      await act(await this.#engine(entry));
    });
  }

  /** In the flow's turn: builds the flow of an entry, checks its inputs, and writes it: the entry and the alarm first. */
  async #create(entry: FlowEntry): Promise<Engine> {
    const slot = this.#slot(entry.id);
    this.#move(slot, "loading");
    let engine: Engine;
    try {
      try {
        engine = this.host.flows.load(entry.flow, entry.args, { ...this.#engineOptions(), backend: this.host.backend, store: entry.store, book: { name: entry.id } });
      } catch (e) {
        throw new InvalidFormat(`cannot build flow "${entry.flow}" from args ${JSON.stringify(entry.args)}: ${(e as Error).message}`, { cause: e });
      }
      await engine.prepare();
      engine.validate(); // a missing input is refused now, not found by the alarm later
      this.host.observe(engine, entry.id);
    } finally {
      this.#move(slot, "idle");
    }
    // Read again, not written from `entry`: a suspend may have changed it during the awaits above.
    if (this.#entries.get(entry.id)) this.#update(entry.id, { flowDetailId: engine.flowDetailId }, true);
    else this.#entries.put({ ...entry, flowDetailId: engine.flowDetailId }, true);
    slot.engine = engine;
    await this.#alarms.reschedule(); // write-ahead: if the object dies before the next line, the alarm writes it
    await engine.save(); // the log book and the flow detail, PENDING (atoms are written as they start)
    return engine;
  }

  /** In the flow's turn: the flow's engine, loaded from its log book on first use. */
  async #engine(entry: FlowEntry): Promise<Engine> {
    const slot = this.#slot(entry.id);
    if (slot.engine) return slot.engine;
    this.#move(slot, "loading");
    try {
      const engine = await this.host.flows.loadFromDetail(this.host.backend, entry.flowDetailId as string, this.#engineOptions());
      this.host.observe(engine, entry.id);
      slot.engine = engine;
      return engine;
    } finally {
      this.#move(slot, "idle"); // a failed load is tried again by the next call
    }
  }

  #engineOptions(): Omit<EngineOptions, "backend" | "flowDetailId" | "factory"> {
    const { resumeDelayMs: _delay, tokenSecret: _secret, retentionMs: _retention, ...engine } = this.host.options;
    return { ...engine, maxWaitMs: 0 }; // never wait in-process: the alarm serves timers
  }

  /**
   * In the flow's turn: runs it if it has work to do now. Never throws: a flow that cannot run is
   * marked (its entry's `error`, shown by `get`), and one whose entry cannot even be read is taken
   * off the alarm's list (`get` says so), so that it holds back no other flow.
   */
  async #runIfDue(id: string): Promise<void> {
    let entry: FlowEntry | undefined;
    try {
      entry = this.#entries.get(id);
      if (!entry) return;
      const snap = await this.#snapshot(entry);
      const now = this.#clock.now();
      const due = dueAt(entry, snap, now);
      if (due === undefined || due > now) {
        if (snap?.isFinal && !entry.runNow) this.#ended(id);
        return;
      }
      const engine = snap ? await this.#engine(entry) : await this.#create(entry);
      this.#update(id, { runNow: false });
      await this.#runLive(id, engine, (e) => e.run());
    } catch (e) {
      // Running it again would fail the same way (a definition changed incompatibly, a value
      // too large to store, a corrupted record): stop, say why in its status, and wait for `resume`.
      this.#slot(id).engine = undefined;
      this.#broken(id, e, entry !== undefined);
      console.error(`FlowRunner: flow "${id}" stopped; fix the cause, then resume it:`, e);
    }
  }

  /** Marks a flow the runner cannot go on with: its entry says why, or, if that cannot be read, no alarm lists it any more. */
  #broken(id: string, e: unknown, readable: boolean): void {
    try {
      if (readable) return this.#update(id, { error: `${(e as Error).name}: ${(e as Error).message}` });
    } catch {
      // The entry went bad meanwhile: as below.
    }
    this.#entries.unschedule(id);
  }

  /** In the flow's turn: runs `how` on the flow's engine; a flow that ends REVERTED or FAILURE is not an error here. */
  async #runLive(id: string, engine: Engine, how: (engine: Engine) => Promise<void>): Promise<void> {
    const slot = this.#slot(id);
    this.#move(slot, "running");
    try {
      await how(engine);
    } catch (e) {
      // A flow that ended REVERTED or FAILURE rejects its run: that is its end, not an error. A
      // failed write is one even then (the engine ended in memory, not in storage); a task's own
      // StorageFailure is not: ask the storage, not the error's class.
      if (!ended(engine) || engine.storage.broken) throw e;
    } finally {
      if (slot.state === "running") this.#move(slot, "idle"); // a cancel under way moves it when done
    }
    if (ended(engine)) {
      this.#ended(id);
      slot.engine = undefined;
    }
  }

  /** In the flow's turn: deletes a finished flow whose retention period is over (its log book, then its entry). */
  async #collect(id: string): Promise<void> {
    let entry: FlowEntry | undefined;
    try {
      entry = this.#entries.get(id);
    } catch (e) {
      this.#broken(id, e, false); // nothing is deleted on the word of a record that does not read back
      console.error(`FlowRunner: finished flow "${id}" is not deleted: its entry cannot be read:`, e);
      return;
    }
    const expires = this.#entries.expiresAt(id);
    if (!entry || expires === undefined || expires > this.#clock.now()) return; // revised, or collected already
    try {
      const snap = await this.#snapshot(entry);
      if (snap) await this.host.backend.destroyLogBook(snap.flowDetail.bookUuid);
      this.#entries.delete(id);
      this.#slots.delete(id);
    } catch (e) {
      this.#entries.put(entry, false, this.#clock.now() + COLLECT_RETRY_MS);
      console.error(`FlowRunner: could not delete the log book of finished flow "${id}"; trying again later:`, e);
    }
  }
}

/**
 * Reads a flow's records: one that does not read back (corrupted, foreign, forged) is the
 * runner's storage failing, not the caller's request, so its InvalidFormat becomes a
 * StorageFailure (HTTP 500, not 400) naming the flow.
 */
async function stored<T>(id: string, read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (e) {
    if (!(e instanceof InvalidFormat)) throw e;
    throw new StorageFailure(`flow "${id}": its log book does not read back (${e.message}); the runner cannot go on with it`, { cause: e });
  }
}

function ended(engine: Engine): boolean {
  try {
    return isFinalFlowState(engine.storage.flowState);
  } catch {
    return false; // not even prepared
  }
}
