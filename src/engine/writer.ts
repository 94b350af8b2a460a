import { LockLost, StorageFailure } from "../errors.js";
import type { Fence, FlowDetail, WriteBatch } from "../persistence/models.js";
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
   * The last write still under way, if any; each write starts when the one before has settled.
   * It never rejects: it resolves with the error the write failed with, so the next one can chain.
   */
  #writes: Promise<unknown> | undefined;
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
    if (this.journal.pending === 0 && this.#writes === undefined && !this.#broken) return NOTHING_WRITTEN;
    return this.#commit();
  }

  async #commit(): Promise<boolean> {
    if (this.journal.pending === 0) {
      await this.#writes;
      if (this.#broken) throw this.#lost ?? this.#refusal();
      return false;
    }
    const batch = this.journal.take();
    if (this.#fence) batch.fence = this.#fence;
    // Chained only behind a write still under way: on the serial engine, none ever is. (Every
    // commit is on an atom's path: a promise less here is a promise less per atom.)
    const write = (this.#writes = this.#writes ? this.#writes.then(() => this.#write(batch)) : this.#write(batch));
    const error = await write;
    if (this.#writes === write) this.#writes = undefined;
    if (error) throw error;
    this.counter.commits++;
    return true;
  }

  /** Writes one batch; resolves with the error it failed with (undefined once written), never rejects. */
  async #write(batch: WriteBatch): Promise<unknown> {
    if (this.#lost) return this.#lost;
    if (this.#broken) return this.#refusal();
    try {
      await this.backend.commit(batch);
    } catch (e) {
      if (e instanceof LockLost) {
        this.lose(e); // refused by the fence: the flow is someone else's, write nothing more
        return e;
      }
      this.#broken = true;
      await this.#storeSuspended().catch(() => {});
      const name = this.journal.flowDetail.name;
      return e instanceof StorageFailure ? e : new StorageFailure(`could not write the log book of flow "${name}": ${(e as Error)?.message ?? String(e)}`, { cause: e });
    }
    if (batch.flows.length > 0) this.#stored = true;
    this.journal.notifier.emit("committed", { type: "committed", flowUuid: this.journal.flowDetail.uuid, transitions: batch.transitions ?? [] });
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
