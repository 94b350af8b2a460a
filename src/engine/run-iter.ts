import type { RunnerState } from "../states.js";

/** Runs the engine's loop through `drive`, handing its states out as an async iterator. */
type Drive = (hook: (state: RunnerState) => Promise<void>) => Promise<void>;

/**
 * The body of `engine.runIter()`: the runner waits for the consumer at each
 * state; leaving the loop early suspends the engine (`suspend`) and waits for running atoms to end.
 */
export async function* iterate(drive: Drive, suspend: () => void): AsyncGenerator<RunnerState, void, undefined> {
  const states: RunnerState[] = [];
  let wakeConsumer: (() => void) | undefined;
  let wakeRunner: (() => void) | undefined;
  let detached = false;
  let end: { error?: unknown } | undefined;
  const driving = drive(async (state) => {
    if (detached) return;
    states.push(state);
    wakeConsumer?.();
    await new Promise<void>((resolve) => (wakeRunner = resolve));
  }).then(
    () => void (end = {}),
    (error: unknown) => void (end = { error }),
  ).finally(() => wakeConsumer?.());
  try {
    for (;;) {
      if (states.length === 0 && !end) await new Promise<void>((resolve) => (wakeConsumer = resolve));
      wakeConsumer = undefined;
      const state = states.shift();
      if (state !== undefined) {
        yield state;
        const resume = wakeRunner;
        wakeRunner = undefined;
        resume?.();
      } else if (end) {
        if ("error" in end) throw end.error;
        return;
      }
    }
  } finally {
    if (!end) {
      detached = true;
      suspend();
      wakeRunner?.();
      await driving;
    }
  }
}
