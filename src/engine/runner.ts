import { backoffDelay } from "../atoms/backoff.js";
import type { Retry } from "../atoms/retry.js";
import { Sleep } from "../atoms/sleep.js";
import { WaitFor } from "../atoms/wait-for.js";
import type { Task } from "../atoms/task.js";
import { Cancelled, RequestTimeout } from "../errors.js";
import { Failure } from "../failure.js";
import type { Notifier } from "../notify/notifier.js";
import type { Clock } from "../ports/clock.js";
import type { AtomState, RunnerState } from "../states.js";
import type { Storage } from "../storage/storage.js";
import { ActionSignal, execute, historyOf, revert } from "./actions.js";
import type { ExecNode, ExecutionGraph } from "./compiler.js";
import { ignoredRegion } from "./deciders.js";
import { Gates } from "./gates.js";
import { ReadyQueue } from "./ready-queue.js";
import { apply, determine } from "./resolution.js";
import type { Transitions } from "./transitions.js";

// Transitions travel in this chunk: a page loads them with the runner, in one request.
export { Transitions } from "./transitions.js";

/** What a run needs from its engine. */
export interface RunHost {
  readonly storage: Storage;
  readonly graph: ExecutionGraph;
  readonly topo: readonly number[];
  readonly clock: Clock;
  readonly notifier: Notifier;
  readonly transitions: Transitions;
  readonly stale: Set<string>;
  readonly statistics: { executed: number; reverted: number; discardedFailures: number };
  readonly maxConcurrency: number;
  readonly maxWaitMs: number;
  readonly neverResolve: boolean;
  readonly deferReverts: boolean;
  readonly random: () => number;
  online(): boolean;
  /** Whether suspend() was asked while the run was starting: it ends before scheduling anything. */
  suspendAsked(): boolean;
  /** A cancel() asked while the run was starting: it reverts before scheduling anything. */
  cancelAsked(): { reason: string; at: number } | undefined;
  commit(): Promise<void>;
}

type Mode = "execute" | "revert";
type Outcome = { node: ExecNode; mode: Mode; ok: true; value: unknown } | { node: ExecNode; mode: Mode; ok: false; failure: Failure };

/** Going back, atoms that never ran pass the order through rather than ending it. */
const NEVER_RAN = new Set<AtomState>(["PENDING", "IGNORE"]);

/**
 * One run of TaskFlow's runner state machine over a flow detail: RESUMING, then SCHEDULING,
 * WAITING and ANALYZING until nothing can progress, then the final state. Forward work and
 * reverts are scheduled together, as in TaskFlow, so a retried subflow reverts while the rest of
 * a parallel flow goes on.
 */
export class Runner {
  private forward!: Gates;
  private backward!: Gates;
  private toExecute = new ReadyQueue();
  private toRevert = new ReadyQueue(true);
  /** Ready atoms that wait for a time (a sleep, a retry's backoff), with that time. */
  private timed = new Map<ExecNode, number>();
  /** Ready atoms that need the network while the host is offline. */
  private offline = new Set<ExecNode>();
  /** Waits whose input has not come yet, with their deadlines. */
  private awaiting = new Map<ExecNode, number | undefined>();
  private inflight = 0;
  private completed: Outcome[] = [];
  private wakeUp: (() => void) | undefined;
  /** Failures that end the run FAILURE: revert failures, or any failure with `neverResolve`. */
  private failures: Failure[] = [];
  private readonly actions = new Set<ActionSignal>();

  constructor(private readonly host: RunHost) {}

  /** Something outside changed (suspend, cancel, back online): look again. */
  poke(): void {
    const wake = this.wakeUp;
    this.wakeUp = undefined;
    wake?.();
  }

  /** Aborts the signals of running actions (a cancel, or a run that failed). */
  abortActions(reason: unknown): void {
    for (const a of this.actions) a.abort(reason);
  }

