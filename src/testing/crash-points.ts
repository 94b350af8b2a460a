import { Engine, type EngineOptions } from "../engine/engine.js";
import { TaskFlowError } from "../errors.js";
import type { FlowItem } from "../patterns/flow.js";
import { MemoryBackend, memoryBackendFromDump } from "../persistence/memory.js";
import type { Backend } from "../ports/backend.js";
import { readSnapshot } from "../snapshot/snapshot.js";
import type { AtomState, FlowState } from "../states.js";
import { FaultyBackend, type CrashMode } from "./faulty-backend.js";
import { ManualClock } from "./manual-clock.js";

/**
 * What {@link checkCrashPoints} runs.
 * @example
 * await assertCrashSafe({ makeFlow: () => signup(), modes: ["kill"], drive: async (engine) => {
 *   await engine.run(); // on a resumed engine too: ask what it waits for, do not count steps
 *   for (let w = await waitingFor(engine); w.length > 0; w = await waitingFor(engine))
 *     for (const { name } of w) await provide(engine, name, answers[name]);
 * } });
 */
export interface CrashCheckOptions {
  /** Builds a fresh flow each time (each run needs its own task objects). */
  makeFlow: () => FlowItem;
  store?: Record<string, unknown>;
  /**
   * Options of every engine. What only differs from one run to the next is made the same in each
   * scenario, so that results holding it compare equal: unless `ids` is given, each run makes the
   * same ids (`crash-1`, `crash-2`…), so a flow detail's id and every `ctx.idempotencyKey` match
   * the uninterrupted run's; a {@link ManualClock} `clock` is copied ({@link ManualClock.fork})
   * for each scenario, so each starts at the same time and a sleep wakes at the same time. Any
   * other clock is shared (the system clock by default: pass a ManualClock, with `autoAdvance`,
   * to a flow that sleeps or backs off).
   */
  engine?: Omit<EngineOptions, "backend" | "flowDetailId" | "store">;
  /**
   * What a stored result is compared as (default: itself), for a value that differs between runs
   * for a reason of your own, such as a timestamp a task reads from the system clock:
   * `normalize: (result) => ({ ...(result as object), at: undefined })`.
   */
  normalize?: (result: unknown, atom: string) => unknown;
  /** A fresh, empty backend; a {@link MemoryBackend} by default. */
  makeBackend?: () => Backend | Promise<Backend>;
  /**
   * Reads a backend's content back through a new connection before resuming (for memory: a
   * JSON round trip of its dump), so that only what was persisted survives the crash.
   */
  reopen?: (backend: Backend) => Backend | Promise<Backend>;
  /** `["fail", "kill"]` by default. */
  modes?: CrashMode[];
  /**
   * Drives an engine to the end: `engine.run()` by default; for an interactive flow, a loop that
   * provides inputs (and revises answers) until it is done. It must work from any state, since it
   * is called again on the resumed engine: ask `waitingFor(engine)`, do not count steps.
   */
  drive?: (engine: Engine) => Promise<void>;
}

/**
 * One violated invariant: at which write storage broke, how (`fail` or `kill`), and what went wrong
 * once the flow resumed.
 * @example for (const p of report.problems) console.log(`write ${p.point} (${p.mode}): ${p.problem}`)
 */
export interface CrashProblem {
  point: number;
  mode: CrashMode;
  problem: string;
  /** The commits that reached storage before the crash, oldest first. */
  transitions: string[];
}

/**
 * What {@link checkCrashPoints} found: how many writes the flow makes, how many crash scenarios ran,
 * and every problem (none: the flow is crash-safe).
 * @example const { points, scenarios, problems } = await checkCrashPoints({ makeFlow: () => checkout() })
 */
export interface CrashReport {
  /** Persistence points (commits) of the uninterrupted run. */
  points: number;
  /** Crash scenarios run (points × modes). */
  scenarios: number;
  problems: CrashProblem[];
}

