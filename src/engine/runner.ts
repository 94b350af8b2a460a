import { Cancelled, ExecutionFailure, RequestTimeout } from "../errors.js";
import { Failure } from "../failure.js";
import type { Clock } from "../ports/clock.js";
import type { AtomState, RunnerState } from "../states.js";
import type { Storage } from "../storage/storage.js";
import type { Executor } from "./actions/delegate.js";
import { ActionSignal, asFailure, type ActionHost, type AtomAction, type Hold } from "./actions/action.js";
import type { AtomNode, ExecNode, ExecutionGraph, RetryNode } from "./compiler.js";
import { skippedBy } from "./links.js";
import { Gates } from "./gates.js";
import type { Journal } from "./journal.js";
import { reconcile } from "./reconcile.js";
import { ReadyQueue } from "./ready-queue.js";
import { apply } from "./resolution.js";
import type { RunRequests } from "./run.js";
import type { Writer } from "./writer.js";

/** How a run runs: fixed when the engine is built. */
export interface RunOptions {
  readonly clock: Clock;
  readonly statistics: { executed: number; reverted: number; discardedFailures: number };
  readonly maxConcurrency: number;
  readonly maxWaitMs: number;
  readonly neverResolve: boolean;
  readonly deferReverts: boolean;
  readonly random: () => number;
  readonly executor: Executor | undefined;
  online(): boolean;
}

/** What a run works on: the flow detail loaded, reconciled with the definition. */
export interface Loaded {
  readonly graph: ExecutionGraph;
  readonly topo: readonly number[];
  readonly journal: Journal;
  readonly writer: Writer;
  readonly storage: Storage;
}

type Mode = "execute" | "revert";
type Outcome = { node: AtomNode; mode: Mode; ok: true; value: unknown } | { node: AtomNode; mode: Mode; ok: false; failure: Failure };

/** The promise every launch chains on, rather than a new one per atom. */
const STARTED = Promise.resolve();

/** Going back, atoms that never ran pass the order through rather than ending it. */
const NEVER_RAN = new Set<AtomState>(["PENDING", "IGNORE"]);

/**
 * One run of TaskFlow's runner state machine over a flow detail: RESUMING, then SCHEDULING,
 * WAITING and ANALYZING until nothing can progress, then the final state. Forward work and
 * reverts are scheduled together, as in TaskFlow, so a retried subflow reverts while the rest of
 * a parallel flow goes on.
 *
 * Its {@link Run} keeps what was asked before it existed (a suspend, a cancel), and it applies
 * that before anything is scheduled.
 */
export class Runner {
  #forward!: Gates;
  #backward!: Gates;
  #toExecute = new ReadyQueue();
  #toRevert = new ReadyQueue(true);
  /** Ready atoms held by what their action says they wait for: a time, an input, the network. */
  #held = new Map<AtomNode, Hold>();
  #inflight = 0;
  /** The atoms one scheduling step starts and how (lists written over by the next step: no list or pair per step). */
  readonly #started: AtomNode[] = [];
  readonly #modes: Mode[] = [];
  #completed: Outcome[] = [];
  #wakeUp: (() => void) | undefined;
  /** Failures that end the run FAILURE: revert failures, or any failure with `neverResolve`. */
  #failures: Failure[] = [];
  readonly #actions = new Set<ActionSignal>();
  readonly #loaded: Loaded;
  readonly #actionHost: ActionHost;
  readonly #options: RunOptions;

  constructor(options: RunOptions, loaded: Loaded) {
    this.#options = options;
    this.#loaded = loaded;
    this.#actionHost = { journal: loaded.journal, storage: loaded.storage, clock: options.clock, online: () => options.online(), random: options.random, executor: options.executor };
  }

