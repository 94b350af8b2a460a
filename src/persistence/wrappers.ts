import type { LockService } from "../ports/lock.js";
import type { Backend, ExpireOptions, ListOptions } from "../ports/backend.js";
import type { AtomDetail, FlowDetail, LogBook, TrailEntry, WriteBatch } from "./models.js";

/**
 * A backend that passes every call to `inner`: extend it and override what you change (a
 * decorator that counts, delays or breaks commits, and forwards the rest).
 * @example
 * class SlowBackend extends BackendWrapper {
 *   override async commit(batch: WriteBatch): Promise<void> { await systemClock.sleep(50); return super.commit(batch); }
 * }
 */
export class BackendWrapper implements Backend {
  /** The inner backend's fencing tokens: a wrapped backend fences its writers as it would. */
  readonly claim: ((flowUuid: string) => Promise<number>) | undefined;
  /** The inner backend's audit trails, when it keeps them. */
  readonly getTrail: ((flowUuid: string) => Promise<TrailEntry[]>) | undefined;

  /** The inner backend's user keys, if it has them. */
  readonly getKeyedFlow: ((key: string) => Promise<string | undefined>) | undefined;
  readonly deleteKey: ((key: string) => Promise<boolean>) | undefined;

  constructor(protected readonly inner: Backend) {
    this.claim = inner.claim?.bind(inner);
    this.getTrail = inner.getTrail?.bind(inner);
    this.getKeyedFlow = inner.getKeyedFlow?.bind(inner);
    this.deleteKey = inner.deleteKey?.bind(inner);
  }

  /** The inner backend's lock service: engines on the wrapper take their flows' locks there. */
  get locks(): LockService | undefined {
    return this.inner.locks;
  }

  commit(batch: WriteBatch): Promise<void> {
    return this.inner.commit(batch);
  }
  getLogBook(uuid: string): Promise<LogBook> {
    return this.inner.getLogBook(uuid);
  }
  listLogBooks(options?: ListOptions): Promise<LogBook[]> {
    return this.inner.listLogBooks(options);
  }
  destroyLogBook(uuid: string): Promise<void> {
    return this.inner.destroyLogBook(uuid);
  }
  getFlowDetails(bookUuid: string): Promise<FlowDetail[]> {
    return this.inner.getFlowDetails(bookUuid);
  }
  getFlowDetail(uuid: string): Promise<FlowDetail> {
    return this.inner.getFlowDetail(uuid);
  }
  getAtomDetails(flowUuid: string): Promise<AtomDetail[]> {
    return this.inner.getAtomDetails(flowUuid);
  }
  listFinished(options?: ListOptions): Promise<LogBook[]> {
    return this.inner.listFinished(options);
  }
  listUnfinished(options?: ListOptions): Promise<FlowDetail[]> {
    return this.inner.listUnfinished(options);
  }
  expire(options: ExpireOptions): Promise<string[]> {
    return this.inner.expire(options);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

/**
 * A backend that counts the commits that went through (see {@link countCommits}).
 * @example const backend = new CountingBackend(new MemoryBackend()); await run(flow, { backend }); backend.commits
 */
export class CountingBackend extends BackendWrapper {
  /** Commits that `inner` accepted; a refused one is not counted. */
  commits = 0;

  override async commit(batch: WriteBatch): Promise<void> {
    await this.inner.commit(batch);
    this.commits++;
  }
}

/**
 * Wraps a backend to count its successful commits, so a test or a benchmark can report commits
 * per atom on any backend (each commit is one transaction: the cost that matters).
 * @example
 * const backend = countCommits(new MemoryBackend());
 * await run(linearFlow("f", a, b, c), { backend });
 * backend.commits; // 4: one per atom, and one to finish
 */
export function countCommits(backend: Backend): CountingBackend {
  return new CountingBackend(backend);
}
