import type { RunnerState } from "../states.js";
import { internals, type Engine } from "./engine.js";

/**
 * Runs the flow, yielding each state of the runner state machine as it enters it; the runner
 * waits for the consumer before going on. Leaving the loop early suspends the engine (as
 * TaskFlow does when its `run_iter` generator is closed) and waits for running atoms to end.
 * Like `engine.run()`, it throws the stored failure when the flow ends REVERTED or FAILURE.
 * @example for await (const state of runIter(engine)) if (state === "WAITING") console.log("atoms are running")
 */
export async function* runIter(engine: Engine<any, any>): AsyncGenerator<RunnerState, void, undefined> {
  const states: RunnerState[] = [];
  let wakeConsumer: (() => void) | undefined;
  let wakeRunner: (() => void) | undefined;
  let detached = false;
  let end: { error?: unknown } | undefined;
  const driving = internals.drive(engine, async (state) => {
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
      engine.suspend();
      wakeRunner?.();
      await driving;
    }
  }
}
