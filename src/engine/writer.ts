import { LockLost, StorageFailure } from "../errors.js";
import type { Fence, FlowDetail } from "../persistence/models.js";
import type { Backend } from "../ports/backend.js";
import type { Clock } from "../ports/clock.js";
import type { Journal } from "./journal.js";

const NOTHING_WRITTEN: Promise<boolean> = Promise.resolve(false);

/**
 * The one writer of a flow detail's records: it takes what the journal queued and commits it to
 * the backend, one batch after another. Once a write fails, the backend is behind the engine:
 * every later write is refused (nothing is stored ahead of what was lost), the flow detail as
 * stored is marked SUSPENDED if it was running, and the engine reloads before going on.
 *
 * Every batch leaves through {@link Writer.commit}, so what must travel with each write (a lock's
 * fencing token) is added here, not at the call sites.
 */
export class Writer {
  /**
   * Whether a write is under way. Writes go one after another, in the order they were asked:
   * a commit asked meanwhile waits in {@link #queue} and is handed the turn when the write before
   * it has settled. No promise is made for a commit that finds no write under way (on the serial
   * engine, none ever does: every commit is on an atom's path).
   */
  #busy = false;
  readonly #queue: Array<() => void> = [];
  #broken = false;
  /** Whether the flow detail is in the backend (a write carrying it has landed). */
  #stored: boolean;
  /** The lock this writer writes under: every batch carries its token. */
  #fence: Fence | undefined;
  /** The lock was lost: nothing more is written (the new holder owns the log book). */
  #lost: LockLost | undefined;
  constructor(
    private readonly backend: Backend,
    private readonly journal: Journal,
    private readonly clock: Clock,
    /** The flow detail as loaded, when it came from the backend. */
    stored: FlowDetail | undefined,
    /** Counts the batches written (the engine's statistics). */
    private readonly counter: { commits: number },
  ) {
    this.#stored = stored !== undefined;
  }

  /** A write failed: the log book is behind the journal (the engine reloads before going on). */
  get broken(): boolean {
    return this.#broken;
  }

  /** Whether the flow detail is in the backend (it has been committed at least once). */
  get stored(): boolean {
    return this.#stored;
  }

  /** Writes from now on under a lock: every batch carries its fencing token. */
  fence(epoch: number): void {
    this.#fence = { flowUuid: this.journal.flowDetail.uuid, epoch };
    this.journal.epoch = epoch;
  }

  /** The lock is gone: every write from now on is refused with `error`, nothing reaches the backend. */
  lose(error: LockLost): void {
    this.#lost ??= error;
    this.#broken = true;
  }

  /**
   * Commits what the journal queued as one batch; resolves `true` once written, `false` when
   * there was nothing to write. With nothing queued, it still waits for the writes under way,
   * which may carry the caller's changes, and fails if one did.
   * @throws StorageFailure (a failure of the backend, or a refusal after an earlier one)
   */
  commit(): Promise<boolean> {
    // Nothing queued, nothing under way, nothing failed: the common case between two atoms, answered
    // without an async frame (each one a few hundred bytes of garbage per atom).
    if (this.journal.pending === 0 && !this.#busy && !this.#broken) return NOTHING_WRITTEN;
    return this.#commit();
  }

  async #commit(): Promise<boolean> {
    // Taken now, so what was queued before this call goes in this batch, and written in turn.
    const batch = this.journal.pending > 0 ? this.journal.take(this.#fence) : undefined;
    if (this.#busy) await new Promise<void>((resolve) => this.#queue.push(resolve));
    else this.#busy = true;
    try {
      if (this.#lost) throw this.#lost;
      if (this.#broken) throw this.#refusal();
      if (!batch) return false;
      try {
        await this.backend.commit(batch);
      } catch (e) {
        throw await this.#failed(e);
      }
      if (batch.flows.length > 0) this.#stored = true;
      this.counter.commits++;
      if (this.journal.notifier.has("committed")) this.journal.notifier.emit("committed", { type: "committed", flowUuid: this.journal.flowDetail.uuid, transitions: batch.transitions ?? [] });
      return true;
    } finally {
      // The turn passes to the next commit asked, if any; the writer stays busy until the last.
      const next = this.#queue.shift();
      if (next) next();
      else this.#busy = false;
    }
  }

  /** A write failed: what it means for the writes after it, and the error its commit throws. */
  async #failed(e: unknown): Promise<unknown> {
    if (e instanceof LockLost) {
      this.lose(e); // refused by the fence: the flow is someone else's, write nothing more
      return e;
    }
    this.#broken = true;
    await this.#storeSuspended().catch(() => {});
    const name = this.journal.flowDetail.name;
    return e instanceof StorageFailure ? e : new StorageFailure(`could not write the log book of flow "${name}": ${(e as Error)?.message ?? String(e)}`, { cause: e });
  }

  #refusal(): StorageFailure {
    return new StorageFailure(`an earlier write of flow "${this.journal.flowDetail.name}" failed, so this change was not stored; run the flow again: it reloads the log book`);
  }

  /**
   * After a failed commit: marks the stored flow detail SUSPENDED, so the log book says the run
   * stopped rather than that it is still running. It changes the state only, on the flow detail
   * as the backend has it now: the failed write may have landed all the same (a timeout), and
   * then what it carried (a cancel mark, an input consumed together with the SUCCESS that read
   * it) must not be rolled back. If this small write fails too (a full disk), or the flow cannot
   * be read, the flow stays as last stored, which a resume treats as a crash.
   */
  async #storeSuspended(): Promise<void> {
    const stored = await this.backend.getFlowDetail(this.journal.flowDetail.uuid);
    if (stored.state !== "RUNNING" && stored.state !== "SUSPENDING") return;
    const flow: FlowDetail = { ...stored, state: "SUSPENDED", updatedAt: this.clock.now(), suspendedReason: "storage" };
    await this.backend.commit({ logBooks: [], flows: [flow], atoms: [], fence: this.#fence, transitions: [this.journal.entry(stored.state, flow.state, flow.updatedAt)] });
  }
}