interface Outcome {
  flowState: FlowState;
  atoms: Record<string, { state: AtomState; result: unknown }>;
  error: string | undefined;
}

/**
 * Thrown by {@link assertCrashSafe} with every problem found.
 * @example try { await assertCrashSafe(options) } catch (e) { if (e instanceof CrashSafetyError) console.log(e.report.problems) }
 */
export class CrashSafetyError extends TaskFlowError {
  constructor(readonly report: CrashReport) {
    super(
      `${report.problems.length} crash-point problem(s) in ${report.scenarios} scenarios:\n` +
        report.problems
          .map((p) => `- write ${p.point} (${p.mode}): ${p.problem}\n    committed before it: ${p.transitions.join(" | ") || "nothing"}`)
          .join("\n"),
    );
  }
  static {
    this.prototype.name = "CrashSafetyError";
  }
}

/**
 * Proves a flow survives its host dying at any write. Runs the flow once to count its
 * persistence points; then, for each point k and each mode, runs it on a backend that breaks at
 * write k, resumes from what was stored (through a fresh connection), and checks: the same final
 * flow state, atom states and results as the uninterrupted run; no atom stored as SUCCESS ran
 * again; no atom stored as REVERTED was reverted again; the log book reads back and validates.
 *
 * @example
 * const report = await checkCrashPoints({ makeFlow: () => checkout(), store: { cart: "c1" } });
 * expect(report.problems).toEqual([]);
 */
export async function checkCrashPoints(options: CrashCheckOptions): Promise<CrashReport> {
  const makeBackend = options.makeBackend ?? (() => new MemoryBackend());
  const reopen = options.reopen ?? defaultReopen;
  const modes = options.modes ?? ["fail", "kill"];

  // Each scenario (and the reference run) gets the same ids and its own copy of a ManualClock.
  const given = options.engine?.clock;
  const start = given instanceof ManualClock ? given.fork() : undefined;
  let clock = start?.fork() ?? given;
  const engineOptions = (): EngineOptions => {
    let n = 0;
    return { ids: () => `crash-${++n}`, ...options.engine, clock };
  };
  const normalize = options.normalize ?? ((result: unknown) => result);

  const refBackend = new FaultyBackend(await makeBackend(), Infinity, "fail");
  const refEngine = new Engine(options.makeFlow(), { ...engineOptions(), backend: refBackend, store: options.store });
  const drive = options.drive ?? ((engine: Engine) => engine.run());
  const reference = await finish(refEngine, refBackend, drive, normalize);
  const points = refBackend.committed.length;
  const problems: CrashProblem[] = [];
  let scenarios = 0;

  for (let k = 1; k <= points; k++) {
    for (const mode of modes) {
      scenarios++;
      clock = start?.fork() ?? given;
      const inner = await makeBackend();
      const faulty = new FaultyBackend(inner, k, mode);
      const first = new Engine(options.makeFlow(), { ...engineOptions(), backend: faulty, store: options.store });
      const running = drive(first).then(
        () => "finished" as const,
        () => "failed" as const,
      );
      const how = await Promise.race([running, faulty.crashed.then(() => "crashed" as const)]);
      if (mode === "fail") await running;
      const report = (problem: string) => problems.push({ point: k, mode, problem, transitions: [...faulty.committed] });
      if (how === "finished") continue; // a parallel run may need fewer writes than the reference

      const backend = await reopen(inner);
      const id = first.flowDetailId;
      const before = await readSnapshot(backend, id).catch(() => undefined); // nothing stored: starts anew
      const stored = before !== undefined;
      const succeeded = new Set(before?.atoms.filter((a) => a.state === "SUCCESS").map((a) => a.name));
      const reverted = new Set(before?.atoms.filter((a) => a.state === "REVERTED").map((a) => a.name));

      const engine = new Engine(options.makeFlow(), {
        ...engineOptions(),
        backend,
        ...(stored ? { flowDetailId: id } : { store: options.store }),
      });
      // What was stored as done must not be done again, unless the flow undid it first (a
      // retry or a revision reverts a SUCCESS atom before running it again).
      engine.on("atom", (e) => {
        if (e.state === "RUNNING" && succeeded.has(e.name)) report(`atom "${e.name}" was stored as SUCCESS but executed again on resume`);
        if (e.state === "REVERTING" && reverted.has(e.name)) report(`atom "${e.name}" was stored as REVERTED but reverted again on resume`);
        if (e.state === "REVERTED" || e.state === "RETRYING") succeeded.delete(e.name);
        if (e.state === "RUNNING") reverted.delete(e.name);
      });
      let outcome: Outcome;
      try {
        outcome = await finish(engine, backend, drive, normalize);
      } catch (e) {
        report(`resuming failed: ${(e as Error).message}`);
        continue;
      }
      for (const problem of compare(reference, outcome)) report(problem);
      try {
        await readEverything(backend);
      } catch (e) {
        report(`the log book does not validate: ${(e as Error).message}`);
      }
    }
  }
  return { points, scenarios, problems };
}

