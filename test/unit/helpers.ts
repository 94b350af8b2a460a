/**
 * Task makers shared by the unit tests; they mirror TaskFlow's `tests/utils.py` so that the
 * scenarios of its test suite read the same here (P = progressing, F = failing, N = nasty).
 */
import type { SyncKv } from "../../adapters/durable-object/runner-index.js";
import { registerErrorClass, task, type Engine, type RunnerState, type Task, type TaskSpec, runIter } from "../../src/index.js";

/** Python's RuntimeError, so that failures print as TaskFlow prints them. */
export class RuntimeError extends Error {
  override name = "RuntimeError";
}
registerErrorClass(RuntimeError);

type Extra = Partial<Omit<TaskSpec<Record<string, unknown>, unknown>, "name" | "execute">>;

/** TaskFlow's ProgressingTask: returns 5, reverts to nothing. */
export function progressing(name: string, extra: Extra = {}): Task<Record<string, unknown>, unknown> {
  return task({ name, ...extra, execute: () => 5 });
}

/** TaskFlow's NoopTask: returns nothing. */
export function noop(name: string, extra: Extra = {}): Task<Record<string, unknown>, unknown> {
  return task({ name, ...extra, execute: () => undefined });
}

/** TaskFlow's FailingTask: execute raises RuntimeError('Woot!'). */
export function failing(name: string, extra: Extra = {}): Task<Record<string, unknown>, unknown> {
  return task({
    name,
    ...extra,
    execute: () => {
      throw new RuntimeError("Woot!");
    },
  });
}

/** TaskFlow's NastyTask: execute succeeds (None), revert raises RuntimeError('Gotcha!'). */
export function nasty(name: string, extra: Extra = {}): Task<Record<string, unknown>, unknown> {
  return task({
    name,
    ...extra,
    execute: () => undefined,
    revert: () => {
      throw new RuntimeError("Gotcha!");
    },
  });
}

/** TaskFlow's NeverRunningTask: any call is a test failure. */
export function neverRun(name: string): Task<Record<string, unknown>, unknown> {
  return task({
    name,
    execute: () => {
      throw new Error(`${name} should never run`);
    },
    revert: () => {
      throw new Error(`${name} should never revert`);
    },
  });
}

/** The peer's capture listener output with no atom events of interest filtered. */
export const WOOT = "FAILURE(Failure: RuntimeError: Woot!)";

/** Every state `runIter(engine)` yields, until it ends (rethrowing its error after collecting). */
export async function collectStates(engine: Engine): Promise<RunnerState[]> {
  const out: RunnerState[] = [];
  for await (const s of runIter(engine)) out.push(s);
  return out;
}

/** A promise that settles after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Both engines, for scenarios that must hold on each (as the peer runs them). */
export const ENGINES = ["serial", "parallel"] as const;

/** Expects `promise` to reject and returns the error for further checks. */
export async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (e) {
    return e as Error;
  }
  throw new Error("expected a rejection, but the promise resolved");
}

/** Expects `fn` to throw synchronously and returns the error. */
export function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error("expected a throw, but the call returned");
}

/**
 * Writes every atom detail of a prepared engine, as TaskFlow (and hosts older than lazy atom
 * details) store them before the first atom runs: for tests that edit a stored detail by hand.
 */
export async function storeEveryAtom(engine: Engine): Promise<void> {
  await engine.prepare();
  for (const d of engine.storage.atomDetails()) engine.injectAtomArgs(d.name, {}); // a change: the detail is written
  await engine.save();
}

/** A Durable Object's synchronous key-value storage, in a Map (copies in and out, as the real one). */
export class MapKv implements SyncKv {
  readonly map = new Map<string, unknown>();
  get<T>(key: string): T | undefined {
    return structuredClone(this.map.get(key)) as T | undefined;
  }
  put<T>(key: string, value: T): void {
    this.map.set(key, structuredClone(value));
  }
  delete(key: string): boolean {
    return this.map.delete(key);
  }
  list<T>({ prefix }: { prefix: string }): Iterable<[string, T]> {
    return [...this.map].filter(([k]) => k.startsWith(prefix)).sort(([a], [b]) => (a < b ? -1 : 1)) as Array<[string, T]>;
  }
}
