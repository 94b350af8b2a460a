// books.ts: the log books every conductor shares, in one Durable Object (LogBooks), reached over
// RPC as a Backend (RemoteBackend). A conductor that takes over a job whose holder died resumes
// its flow from here; a log book handed over from a tab is imported here. The object's
// DurableObjectBackend checks the fencing tokens inside its transactions, so a conductor whose
// claim ran out is refused (`LockLost`) even over RPC.
import { DurableObject } from "cloudflare:workers";
import { Failure, type AtomDetail, type Backend, type ExpireOptions, type FailureData, type FlowDetail, type ListOptions, type LogBook, type TrailEntry, type WriteBatch } from "taskflow-ts";
import { DurableObjectBackend } from "taskflow-ts/durable-object";

/** A call's value, or its failure as data (RPC would keep only an error's message, not its class). */
type Reply<T> = { value: T } | { error: FailureData };

async function reply<T>(fn: () => Promise<T>): Promise<Reply<T>> {
  try {
    return { value: await fn() };
  } catch (e) {
    return { error: Failure.fromError(e).toJSON() };
  }
}

/** The shared log books: a DurableObjectBackend behind RPC. */
export class LogBooks extends DurableObject {
  readonly #backend = new DurableObjectBackend(this.ctx.storage);

  commit(batch: WriteBatch): Promise<Reply<void>> {
    return reply(() => this.#backend.commit(batch));
  }
  claim(flowUuid: string): Promise<Reply<number>> {
    return reply(() => this.#backend.claim(flowUuid));
  }
  getLogBook(uuid: string): Promise<Reply<LogBook>> {
    return reply(() => this.#backend.getLogBook(uuid));
  }
  listLogBooks(options?: ListOptions): Promise<Reply<LogBook[]>> {
    return reply(() => this.#backend.listLogBooks(options));
  }
  destroyLogBook(uuid: string): Promise<Reply<void>> {
    return reply(() => this.#backend.destroyLogBook(uuid));
  }
  getFlowDetails(bookUuid: string): Promise<Reply<FlowDetail[]>> {
    return reply(() => this.#backend.getFlowDetails(bookUuid));
  }
  getFlowDetail(uuid: string): Promise<Reply<FlowDetail>> {
    return reply(() => this.#backend.getFlowDetail(uuid));
  }
  getAtomDetails(flowUuid: string): Promise<Reply<AtomDetail[]>> {
    return reply(() => this.#backend.getAtomDetails(flowUuid));
  }
  listFinished(options?: ListOptions): Promise<Reply<LogBook[]>> {
    return reply(() => this.#backend.listFinished(options));
  }
  expire(options: ExpireOptions): Promise<Reply<string[]>> {
    return reply(() => this.#backend.expire(options));
  }
  listUnfinished(options?: ListOptions): Promise<Reply<FlowDetail[]>> {
    return reply(() => this.#backend.listUnfinished(options));
  }
  getTrail(flowUuid: string): Promise<Reply<TrailEntry[]>> {
    return reply(() => this.#backend.getTrail(flowUuid));
  }
  getKeyedFlow(key: string): Promise<Reply<string | undefined>> {
    return reply(() => this.#backend.getKeyedFlow(key));
  }
  deleteKey(key: string): Promise<Reply<boolean>> {
    return reply(() => this.#backend.deleteKey(key));
  }
}

/** The RPC methods of {@link LogBooks}, as its stub has them. */
type LogBooksRpc = { [K in Exclude<keyof LogBooks, keyof DurableObject>]: LogBooks[K] };

function unwrap<T>(r: Reply<T>): T {
  if ("error" in r) throw Failure.fromJSON(r.error).toError();
  return r.value;
}

/**
 * A Backend in another Worker's isolate: every call goes to the {@link LogBooks} object, and
 * failures come back as their classes (`NotFound`, `LockLost`, `StorageFailure`…), which the
 * conductor and the engine tell apart. No `locks`: a conductor's engine holds the job's claim.
 */
export class RemoteBackend implements Backend {
  readonly #stub: LogBooksRpc;
  constructor(stub: unknown) {
    this.#stub = stub as LogBooksRpc;
  }
  async commit(batch: WriteBatch): Promise<void> {
    unwrap(await this.#stub.commit(batch));
  }
  async claim(flowUuid: string): Promise<number> {
    return unwrap(await this.#stub.claim(flowUuid));
  }
  async getLogBook(uuid: string): Promise<LogBook> {
    return unwrap(await this.#stub.getLogBook(uuid));
  }
  async listLogBooks(options?: ListOptions): Promise<LogBook[]> {
    return unwrap(await this.#stub.listLogBooks(options));
  }
  async destroyLogBook(uuid: string): Promise<void> {
    unwrap(await this.#stub.destroyLogBook(uuid));
  }
  async getFlowDetails(bookUuid: string): Promise<FlowDetail[]> {
    return unwrap(await this.#stub.getFlowDetails(bookUuid));
  }
  async getFlowDetail(uuid: string): Promise<FlowDetail> {
    return unwrap(await this.#stub.getFlowDetail(uuid));
  }
  async getAtomDetails(flowUuid: string): Promise<AtomDetail[]> {
    return unwrap(await this.#stub.getAtomDetails(flowUuid));
  }
  async listFinished(options?: ListOptions): Promise<LogBook[]> {
    return unwrap(await this.#stub.listFinished(options));
  }
  async expire(options: ExpireOptions): Promise<string[]> {
    return unwrap(await this.#stub.expire(options));
  }
  async listUnfinished(options?: ListOptions): Promise<FlowDetail[]> {
    return unwrap(await this.#stub.listUnfinished(options));
  }
  async getTrail(flowUuid: string): Promise<TrailEntry[]> {
    return unwrap(await this.#stub.getTrail(flowUuid));
  }
  async getKeyedFlow(key: string): Promise<string | undefined> {
    return unwrap(await this.#stub.getKeyedFlow(key));
  }
  async deleteKey(key: string): Promise<boolean> {
    return unwrap(await this.#stub.deleteKey(key));
  }
  async close(): Promise<void> {}
}
