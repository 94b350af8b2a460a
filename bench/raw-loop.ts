/**
 * The floor under the engine's cost per atom: a plain loop that keeps, per atom, the least a
 * persisted run must keep, timed like the engine (build, load, run) at the same sizes in the same
 * process. It is the baseline for the growth from 100 to 100,000 atoms: what V8 charges for
 * keeping per-atom state alive, whatever engine keeps it (the scavenger copies every object a
 * round keeps, once or twice, and tables of 100,000 entries miss the cache), as against what the
 * engine adds.
 *
 * Per atom it keeps: a definition (name, its arguments, what it provides, its function) in a
 * table by name; a record of its state, replaced by a new frozen one at each transition (PENDING
 * at load, RUNNING, SUCCESS with its result), as a store that hands out copies keeps them; an
 * audit entry per transition; its result by name. It awaits once per transition, as a commit
 * does. No checks, no events, no failure handling, no compiler: it cannot do what the engine
 * does, and is not meant to.
 *
 * With `padding`, each write also keeps that many small objects (three fields each), so that the
 * loop keeps as much per atom as the engine: {@link CHAIN_PADDING} keeps about 2.7 KB per atom
 * (`gc()` and `heapUsed` after a round of 100,000 on Node 24), about what the engine keeps for a
 * chain flow (2.6 KB); without, the loop keeps about 0.7 KB.
 */

type Shape = "linear" | "chain" | "fan";

interface Definition {
  readonly name: string;
  /** Argument name, storage name: flat pairs. */
  readonly args: readonly string[];
  readonly provides: string | undefined;
  readonly execute: (args: Record<string, unknown>) => unknown;
}

interface StateRecord {
  readonly name: string;
  readonly state: "PENDING" | "RUNNING" | "SUCCESS";
  readonly at: number;
  readonly result?: unknown;
}

function define(shape: Shape, n: number): Definition[] {
  const defs: Definition[] = [];
  for (let i = 0; i < n; i++) {
    defs.push(
      shape === "chain"
        ? { name: `c${i}`, args: ["x", `x${i}`], provides: `x${i + 1}`, execute: ({ x }) => (x as number) + 1 }
        : { name: `${shape === "fan" ? "u" : "t"}${i}`, args: [], provides: undefined, execute: () => 1 },
    );
  }
  return defs;
}

/** Small objects kept per write for the loop to keep about what the engine keeps per chain atom. */
export const CHAIN_PADDING = 14;

interface Pad {
  readonly k: number;
  readonly next: Pad | null;
  readonly name: string;
}

/** One round: build, load, run; returns the last atom's result (checked by the caller). */
export async function rawRound(shape: Shape, n: number, padding = 0): Promise<unknown> {
  const defs = define(shape, n);
  const byName = new Map<string, Definition>();
  for (const d of defs) byName.set(d.name, d);
  const records = new Map<string, StateRecord>();
  const trail: Array<{ readonly name: string; readonly to: string; readonly at: number }> = [];
  const results = new Map<string, unknown>(shape === "chain" ? [["x0", 0]] : []);
  const kept: Array<Pad | null> = [];
  const write = (r: StateRecord) => {
    records.set(r.name, Object.freeze(r));
    trail.push(Object.freeze({ name: r.name, to: r.state, at: r.at }));
    if (padding === 0) return;
    let pad: Pad | null = null;
    for (let k = 0; k < padding; k++) pad = { k, next: pad, name: r.name };
    kept.push(pad);
  };
  for (const d of defs) write({ name: d.name, state: "PENDING", at: Date.now() });
  await Promise.resolve();
  let last: unknown;
  for (const d of byName.values()) {
    write({ name: d.name, state: "RUNNING", at: Date.now() });
    await Promise.resolve();
    const args: Record<string, unknown> = {};
    for (let i = 0; i < d.args.length; i += 2) args[d.args[i] as string] = results.get(d.args[i + 1] as string);
    last = d.execute(args);
    if (d.provides !== undefined) results.set(d.provides, last);
    write({ name: d.name, state: "SUCCESS", at: Date.now(), result: last });
    await Promise.resolve();
  }
  return shape === "chain" ? results.get(`x${n}`) : last;
}