  get #journal(): Journal {
    return this.#loaded.journal;
  }

  /** Lets running atoms finish, starts nothing new, and ends SUSPENDED. */
  suspend(): void {
    if (this.#journal.moveFlow("SUSPENDING")) this.poke();
  }

  /** Aborts what runs and reverts everything (the cancel mark is stored by the engine). */
  cancel(cancelled: { reason: string; at: number }): void {
    this.abortActions(new Cancelled(`flow "${this.#journal.flowDetail.name}" was cancelled: ${cancelled.reason}`));
    this.revertAll();
  }

  /** Something outside changed (suspend, cancel, back online): look again. */
  poke(): void {
    const wake = this.#wakeUp;
    this.#wakeUp = undefined;
    wake?.();
  }

  /** Aborts the signals of running actions (a cancel, or a run that failed). */
  abortActions(reason: unknown): void {
    for (const a of this.#actions) a.abort(reason);
  }

  /** Runs until nothing can progress; `asked`: a suspend or a cancel that came while the run was starting. */
  async run(asked: RunRequests, hook: ((state: RunnerState) => Promise<void>) | undefined): Promise<void> {
    const loaded = this.#loaded;
    const { journal } = loaded;
    // What the records say to replay, read as they are now (this engine may have run them before).
    const reconciled = reconcile(loaded.graph, journal.flowDetail, journal.atomDetails(), this.#options.clock.now(), true);
    // A cancel is final: running the flow again does not undo it behind the user's back (reset() does).
    const { cancelled: stored } = journal.flowDetail;
    if (reconciled.startOver && stored && !asked.cancel) throw this.#cancelled(stored.reason, "run it again after engine.reset()");
    if (reconciled.startOver) this.#resetReverted();
    if (reconciled.crashed) {
      // The host went away mid-run: report it as TaskFlow does before running again.
      journal.moveFlow("RESUMING");
      journal.moveFlow("SUSPENDED");
    }
    journal.moveFlow("RUNNING");
    if (asked.suspend) journal.moveFlow("SUSPENDING");
    if (hook) await hook("RESUMING");
    // A retry stored RETRYING goes on with its next try; its flow must be PENDING for that.
    for (const r of reconciled.retries) if (journal.detail(r).state === "RETRYING") this.#resetSubgraph(r);
    this.#rebuild();
    for (const n of reconciled.failures) {
      // A failure stored before the host went away is resolved again (TaskFlow's RESUMING).
      const d = journal.detail(n);
      if (d.state === "FAILURE" && d.intention === "EXECUTE") this.#resolve(n, journal.failureOf(n.name) as Failure);
    }
    const cancelled = asked.cancel;
    if (cancelled) {
      // Stored again: starting over a REVERTED flow (above) cleared the one cancel() stored.
      journal.updateFlow({ cancelled });
      this.revertAll();
    }

    let next: "SCHEDULING" | "WAITING" = "SCHEDULING";
    for (;;) {
      if (next === "SCHEDULING") {
        if (hook) await hook("SCHEDULING");
        await this.#schedule();
      }
      if (hook) await hook("WAITING");
      if (this.#completed.length === 0) await this.#waitForSomething();
      if (hook) await hook("ANALYZING");
      this.#analyze();
      this.#release();
      if (this.#canSchedule()) next = "SCHEDULING";
      else if (this.#inflight > 0 || this.#willWait()) next = "WAITING";
      else break;
    }
    const end = this.#gameOver();
    this.#recordWhy(end);
    // TaskFlow's table reaches SUSPENDED only through SUSPENDING.
    if (end === "SUSPENDED" && journal.flowState === "RUNNING") journal.moveFlow("SUSPENDING");
    journal.moveFlow(end);
    await loaded.writer.commit();
    if (hook) await hook(end);
    if (end === "FAILURE") Failure.reraiseIfAny(this.#failures);
    if (end === "REVERTED") {
      const { storage } = loaded;
      const cancelled = storage.flowDetail.cancelled;
      if (cancelled) throw this.#cancelled(cancelled.reason);
      Failure.reraiseIfAny([...Object.values(storage.executeFailures()), ...Object.values(storage.revertFailures())]);
      // Reverted with no failure and no cancel stored (a write that carried them was lost):
      // still no success.
      throw new ExecutionFailure(`flow "${storage.flowDetail.name}" was reverted, and its log book does not say why (no failure or cancel is stored); check its atoms' states before running it again`);
    }
  }

  #cancelled(reason: string, then?: string): Cancelled {
    return new Cancelled(`flow "${this.#journal.flowDetail.name}" was cancelled and reverted: ${reason}${then ? `; ${then}` : ""}`);
  }

  /** Sets every intention to REVERT (a cancel) and looks again. */
  revertAll(): void {
    apply(this.#journal, this.#loaded.graph, { kind: "REVERT_ALL", implicit: false });
    this.refresh();
  }

  /** Intentions or inputs changed from outside (a provide, a revision): look again. */
  refresh(): void {
    this.#rebuild();
    this.poke();
  }

  // --- readiness ----------------------------------------------------------------------------

  /**
   * Recomputes what can run and what can be reverted from the stored states. Done at the start
   * of a run and when intentions change (a failure resolved, a retry reset): O(atoms + edges).
   */
  #rebuild(): void {
    const { journal, graph, topo } = this.#loaded as Loaded;
    this.#toExecute = new ReadyQueue();
    this.#toRevert = new ReadyQueue(true);
    this.#held.clear();
    const succeeded = (n: AtomNode) => {
      const d = journal.detail(n);
      return d.state === "IGNORE" || (d.state === "SUCCESS" && d.intention === "EXECUTE");
    };
    this.#forward = new Gates(graph.nodes, "forward", topo, (n) => !n.atom || succeeded(n));
    this.#forward.init((n) => this.#openForward(n));
    // Going back, what was reverted, never ran, or stays as it is (an atom a revision leaves
    // alone) passes the order through.
    const settled = (n: AtomNode) => {
      const d = journal.detail(n);
      // A retry between two tries (RETRYING) has nothing of this try to undo: its flow was reverted.
      return NEVER_RAN.has(d.state) || d.state === "REVERTED" || d.state === "RETRYING" || (d.state === "SUCCESS" && d.intention === "EXECUTE");
    };
    this.#backward = new Gates(graph.nodes, "backward", topo, (n) => !n.atom || settled(n));
    this.#backward.init((n) => this.#openBackward(n));
    // An execute cut short by a crash runs again, unless its flow has since turned to reverting
    // (a cancel, a failure elsewhere): then it is reverted without executing again.
    for (const n of graph.atoms.values()) if (this.#isInterruptedRun(n)) this.#toExecute.push(n);
  }

  /** Stored RUNNING by a host that went away, and still meant to execute. */
  #isInterruptedRun(n: AtomNode): boolean {
    const d = this.#journal.detail(n);
    return d.state === "RUNNING" && d.intention === "EXECUTE" && this.#journal.isInterrupted(n.name);
  }

  #isExecuteReady(n: AtomNode): boolean {
    const d = this.#journal.detail(n);
    if (this.#isInterruptedRun(n)) return true;
    return d.intention === "EXECUTE" && (d.state === "PENDING" || d.state === "RETRYING");
  }

  #isRevertReady(n: AtomNode): boolean {
    const d = this.#journal.detail(n);
    if (d.intention !== "REVERT" && d.intention !== "RETRY") return false;
    return d.state === "SUCCESS" || d.state === "FAILURE" || ((d.state === "REVERTING" || d.state === "RUNNING") && this.#journal.isInterrupted(n.name));
  }

  #openForward(n: ExecNode): void {
    if (!n.atom) {
      this.#applyDeciders(n);
      return;
    }
    if (!this.#isExecuteReady(n) || this.#applyDeciders(n)) return;
    this.#gate(n);
  }

  /** Queues a ready atom, or holds it for what its action says it waits for: an input, a time, the network. */
  #gate(n: AtomNode): void {
    const hold = (n.atom.action as AtomAction).hold(n, this.#actionHost);
    if (hold) this.#held.set(n, hold);
    else this.#toExecute.push(n);
  }

  #openBackward(n: ExecNode): void {
    if (n.atom && this.#backward.isOpen(n) && this.#isRevertReady(n)) this.#toRevert.push(n);
  }

  /** Moves held atoms whose time has come, input arrived, or network is back, to the ready queue. */
  #release(): void {
    // Most runs hold nothing: no clock read, no iterator, per step.
    if (this.#held.size === 0) return;
    const now = this.#options.clock.now();
    const over: AtomNode[] = [];
    for (const [n, hold] of this.#held) if (hold.over(this.#actionHost, now)) over.push(n);
    // Gated again once the walk is done: an atom held anew is not met twice in one walk.
    for (const n of over) {
      this.#held.delete(n);
      this.#gate(n);
    }
  }

  /** The next time a timer holds an atom until (a wait's deadline ends the run instead, for the host to run it then). */
  #nextWakeAt(): number | undefined {
    let next: number | undefined;
    for (const h of this.#held.values()) if (h.reason === "waiting" && h.at !== undefined && (next === undefined || h.at < next)) next = h.at;
    return next;
  }

  #canSchedule(): boolean {
    return this.#journal.flowState === "RUNNING" && this.#failures.length === 0 && this.#toExecute.size + this.#toRevert.size > 0;
  }

  /** Whether the run should wait in-process for its next timer rather than end. */
  #willWait(): boolean {
    const at = this.#nextWakeAt();
    return at !== undefined && this.#journal.flowState === "RUNNING" && this.#failures.length === 0 && at - this.#options.clock.now() <= this.#options.maxWaitMs;
  }

  // --- deciders -----------------------------------------------------------------------------

  /** Evaluates the deciders on links into `n`; on a "no", skips its region. Returns whether `n` was skipped. */
  #applyDeciders(n: ExecNode): boolean {
    if (n.deciders.length === 0) return false;
    const { graph, journal } = this.#loaded as Loaded;
    const widest = skippedBy(graph, journal, n);
    if (!widest) return false;
    for (const a of widest) {
      if (journal.detail(a).state !== "PENDING") continue;
      journal.transition(a, "IGNORE", { intention: "IGNORE" });
      this.#forward.markDone(a, (m) => this.#openForward(m));
    }
    return (widest as ExecNode[]).includes(n) || !n.atom;
  }

  // --- scheduling ---------------------------------------------------------------------------

  /** Starts ready atoms up to the concurrency limit, after committing that they are running. */
  async #schedule(): Promise<void> {
    const journal = this.#journal;
    const started = this.#started;
    let count = 0;
    while (this.#inflight + count < this.#options.maxConcurrency && this.#canSchedule()) {
      const reverting = this.#toRevert.size > 0;
      const node = (reverting ? this.#toRevert.pop() : this.#toExecute.pop()) as AtomNode;
      if (reverting) {
        if (!this.#isRevertReady(node) || !this.#backward.isOpen(node)) continue;
        if (journal.detail(node).intention === "RETRY") {
          (node as RetryNode).atom.action.again(node as RetryNode, this.#actionHost);
          this.#rebuild();
          continue;
        }
        journal.transition(node, "REVERTING");
        this.#modes[count] = "revert";
      } else {
        if (!this.#isExecuteReady(node)) continue;
        journal.transition(node, "RUNNING", { fields: { attempts: (journal.detail(node).attempts ?? 0) + 1 } });
        this.#modes[count] = "execute";
      }
      started[count++] = node;
    }
    await this.#loaded.writer.commit(); // write-ahead: RUNNING/REVERTING is stored before the action starts
    for (let i = 0; i < count; i++) this.#launch(started[i] as AtomNode, this.#modes[i] as Mode);
  }

  /** The atoms of a retrying flow go back to PENDING to run again, their old timers forgotten. */
  #resetSubgraph(retry: RetryNode): void {
    for (const a of retry.subgraph) this.#journal.startOver(a);
  }

  #launch(node: AtomNode, mode: Mode): void {
    const { clock } = this.#options;
    const action = node.atom.action as AtomAction;
    this.#inflight++;
    const signal = new ActionSignal();
    this.#actions.add(signal);
    let settled = false;
    const timeoutMs = mode === "execute" ? action.timeoutMs?.(node) : undefined;
    // Only a task with a timeout needs a cancellable timer (an AbortController is not free).
    const stopTimer = timeoutMs !== undefined ? new AbortController() : undefined;
    const finish = (outcome: Outcome) => {
      if (settled) return;
      settled = true;
      stopTimer?.abort();
      this.#actions.delete(signal);
      this.#inflight--;
      this.#completed.push(outcome);
      this.poke();
    };
    const failed = (error: unknown) => finish({ node, mode, ok: false, failure: asFailure.has(error as object) ? (error as Failure) : Failure.fromError(error) });
    if (stopTimer) {
      void clock.sleep(timeoutMs as number, stopTimer.signal).then(() => {
        if (settled) return;
        const error = new RequestTimeout(`task "${node.name}" did not finish within ${timeoutMs} ms`);
        signal.abort(error);
        failed(error);
      });
    }
    const done = (value: unknown) => finish({ node, mode, ok: true, value });
    // The action starts in a microtask of its own, after every atom of this step is launched; a
    // throw, sync or async, becomes a Failure. An action that returns a value, not a promise (a
    // task whose execute is synchronous), is finished at once: no promise of its own, and the
    // runner finds its outcome without waiting for it.
    // One reaction, its throw caught inside: a `.catch` would cost a second promise per atom.
    void STARTED.then(() => {
      try {
        this.#journal.reportProgress(node.name, 0);
        const value = mode === "execute" ? action.execute(node, this.#actionHost, signal) : action.revert(node, this.#actionHost, signal);
        if (value instanceof Promise) value.then(done, failed);
        else done(value);
      } catch (e) {
        failed(e);
      }
    });
  }

  /** Waits for an action to finish, a timer to come due, or a poke from outside. */
  async #waitForSomething(): Promise<void> {
    const { clock, maxWaitMs } = this.#options;
    const at = this.#nextWakeAt();
    const sleeping = at !== undefined && this.#journal.flowState === "RUNNING" && at - clock.now() <= maxWaitMs;
    if (this.#inflight === 0 && !sleeping) return;
    await this.#loaded.writer.commit(); // group commit: results that arrived while nothing new could start
    if (this.#completed.length > 0) return;
    const woken = new Promise<void>((resolve) => (this.#wakeUp = resolve));
    if (!sleeping) {
      await woken;
      return;
    }
    // Only a timed wait needs a cancellable sleep (an AbortController per wait is not free).
    const stop = new AbortController();
    await Promise.race([woken, clock.sleep((at as number) - clock.now(), stop.signal)]);
    stop.abort();
    this.#wakeUp = undefined;
  }

  // --- analysis -----------------------------------------------------------------------------

  /** Records finished actions and works out what they unblock. */
  #analyze(): void {
    const journal = this.#journal;
    const { statistics } = this.#options;
    // Taken one by one, not spliced out: a list emptied at once drops its storage, and the next
    // outcome pushed allocates 17 slots anew (about 0.2 KB an atom on the serial engine).
    for (let o; (o = this.#completed.shift()); ) {
      const { node } = o;
      if (o.mode === "execute") {
        statistics.executed++;
        if (o.ok) {
          const d = journal.transition(node, "SUCCESS", { result: o.value, failure: null });
          journal.reportProgress(node.name, 1);
          (node.atom.action as AtomAction).succeeded?.(node, this.#actionHost);
          if (d.intention === "EXECUTE") this.#forward.markDone(node, (n) => this.#openForward(n));
          else this.#openBackward(node);
        } else {
          // A retry's result is its history of tries: a failed try keeps it.
          const d = journal.transition(node, "FAILURE", { failure: o.failure, ...(node.kind === "retry" ? {} : { result: undefined }) });
          if (d.intention !== "EXECUTE") this.#openBackward(node); // already being reverted (a cancel)
          else this.#resolve(node, o.failure);
        }
      } else {
        statistics.reverted++;
        if (o.ok) {
          const requeue = journal.detail(node).requeue === true;
          journal.transition(node, "REVERTED", { revertResult: o.value, revertFailure: null, ...(node.kind === "retry" ? { result: [] } : {}) });
          journal.reportProgress(node.name, 1);
          if (requeue) {
            journal.transition(node, "PENDING", { intention: "EXECUTE", result: undefined, failure: null, fields: { requeue: undefined } });
            this.#rebuild();
          } else this.#backward.markDone(node, (n) => this.#openBackward(n));
        } else {
          journal.transition(node, "REVERT_FAILURE", { revertFailure: o.failure });
          this.#failures.push(o.failure);
        }
      }
    }
  }

  /** Decides what a failure of `node` means, sets the intentions, and looks again. */
  #resolve(node: AtomNode, failure: Failure): void {
    const { neverResolve, deferReverts } = this.#options;
    const { journal, graph } = this.#loaded as Loaded;
    if (neverResolve) {
      this.#failures.push(failure);
      return;
    }
    if ((node.atom.action as AtomAction).needsNetwork?.(node) && !this.#options.online()) {
      // Failing while offline says nothing about the task: undo it and wait for the network,
      // without spending an attempt of its retry.
      journal.intend(node.name, "REVERT", { requeue: true });
      this.#options.statistics.discardedFailures++;
    } else {
      // The nearest retry controller decides (its action holds how); with none, revert everything.
      const retry = node.retry;
      apply(journal, graph, retry ? retry.atom.action.decide(retry, node, failure, this.#actionHost, deferReverts) : { kind: "REVERT_ALL", implicit: true });
    }
    this.#rebuild();
  }

  #resetReverted(): void {
    const journal = this.#journal;
    // A retry cancelled between two tries (RETRYING) ran nothing of its next try: it starts over
    // with a new history. TaskFlow's table has no way out of RETRYING but RUNNING, hence `force`.
    for (const n of this.#loaded.graph.atoms.values()) journal.startOver(n, journal.detail(n).state === "RETRYING");
    journal.updateFlow({ cancelled: undefined });
    journal.moveFlow("PENDING");
  }

  // --- the end ------------------------------------------------------------------------------

  #gameOver(): "SUCCESS" | "FAILURE" | "REVERTED" | "SUSPENDED" {
    if (this.#failures.length > 0) return "FAILURE";
    if (this.#toExecute.size + this.#toRevert.size + this.#held.size > 0) return "SUSPENDED";
    const details = this.#journal.atomDetails();
    if (details.every((d) => d.state === "SUCCESS" || d.state === "IGNORE")) return "SUCCESS";
    return "REVERTED";
  }

  /** Writes why a suspended flow stopped, so a host that loads it knows what it waits for. */
  #recordWhy(end: string): void {
    if (end !== "SUSPENDED") {
      this.#journal.stopped(undefined);
      return;
    }
    // Stopped by its holds alone: by an input first, then a time, then the network. What its
    // waits wait for is stored in any case (a suspended flow still shows them).
    const queued = this.#toExecute.size + this.#toRevert.size > 0;
    let reason = queued ? "suspended" : "offline";
    let wakeAt: number | undefined;
    const waitingFor = [];
    for (const h of this.#held.values()) {
      if (h.input) waitingFor.push(h.input);
      if (queued) continue;
      if (h.reason === "input" || (h.reason === "waiting" && reason === "offline")) reason = h.reason;
      if (h.at !== undefined && (wakeAt === undefined || h.at < wakeAt)) wakeAt = h.at;
    }
    this.#journal.stopped({ reason, wakeAt, waitingFor });
  }
}