/**
 * {@link checkCrashPoints}, throwing a {@link CrashSafetyError} that lists every problem: the one-line
 * test of a flow.
 * @example it("checkout survives a crash at any write", () => assertCrashSafe({ makeFlow: () => checkout(), store: { cart: "c1" } }))
 */
export async function assertCrashSafe(options: CrashCheckOptions): Promise<CrashReport> {
  const report = await checkCrashPoints(options);
  if (report.problems.length > 0) throw new CrashSafetyError(report);
  return report;
}

async function defaultReopen(backend: Backend): Promise<Backend> {
  return backend instanceof MemoryBackend ? memoryBackendFromDump(JSON.parse(JSON.stringify(backend.dump()))) : backend;
}

async function finish(engine: Engine, backend: Backend, drive: (engine: Engine) => Promise<void>, normalize: NonNullable<CrashCheckOptions["normalize"]>): Promise<Outcome> {
  let error: string | undefined;
  try {
    await drive(engine);
  } catch (e) {
    error = (e as Error).name;
  }
  const snap = await readSnapshot(backend, engine.flowDetailId);
  const atoms: Outcome["atoms"] = {};
  // The stored result as it is (a retry's whole history), not only the value it provided.
  for (const a of snap.atoms) atoms[a.name] = { state: a.state, result: a.state === "SUCCESS" ? normalize(a.detail.result, a.name) : undefined };
  return { flowState: snap.state, atoms, error };
}

function compare(expected: Outcome, actual: Outcome): string[] {
  const out: string[] = [];
  if (expected.flowState !== actual.flowState) out.push(`flow ended ${actual.flowState}, expected ${expected.flowState}`);
  if (expected.error !== actual.error) out.push(`run ended with error ${actual.error ?? "none"}, expected ${expected.error ?? "none"}`);
  for (const name of Object.keys(actual.atoms)) if (!(name in expected.atoms)) out.push(`atom "${name}" is not in the uninterrupted run's log book`);
  for (const [name, e] of Object.entries(expected.atoms)) {
    const a = actual.atoms[name];
    if (!a) out.push(`atom "${name}" has no detail`);
    else if (a.state !== e.state) out.push(`atom "${name}" ended ${a.state}, expected ${e.state}`);
    else if (comparable(a.result) !== comparable(e.result)) {
      out.push(`atom "${name}" result ${comparable(a.result)}, expected ${comparable(e.result)}`);
    }
  }
  return out;
}

/** A result as JSON, without stack traces (a resumed run fails from another call stack). */
function comparable(value: unknown): string {
  return JSON.stringify(value, (key, v: unknown) => (key === "tracebackStr" ? undefined : v));
}

async function readEverything(backend: Backend): Promise<void> {
  for (const book of await backend.listLogBooks()) {
    for (const flow of await backend.getFlowDetails(book.uuid)) await backend.getAtomDetails(flow.uuid);
  }
}