  async run(hook: ((state: RunnerState) => Promise<void>) | undefined): Promise<void> {
    const { storage, transitions } = this.host;
    if (storage.flowState === "REVERTED") this.resetReverted();
    if (storage.flowState === "RUNNING" || storage.flowState === "SUSPENDING") {
      // The host went away mid-run: report it as TaskFlow does before running again.
      transitions.flow("RESUMING");
      transitions.flow("SUSPENDED");
    }
    transitions.flow("RUNNING");
    if (this.host.suspendAsked()) transitions.flow("SUSPENDING");
    if (hook) await hook("RESUMING");
    for (const d of storage.atomDetails()) {
      // A retry stored RETRYING goes on with its next try; its flow must be PENDING for that.
      if (d.state === "RETRYING" && d.intention === "EXECUTE") this.resetSubgraph(this.node(d.name));
    }
    this.rebuild();
    for (const d of storage.atomDetails()) {
      // A failure stored before the host went away is resolved again (TaskFlow's RESUMING).
      if (d.state === "FAILURE" && d.intention === "EXECUTE") this.resolve(this.node(d.name), storage.getFailure(d.name) as Failure);
    }
    const cancelled = this.host.cancelAsked();
    if (cancelled) {
      // Stored again: starting over a REVERTED flow (above) cleared the one cancel() stored.
      storage.setFlow({ meta: { ...storage.flowDetail.meta, cancelled } });
      this.revertAll();
    }

    let next: "SCHEDULING" | "WAITING" = "SCHEDULING";
    for (;;) {
      if (next === "SCHEDULING") {
        if (hook) await hook("SCHEDULING");
        await this.schedule();
      }
      if (hook) await hook("WAITING");
      if (this.completed.length === 0) await this.waitForSomething();
      if (hook) await hook("ANALYZING");
      this.analyze();
      this.release();
      if (this.canSchedule()) next = "SCHEDULING";
      else if (this.inflight > 0 || this.willWait()) next = "WAITING";
      else break;
    }
    const end = this.gameOver();
    this.recordWhy(end);
    // TaskFlow's table reaches SUSPENDED only through SUSPENDING.
    if (end === "SUSPENDED" && storage.flowState === "RUNNING") transitions.flow("SUSPENDING");
    transitions.flow(end);
    await this.host.commit();
    if (hook) await hook(end);
    if (end === "FAILURE") Failure.reraiseIfAny(this.failures);
    if (end === "REVERTED") {
      const cancelled = storage.flowDetail.meta.cancelled;
      if (cancelled) throw new Cancelled(`flow "${storage.flowDetail.name}" was cancelled and reverted: ${cancelled.reason}`);
      Failure.reraiseIfAny([...Object.values(storage.executeFailures()), ...Object.values(storage.revertFailures())]);
    }
  }

  /** Sets every intention to REVERT (a cancel) and looks again. */
  revertAll(): void {
    apply(this.host.storage, this.host.graph, { kind: "REVERT_ALL", implicit: false });
    this.refresh();
  }

  /** Intentions or inputs changed from outside (a provide, a revision): look again. */
  refresh(): void {
    this.rebuild();
    this.poke();
  }

  // --- readiness ----------------------------------------------------------------------------

  /**
   * Recomputes what can run and what can be reverted from the stored states. Done at the start
   * of a run and when intentions change (a failure resolved, a retry reset): O(atoms + edges).
   */
  private rebuild(): void {
    const { storage, graph, topo } = this.host;
    this.toExecute = new ReadyQueue();
    this.toRevert = new ReadyQueue(true);
    this.timed.clear();
    this.offline.clear();
    this.awaiting.clear();
    const detail = (n: ExecNode) => storage.detail(n.name);
    const succeeded = (n: ExecNode) => {
      const d = detail(n);
      return d.state === "IGNORE" || (d.state === "SUCCESS" && d.intention === "EXECUTE");
    };
    this.forward = new Gates(graph.nodes, "forward", topo, (n) => !n.atom || succeeded(n));
    this.forward.init((n) => this.openForward(n));
    // Going back, what was reverted, never ran, or stays as it is (an atom a revision leaves
    // alone) passes the order through.
    const settled = (n: ExecNode) => {
      const d = detail(n);
      // A retry between two tries (RETRYING) has nothing of this try to undo: its flow was reverted.
      return NEVER_RAN.has(d.state) || d.state === "REVERTED" || d.state === "RETRYING" || (d.state === "SUCCESS" && d.intention === "EXECUTE");
    };
    this.backward = new Gates(graph.nodes, "backward", topo, (n) => !n.atom || settled(n));
    this.backward.init((n) => this.openBackward(n));
    // An execute cut short by a crash runs again, even if the flow has since turned to reverting.
    for (const name of this.host.stale) {
      const n = this.node(name);
      if (this.isStaleRun(n)) this.toExecute.push(n);
    }
  }

