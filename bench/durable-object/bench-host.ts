import { DurableObject } from "cloudflare:workers";
import { DurableObjectBackend } from "../../adapters/durable-object/index.js";
import { countCommits } from "../../src/backend.js";
import { linearFlow, load, task, unorderedFlow, type AtomDetail } from "../../src/index.js";

/** One measured run: wall time inside the object, and how many storage commits it made. */
export interface Timing {
  ms: number;
  commits: number;
  executed: number;
}

export type EngineCase = "linear" | "fan";

/**
 * Runs one benchmark case inside a Durable Object, on its own storage, and times it there (so
 * the RPC that asks for it is not counted). Each case ends with `storage.sync()`: everything is
 * confirmed on disk, as the output gate would ensure before the object answers anyone.
 */
export class BenchHost extends DurableObject {
  /** A hand-written durable loop: each record written, then waited for on disk, one by one. */
  async rawPutSync(n: number): Promise<Timing> {
    const { kv } = this.ctx.storage;
    const start = performance.now();
    for (let i = 0; i < n; i++) {
      kv.put(`ad:flow:${i}`, record(i));
      await this.ctx.storage.sync();
    }
    return { ms: performance.now() - start, commits: n, executed: 0 };
  }

  /** The floor: every record written with no wait between them, coalesced into one write. */
  async rawCoalesced(n: number): Promise<Timing> {
    const { kv } = this.ctx.storage;
    const start = performance.now();
    for (let i = 0; i < n; i++) kv.put(`ad:flow:${i}`, record(i));
    await this.ctx.storage.sync();
    return { ms: performance.now() - start, commits: 1, executed: 0 };
  }

  /**
   * The engine on a DurableObjectBackend: build the flow, load, run, as `npm run bench` times it.
   * `fenced`: under the flow's lock, every commit checking its token against the stored one (the
   * default); otherwise `lock: false`, as before issue 12.
   */
  async engine(shape: EngineCase, engine: "serial" | "parallel", n: number, fenced = false): Promise<Timing> {
    const backend = countCommits(new DurableObjectBackend(this.ctx.storage)); // passes the lock service and claim on
    const start = performance.now();
    const tasks = Array.from({ length: n }, (_, i) => task({ name: `t${i}`, execute: () => 1 }));
    const flow = shape === "linear" ? linearFlow("linear", ...tasks) : unorderedFlow("fan", ...tasks);
    const e = load(flow, { backend, engine, maxConcurrency: 8, ...(fenced ? {} : { lock: false }) });
    await e.run();
    await this.ctx.storage.sync();
    const ms = performance.now() - start;
    return { ms, commits: backend.commits, executed: e.statistics.executed };
  }
}

/** A record shaped like the atom details the engine writes, so raw and engine store alike. */
function record(i: number): AtomDetail {
  return {
    schemaVersion: 2, uuid: `a${i}`, flowUuid: "flow", name: `t${i}`, kind: "task", state: "SUCCESS", intention: "EXECUTE",
    result: 1, version: "1.0", timestamps: { RUNNING: 1, SUCCESS: 2 }, attempts: 1, meta: {}, updatedAt: 2,
  };
}
