import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import type { CountingBackend } from "../../src/backend.js";
import type { AtomDetail, Backend, ExpireOptions, FlowDetail, Lease, ListOptions, LockOptions, LockService, LogBook, TrailEntry, WriteBatch } from "../../src/index.js";
import type { BackendHost } from "./backend-host.js";

/**
 * A Backend whose every call runs inside one BackendHost Durable Object, on the backend that
 * object holds. The test (and an engine it drives) stays outside; storage is only touched from
 * the object's own context. Errors arrive as thrown (same isolate), so `instanceof NotFound` holds.
 */
export class HostedBackend implements Backend {
  /**
   * The object's backend's lock service, reached inside the object (after an eviction: the new
   * instance's). A release runs inside too: it wakes a waiter whose promise the object made, and
   * workerd refuses to settle that from another object's context (the test's).
   */
  readonly locks: LockService = {
    acquire: async (name: string, options?: LockOptions): Promise<Lease> => {
      const lease = await runInDurableObject(this.stub, (host: BackendHost) => host.inner.locks.acquire(name, options));
      return { name, signal: lease.signal, release: () => this.inside(() => lease.release()) };
    },
  };

  constructor(readonly stub: DurableObjectStub<BackendHost>) {}

  /** A backend over the storage of a new, empty Durable Object. */
  static fresh(): HostedBackend {
    return new HostedBackend(env.BACKEND_HOST.get(env.BACKEND_HOST.newUniqueId()));
  }

  /** Runs `fn` inside the object, with its backend and its storage. */
  inside<R>(fn: (backend: CountingBackend, storage: DurableObjectStorage) => R | Promise<R>): Promise<R> {
    return runInDurableObject(this.stub, (host: BackendHost, state) => fn(host.backend, state.storage));
  }

  /**
   * Evicts the object (its memory, and the backend instance in it, are gone; its storage stays),
   * and returns a backend that reaches the object constructed anew on the next call.
   */
  async evict(): Promise<HostedBackend> {
    // evictDurableObject refuses an object that is not running: wake it first (a run that
    // crashed before its first write never reached it).
    await this.inside(() => undefined);
    await evictDurableObject(this.stub);
    return new HostedBackend(this.stub);
  }

  /** Commits of the backend instance now in the object (an eviction starts it again from 0). */
  commits(): Promise<number> {
    return this.inside((backend) => backend.commits);
  }

  commit(batch: WriteBatch): Promise<void> {
    return this.inside((b) => b.commit(batch));
  }
  claim(flowUuid: string): Promise<number> {
    return runInDurableObject(this.stub, (host: BackendHost) => host.inner.claim(flowUuid));
  }
  getLogBook(uuid: string): Promise<LogBook> {
    return this.inside((b) => b.getLogBook(uuid));
  }
  listLogBooks(options?: ListOptions): Promise<LogBook[]> {
    return this.inside((b) => b.listLogBooks(options));
  }
  destroyLogBook(uuid: string): Promise<void> {
    return this.inside((b) => b.destroyLogBook(uuid));
  }
  getFlowDetails(bookUuid: string): Promise<FlowDetail[]> {
    return this.inside((b) => b.getFlowDetails(bookUuid));
  }
  getFlowDetail(uuid: string): Promise<FlowDetail> {
    return this.inside((b) => b.getFlowDetail(uuid));
  }
  getAtomDetails(flowUuid: string): Promise<AtomDetail[]> {
    return this.inside((b) => b.getAtomDetails(flowUuid));
  }
  getTrail(flowUuid: string): Promise<TrailEntry[]> {
    return this.inside((b) => (b.getTrail as (id: string) => Promise<TrailEntry[]>)(flowUuid));
  }
  listUnfinished(options?: ListOptions): Promise<FlowDetail[]> {
    return this.inside((b) => b.listUnfinished(options));
  }
  getKeyedFlow(key: string): Promise<string | undefined> {
    return this.inside((b) => b.getKeyedFlow?.(key));
  }
  deleteKey(key: string): Promise<boolean> {
    return this.inside((b) => b.deleteKey?.(key) ?? false);
  }
  listFinished(options?: ListOptions): Promise<LogBook[]> {
    return this.inside((b) => b.listFinished(options));
  }
  expire(options: ExpireOptions): Promise<string[]> {
    return this.inside((b) => b.expire(options));
  }
  close(): Promise<void> {
    return this.inside((b) => b.close());
  }
}