  private node(name: string): ExecNode {
    return this.host.graph.atoms.get(name) as ExecNode;
  }

  private isStaleRun(n: ExecNode): boolean {
    return this.host.stale.has(n.name) && this.host.storage.detail(n.name).state === "RUNNING";
  }

  private isExecuteReady(n: ExecNode): boolean {
    const d = this.host.storage.detail(n.name);
    if (this.isStaleRun(n)) return true;
    return d.intention === "EXECUTE" && (d.state === "PENDING" || d.state === "RETRYING");
  }

  private isRevertReady(n: ExecNode): boolean {
    const d = this.host.storage.detail(n.name);
    if (d.intention !== "REVERT" && d.intention !== "RETRY") return false;
    return d.state === "SUCCESS" || d.state === "FAILURE" || (d.state === "REVERTING" && this.host.stale.has(n.name));
  }

  private openForward(n: ExecNode): void {
    if (!n.atom) {
      this.applyDeciders(n);
      return;
    }
    if (!this.isExecuteReady(n) || this.applyDeciders(n)) return;
    this.gate(n);
  }

  /** Queues a ready atom, or holds it for its input, its wake-up time or the network. */
  private gate(n: ExecNode): void {
    const { storage, clock } = this.host;
    if (n.atom instanceof WaitFor && storage.getAtomState(n.name) === "PENDING") {
      const inputs = storage.flowDetail.meta.inputs;
      let deadline = storage.detail(n.name).meta.deadline;
      if (deadline === undefined && n.atom.timeoutMs !== undefined) {
        deadline = clock.now() + n.atom.timeoutMs; // stored, so a reload keeps the same deadline
        storage.setAtomMeta(n.name, { deadline });
      }
      const due = deadline !== undefined && deadline <= clock.now();
      if (!(inputs && n.atom.input in inputs) && !due) {
        this.awaiting.set(n, deadline);
        return;
      }
    }
    let wakeAt = storage.detail(n.name).meta.wakeAt;
    if (wakeAt === undefined && n.atom instanceof Sleep && storage.getAtomState(n.name) === "PENDING") {
      // Stored before the engine waits, so a host that goes away resumes the same wait.
      const w = n.atom.wait;
      wakeAt = "at" in w ? w.at : clock.now() + w.afterMs;
      storage.setAtomMeta(n.name, { wakeAt });
    }
    if (wakeAt !== undefined && wakeAt > clock.now()) this.timed.set(n, wakeAt);
    else if ((n.atom as Task<any>).needsNetwork && !this.host.online()) this.offline.add(n);
    else this.toExecute.push(n);
  }

  private openBackward(n: ExecNode): void {
    if (n.atom && this.backward.isOpen(n) && this.isRevertReady(n)) this.toRevert.push(n);
  }

  /** Moves held atoms whose time has come, input arrived, or network is back, to the ready queue. */
  private release(): void {
    const now = this.host.clock.now();
    const inputs = this.host.storage.flowDetail.meta.inputs ?? {};
    for (const [n, deadline] of this.awaiting) {
      if (!((n.atom as WaitFor).input in inputs) && !(deadline !== undefined && deadline <= now)) continue;
      this.awaiting.delete(n);
      this.gate(n);
    }
    for (const [n, at] of this.timed) {
      if (at > now) continue;
      this.timed.delete(n);
      this.gate(n);
    }
    if (this.offline.size > 0 && this.host.online()) {
      const held = [...this.offline];
      this.offline.clear();
      for (const n of held) this.gate(n);
    }
  }

  private nextWakeAt(): number | undefined {
    let next: number | undefined;
    for (const at of this.timed.values()) if (next === undefined || at < next) next = at;
    return next;
  }

