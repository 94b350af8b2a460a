import type { Atom } from "../atoms/atom.js";
import type { Notifier } from "../notify/notifier.js";
import type { AtomDetail } from "../persistence/models.js";
import type { Clock } from "../ports/clock.js";
import { checkAtomTransition, checkFlowTransition, type AtomState, type FlowState } from "../states.js";
import type { Storage } from "../storage/storage.js";
import type { ExecNode } from "./compiler.js";

/**
 * Every state change of a flow detail goes through here: checked against TaskFlow's tables,
 * stamped with the time, queued for the next commit, then announced to listeners.
 */
export class Transitions {
  constructor(
    private readonly storage: Storage,
    private readonly clock: Clock,
    private readonly notifier: Notifier,
    /** Atoms whose host went away mid-action: their first transition repeats the stored one. */
    private readonly stale: ReadonlySet<string>,
  ) {}

  atom(node: ExecNode, state: AtomState, patch: Partial<AtomDetail> = {}): AtomDetail {
    const storage = this.storage;
    const old = storage.detail(node.name);
    const kind = (node.atom as Atom<any>).kind;
    if (old.state !== state || !this.stale.has(node.name)) checkAtomTransition(kind, node.name, old.state, state);
    const timestamps = { ...old.meta.timestamps };
    timestamps[state] = this.clock.now();
    const meta = { ...(patch.meta ?? old.meta), timestamps };
    if (state === "PENDING" && old.state !== "PENDING") meta.generation = (meta.generation ?? 0) + 1;
    // The engine's own progress reports (0 when an action starts, 1 when it ends) ride with the
    // transition instead of costing a record update of their own.
    if (state === "SUCCESS" || state === "REVERTED") meta.progress = 1;
    else if ((state === "RUNNING" || state === "REVERTING") && meta.progress !== undefined) meta.progress = 0;
    const d = storage.setAtom(node.name, { ...patch, state, meta });
    if (this.notifier.has("atom")) {
      const failure = state === "FAILURE" ? storage.getFailure(node.name) : state === "REVERT_FAILURE" ? storage.getRevertFailure(node.name) : undefined;
      this.notifier.emit("atom", {
        type: "atom", name: node.name, kind, flowUuid: storage.flowDetail.uuid, state, oldState: old.state, intention: d.intention,
        // A retry stores its history; listeners see the value it provided, as TaskFlow shows it.
        ...(state === "SUCCESS" ? { result: kind === "retry" ? (d.result as Array<{ value: unknown }> | undefined)?.at(-1)?.value : d.result } : state === "REVERTED" ? { result: d.revertResult } : {}),
        failure,
      });
    }
    return d;
  }

  /**
   * Puts an atom back to PENDING to run anew, without what its last run left behind: results,
   * failures, a stored wake-up time or wait deadline, a REVERT or RETRY intention. A reverted (or
   * ignored) atom goes through the table; `force` also resets atoms the table gives no way back
   * from (SUCCESS, FAILURE, RETRYING…), as TaskFlow's storage resets do, counting a new generation
   * so that its next run has a new idempotency key. One place, so that a retry, a resume after a
   * revert and `engine.reset()` all start an atom over the same way.
   */
  startOver(node: ExecNode, force = false): void {
    const storage = this.storage;
    const d = storage.detail(node.name);
    const meta = { ...d.meta, wakeAt: undefined, deadline: undefined };
    const fresh = { intention: "EXECUTE" as const, result: undefined, failure: undefined, revertResult: undefined, revertFailure: undefined, meta };
    if (d.state === "REVERTED" || d.state === "IGNORE") this.atom(node, "PENDING", fresh);
    else if (d.state !== "PENDING" && force) storage.setAtom(node.name, { ...fresh, state: "PENDING", meta: { ...meta, generation: (meta.generation ?? 0) + 1 } });
    else if (d.state === "PENDING" && (d.intention !== "EXECUTE" || d.meta.wakeAt !== undefined || d.meta.deadline !== undefined)) storage.setAtom(node.name, { intention: "EXECUTE", meta });
  }

  /** Moves the flow; `false` when TaskFlow's table says to ignore the request. */
  flow(state: FlowState, force = false): boolean {
    const storage = this.storage;
    const old = storage.flowState;
    if (force ? old === state : !checkFlowTransition(old, state)) return false;
    storage.setFlow({ state });
    this.notifier.emit("flow", { type: "flow", flowName: storage.flowDetail.name, flowUuid: storage.flowDetail.uuid, state, oldState: old });
    return true;
  }

  /** A task's own report: stored in its meta (with the next commit) and sent to listeners. */
  progress(name: string, fraction: number, details?: unknown): void {
    const p = Math.min(1, Math.max(0, Number.isFinite(fraction) ? fraction : 0));
    this.storage.setAtomMeta(name, details === undefined ? { progress: p } : { progress: p, progressDetails: { atProgress: p, details } });
    this.reportProgress(name, p, details);
  }

  reportProgress(name: string, progress: number, details?: unknown): void {
    if (this.notifier.has("progress")) {
      this.notifier.emit("progress", { type: "progress", name, flowUuid: this.storage.flowDetail.uuid, progress, details });
    }
  }
}
