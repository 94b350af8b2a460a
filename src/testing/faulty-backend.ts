import { StorageFailure } from "../errors.js";
import type { Backend } from "../ports/backend.js";
import type { Lease, LockService } from "../ports/lock.js";
import type { WriteBatch } from "../persistence/models.js";
import { BackendWrapper } from "../persistence/wrappers.js";

/**
 * What happens at the chosen write: it fails (the host lives on), or the host vanishes mid-write.
 * @example const mode: CrashMode = "kill"; const backend = new FaultyBackend(new MemoryBackend(), 3, mode)
 */
export type CrashMode = "fail" | "kill";

/**
 * Wraps a backend and breaks it at the `at`-th commit (1-based): in `"fail"` mode that commit
 * throws `StorageFailure` without writing and later ones go through, as when a full quota
 * refuses a big write and takes a small one (the engine then stores the flow SUSPENDED); in
 * `"kill"` mode it and every later one never settle, as if the page was closed or the isolate
 * evicted while writing. `at = Infinity` never breaks and only counts. Reads pass through.
 * @example
 * const store = new MemoryBackend(), faulty = new FaultyBackend(store, 3, "kill");
 * const first = load(flow, { backend: faulty }); void first.run(); // never settles
 * await faulty.crashed; // the host "died" at write 3: resume from what reached `store`
 * await load(flow, { backend: store, flowDetailId: first.flowDetailId }).run();
 */
export class FaultyBackend extends BackendWrapper {
  /** Commits that reached the inner backend. */
  readonly committed: string[] = [];
  private attempts = 0;
  private signalCrash!: () => void;
  /** Settles when the crash point is reached. */
  readonly crashed: Promise<void> = new Promise((resolve) => (this.signalCrash = resolve));

  /** The leases taken through this backend's locks: a host that dies gives them back. */
  readonly #leases = new Set<Lease>();
  #locks: LockService | undefined;

  constructor(
    inner: Backend,
    private readonly at: number,
    private readonly mode: CrashMode,
  ) {
    super(inner);
  }

  /**
   * The inner backend's lock service, but a host that dies here loses its locks, as a closed
   * page's Web Locks or an evicted isolate's are: the next runner gets the flow.
   */
  override get locks(): LockService | undefined {
    const inner = this.inner.locks;
    if (!inner) return undefined;
    this.#locks ??= {
      acquire: async (name, options) => {
        const lease = await inner.acquire(name, options);
        this.#leases.add(lease);
        return { name, signal: lease.signal, release: () => (this.#leases.delete(lease), lease.release()) };
      },
    };
    return this.#locks;
  }

  override async commit(batch: WriteBatch): Promise<void> {
    this.attempts++;
    if (this.mode === "kill" && this.attempts >= this.at) {
      this.signalCrash();
      for (const lease of this.#leases) void lease.release();
      this.#leases.clear();
      return new Promise<void>(() => {});
    }
    if (this.attempts === this.at) {
      this.signalCrash();
      throw new StorageFailure(`simulated storage failure at write ${this.attempts}`);
    }
    await this.inner.commit(batch);
    this.committed.push(describe(batch));
  }
}

/**
 * A one-line summary of a batch: `book b, flow RUNNING, a SUCCESS, b RUNNING/REVERT` (an intention
 * other than EXECUTE after a slash); what {@link FaultyBackend.committed} lists.
 * @example describeBatch({ logBooks: [], flows: [flowDetail], atoms: [] }) // "flow RUNNING"
 */
export function describe(batch: WriteBatch): string {
  const parts = [
    ...batch.logBooks.map((b) => `book ${b.name}`),
    ...batch.flows.map((f) => `flow ${f.state}`),
    ...batch.atoms.map((a) => `${a.name} ${a.state}${a.intention !== "EXECUTE" ? `/${a.intention}` : ""}`),
  ];
  return parts.join(", ");
}