  private canSchedule(): boolean {
    return this.host.storage.flowState === "RUNNING" && this.failures.length === 0 && this.toExecute.size + this.toRevert.size > 0;
  }

  /** Whether the run should wait in-process for its next timer rather than end. */
  private willWait(): boolean {
    const at = this.nextWakeAt();
    return at !== undefined && this.host.storage.flowState === "RUNNING" && this.failures.length === 0 && at - this.host.clock.now() <= this.host.maxWaitMs;
  }

  // --- deciders -----------------------------------------------------------------------------

  /** Evaluates the deciders on links into `n`; on a "no", skips its region. Returns whether `n` was skipped. */
  private applyDeciders(n: ExecNode): boolean {
    if (n.deciders.length === 0) return false;
    const { graph, storage, transitions } = this.host;
    let widest: ExecNode[] | undefined;
    for (const { from, decider, depth } of n.deciders) {
      const source = graph.nodes[from] as ExecNode;
      const sources = source.atom ? [source] : [...graph.atoms.values()].filter((a) => a.path.includes(source.scope.flow));
      const history: Record<string, unknown> = {};
      for (const s of sources) {
        const d = storage.detail(s.name);
        if (d.state === "SUCCESS") history[s.name] = d.result;
      }
      if (Object.keys(history).length === 0 && sources.length > 0) continue;
      if (!decider(history)) {
        const region = ignoredRegion(graph, n, depth);
        if (!widest || region.length > widest.length) widest = region;
      }
    }
    if (!widest) return false;
    for (const a of widest) {
      if (storage.getAtomState(a.name) !== "PENDING") continue;
      transitions.atom(a, "IGNORE", { intention: "IGNORE" });
      this.forward.markDone(a, (m) => this.openForward(m));
    }
    return widest.includes(n) || !n.atom;
  }

  // --- scheduling ---------------------------------------------------------------------------

  /** Starts ready atoms up to the concurrency limit, after committing that they are running. */
  private async schedule(): Promise<void> {
    const { storage, transitions, maxConcurrency } = this.host;
    const started: Array<{ node: ExecNode; mode: Mode }> = [];
    while (this.inflight + started.length < maxConcurrency && this.canSchedule()) {
      const reverting = this.toRevert.size > 0;
      const node = (reverting ? this.toRevert.pop() : this.toExecute.pop()) as ExecNode;
      if (reverting) {
        if (!this.isRevertReady(node) || !this.backward.isOpen(node)) continue;
        if (storage.detail(node.name).intention === "RETRY") {
          this.retry(node);
          continue;
        }
        transitions.atom(node, "REVERTING");
        this.host.stale.delete(node.name);
        started.push({ node, mode: "revert" });
      } else {
        if (!this.isExecuteReady(node)) continue;
        const meta = storage.detail(node.name).meta;
        transitions.atom(node, "RUNNING", { meta: { ...meta, attempts: (meta.attempts ?? 0) + 1 } });
        this.host.stale.delete(node.name); // started: no longer a leftover (and not queued twice)
        started.push({ node, mode: "execute" });
      }
    }
    await this.host.commit(); // write-ahead: RUNNING/REVERTING is stored before the action starts
    for (const s of started) this.launch(s.node, s.mode);
  }

  /**
   * The retry's flow has been reverted: the retry goes RETRYING, its flow back to PENDING, and it
   * executes again (after its backoff, stored as a wake-up time).
   */
  private retry(node: ExecNode): void {
    const { storage, transitions, clock } = this.host;
    const controller = node.atom as Retry<any>;
    const tries = historyOf(storage, node).length;
    const meta = { ...storage.detail(node.name).meta };
    meta.wakeAt = controller.backoff ? clock.now() + backoffDelay(controller.backoff, tries, this.host.random) : undefined;
    transitions.atom(node, "RETRYING", { intention: "EXECUTE", meta });
    this.resetSubgraph(node);
    this.rebuild();
  }

  /** The atoms of a retrying flow go back to PENDING to run again, their old timers forgotten. */
  private resetSubgraph(retry: ExecNode): void {
    for (const a of retry.subgraph) this.host.transitions.startOver(a);
  }

