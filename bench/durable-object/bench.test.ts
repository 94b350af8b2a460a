/**
 * Benchmark: the Durable Object backend in workerd, side by side with raw storage.
 *
 *   npx vitest run --config bench/durable-object/vitest.config.ts
 *
 * Prints one JSON object per line: backend "durable-object", case, engine, n, ms, us_per_atom,
 * commits_per_atom, ratio_to_raw. The raw cases write n atom-detail-shaped records: "raw-put-sync"
 * waits for each on disk (one write per record: ratio_to_raw compares against it), and
 * "raw-coalesced" writes them all and waits once (the floor; ratio_to_coalesced). The engine
 * cases run linear and fan-out flows of n no-op tasks, each twice: with `lock: false` (case
 * "linear", "fan") and under the flow's lock with every commit fenced (case "linear-fenced",
 * "fan-fenced": the fencing token checked against the stored flow detail in each commit's
 * transaction; `fencing_us_per_commit` is the difference per commit). Each figure is the best
 * of RUNS, each run in a new object (empty storage), after a warm-up.
 */
import { env } from "cloudflare:workers";
import { expect, it } from "vitest";
import type { EngineCase, Timing } from "./bench-host.js";

const N = 1000;
const RUNS = 5;
const WARMUP_N = 200;

const host = () => env.BENCH_HOST.get(env.BENCH_HOST.newUniqueId());

async function best(run: () => Promise<Timing>): Promise<Timing> {
  let fastest: Timing | undefined;
  for (let r = 0; r < RUNS; r++) {
    const t = await run();
    if (!fastest || t.ms < fastest.ms) fastest = t;
  }
  return fastest as Timing;
}

const round = (x: number, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits;

it(`durable-object: raw storage against the engine, n = ${N}`, { timeout: 300_000 }, async () => {
  const engines: Array<[EngineCase, "serial" | "parallel"]> = [["linear", "serial"], ["linear", "parallel"], ["fan", "serial"], ["fan", "parallel"]];
  for (const [shape, engine] of engines) await host().engine(shape, engine, WARMUP_N);
  await host().rawPutSync(WARMUP_N);
  await host().rawCoalesced(WARMUP_N);

  const raw = await best(() => host().rawPutSync(N));
  const coalesced = await best(() => host().rawCoalesced(N));
  const line = (kase: string, engine: string | null, t: Timing) => ({
    backend: "durable-object", case: kase, engine, n: N, ms: round(t.ms, 1), us_per_atom: round((t.ms * 1000) / N),
    commits_per_atom: round(t.commits / N, 3), ratio_to_raw: round(t.ms / raw.ms), ratio_to_coalesced: round(t.ms / coalesced.ms),
  });
  const lines: Array<ReturnType<typeof line> & { fencing_us_per_commit?: number }> = [line("raw-put-sync", null, raw), line("raw-coalesced", null, coalesced)];
  for (const [shape, engine] of engines) {
    const t = await best(() => host().engine(shape, engine, N));
    expect(t.executed, `${shape}/${engine} executed every task`).toBe(N);
    lines.push(line(shape, engine, t));
    const f = await best(() => host().engine(shape, engine, N, true));
    expect(f.executed, `${shape}/${engine} fenced executed every task`).toBe(N);
    lines.push({ ...line(`${shape}-fenced`, engine, f), fencing_us_per_commit: round(((f.ms - t.ms) * 1000) / f.commits) });
  }
  for (const l of lines) console.log(JSON.stringify(l));
});