  private launch(node: ExecNode, mode: Mode): void {
    const { storage, transitions, clock } = this.host;
    this.inflight++;
    const signal = new ActionSignal();
    this.actions.add(signal);
    let settled = false;
    const timeoutMs = mode === "execute" ? (node.atom as Task<any>).timeoutMs : undefined;
    // Only a task with a timeout needs a cancellable timer (an AbortController is not free).
    const stopTimer = timeoutMs !== undefined ? new AbortController() : undefined;
    const finish = (outcome: Outcome) => {
      if (settled) return;
      settled = true;
      stopTimer?.abort();
      this.actions.delete(signal);
      this.inflight--;
      this.completed.push(outcome);
      this.poke();
    };
    if (stopTimer) {
      void clock.sleep(timeoutMs as number, stopTimer.signal).then(() => {
        if (settled) return;
        const error = new RequestTimeout(`task "${node.name}" did not finish within ${timeoutMs} ms`);
        signal.abort(error);
        finish({ node, mode, ok: false, failure: Failure.fromError(error) });
      });
    }
    // The action runs in its own promise so that a throw, sync or async, becomes a Failure.
    Promise.resolve()
      .then(() => (mode === "execute" ? execute(storage, transitions, node, signal) : revert(storage, transitions, node, signal)))
      .then(
        (value) => finish({ node, mode, ok: true, value }),
        (error: unknown) => finish({ node, mode, ok: false, failure: Failure.fromError(error) }),
      );
  }

  /** Waits for an action to finish, a timer to come due, or a poke from outside. */
  private async waitForSomething(): Promise<void> {
    const { clock, storage } = this.host;
    const at = this.nextWakeAt();
    const sleeping = at !== undefined && storage.flowState === "RUNNING" && at - clock.now() <= this.host.maxWaitMs;
    if (this.inflight === 0 && !sleeping) return;
    await this.host.commit(); // group commit: results that arrived while nothing new could start
    if (this.completed.length > 0) return;
    const woken = new Promise<void>((resolve) => (this.wakeUp = resolve));
    if (!sleeping) {
      await woken;
      return;
    }
    // Only a timed wait needs a cancellable sleep (an AbortController per wait is not free).
    const stop = new AbortController();
    await Promise.race([woken, clock.sleep((at as number) - clock.now(), stop.signal)]);
    stop.abort();
    this.wakeUp = undefined;
  }

  // --- analysis -----------------------------------------------------------------------------

  /** Records finished actions and works out what they unblock. */
  private analyze(): void {
    const { storage, transitions, statistics } = this.host;
    for (const o of this.completed.splice(0)) {
      const { node } = o;
      if (o.mode === "execute") {
        statistics.executed++;
        if (o.ok) {
          const d = transitions.atom(node, "SUCCESS", { result: o.value, failure: undefined });
          transitions.reportProgress(node.name, 1);
          if (node.atom instanceof WaitFor) this.consume(node.atom.input);
          if (d.intention === "EXECUTE") this.forward.markDone(node, (n) => this.openForward(n));
          else this.openBackward(node);
        } else {
          // A retry's result is its history of tries: a failed try keeps it.
          const d = transitions.atom(node, "FAILURE", { failure: storage.rememberFailure(o.failure), ...(node.kind === "retry" ? {} : { result: undefined }) });
          if (d.intention !== "EXECUTE") this.openBackward(node); // already being reverted (a cancel)
          else this.resolve(node, o.failure);
        }
      } else {
        statistics.reverted++;
        if (o.ok) {
          const requeue = storage.detail(node.name).meta.requeue === true;
          transitions.atom(node, "REVERTED", { revertResult: o.value, revertFailure: undefined, ...(node.kind === "retry" ? { result: [] } : {}) });
          transitions.reportProgress(node.name, 1);
          if (requeue) {
            const meta = storage.detail(node.name).meta;
            transitions.atom(node, "PENDING", { intention: "EXECUTE", result: undefined, failure: undefined, meta: { ...meta, requeue: undefined } });
            this.rebuild();
          } else this.backward.markDone(node, (n) => this.openBackward(n));
        } else {
          transitions.atom(node, "REVERT_FAILURE", { revertFailure: storage.rememberFailure(o.failure) });
          this.failures.push(o.failure);
        }
      }
    }
  }

  /** Decides what a failure of `node` means, sets the intentions, and looks again. */
  private resolve(node: ExecNode, failure: Failure): void {
    const { storage, graph, neverResolve, deferReverts } = this.host;
    if (neverResolve) {
      this.failures.push(failure);
      return;
    }
    if ((node.atom as Task<any>).needsNetwork && !this.host.online()) {
      // Failing while offline says nothing about the task: undo it and wait for the network,
      // without spending an attempt of its retry.
      storage.setAtom(node.name, { intention: "REVERT", meta: { ...storage.detail(node.name).meta, requeue: true } });
      this.host.statistics.discardedFailures++;
    } else {
      apply(storage, graph, determine(storage, node, failure, deferReverts));
    }
    this.rebuild();
  }

  /** A wait took its input: the buffer keeps only inputs not yet waited for. */
  private consume(input: string): void {
    const { storage } = this.host;
    const { [input]: _taken, ...rest } = storage.flowDetail.meta.inputs ?? {};
    storage.setFlow({ meta: { ...storage.flowDetail.meta, inputs: rest } });
  }

  private resetReverted(): void {
    const { storage, transitions } = this.host;
    // A retry cancelled between two tries (RETRYING) ran nothing of its next try: it starts over
    // with a new history. TaskFlow's table has no way out of RETRYING but RUNNING, hence `force`.
    for (const n of this.host.graph.atoms.values()) transitions.startOver(n, storage.detail(n.name).state === "RETRYING");
    const { cancelled: _, ...meta } = storage.flowDetail.meta;
    storage.setFlow({ meta });
    transitions.flow("PENDING");
  }

  // --- the end ------------------------------------------------------------------------------

  private gameOver(): "SUCCESS" | "FAILURE" | "REVERTED" | "SUSPENDED" {
    if (this.failures.length > 0) return "FAILURE";
    if (this.toExecute.size + this.toRevert.size + this.timed.size + this.offline.size + this.awaiting.size > 0) return "SUSPENDED";
    const details = this.host.storage.atomDetails();
    if (details.every((d) => d.state === "SUCCESS" || d.state === "IGNORE")) return "SUCCESS";
    return "REVERTED";
  }

  /** Writes why a suspended flow stopped, so a host that loads it knows what it waits for. */
  private recordWhy(end: string): void {
    const { storage, notifier } = this.host;
    const { suspendedReason: _r, wakeAt: _w, waitingFor: _i, ...meta } = storage.flowDetail.meta;
    if (end !== "SUSPENDED") {
      if (_r !== undefined || _w !== undefined || _i !== undefined) storage.setFlow({ meta });
      return;
    }
    const held = this.toExecute.size + this.toRevert.size === 0;
    const reason = !held ? "suspended" : this.awaiting.size > 0 ? "input" : this.timed.size > 0 ? "waiting" : "offline";
    const deadlines = [...this.awaiting.values()].filter((d): d is number => d !== undefined);
    const times = [...deadlines, ...this.timed.values()];
    const wakeAt = reason === "suspended" || times.length === 0 ? undefined : Math.min(...times);
    const waitingFor = [...this.awaiting].map(([n, deadline]) => ({
      name: (n.atom as WaitFor).input,
      ...((n.atom as WaitFor).description !== undefined ? { description: (n.atom as WaitFor).description } : {}),
      ...(deadline !== undefined ? { deadline } : {}),
    }));
    storage.setFlow({
      meta: { ...meta, suspendedReason: reason, ...(wakeAt !== undefined ? { wakeAt } : {}), ...(waitingFor.length > 0 ? { waitingFor } : {}) },
    });
    if (reason !== "suspended") {
      notifier.emit("wait", { type: "wait", flowUuid: storage.flowDetail.uuid, reason, wakeAt, inputs: waitingFor.map((w) => w.name) });
    }
  }
}
