import * as z from "zod/mini";
import { FlowRegistry, linearFlow, task, Times, waitFor, type Task } from "../../src/index.js";
import { FLOWS, stepTask, type StepMaker } from "./flows.js";

/** What the test flows need from their runner. */
export interface RunnerHooks {
  /** Counts one start of `name`'s execute (or revert) in the runner's own storage (evictions keep it); returns how many there were. */
  count(kind: "executions" | "reverts", name: string): number;
  /** Resolves when the test opens the gate (`TestRunner.openGate()`). */
  gate(): Promise<void>;
}

/** A minute of backoff: far enough that only a test that moves the clock gets past it. */
export const BACKOFF_MS = 60_000;

/**
 * The flows of the FlowRunner tests, each step counted in storage:
 * - checkout: four steps in a row (flows.ts), the one swept by evictions
 * - declined: reserves, then a charge that always fails, so the reservation is reverted
 * - booking: holds a room, waits for "nights" (a positive integer), then quotes
 * - flaky: a call that fails its first time, retried after a stored backoff (args: the backoff, the call's name)
 * - gated: a step that waits until the test opens the gate (a long call, under the test's control)
 */
export function runnerFlows(tally: RunnerHooks): FlowRegistry {
  const step: StepMaker = (name, requires, compute) =>
    stepTask(name, requires, (args) => {
      tally.count("executions", name);
      return compute(args);
    });
  const counted = (name: string, requires: string[], execute: (args: any) => unknown, revert?: () => unknown): Task<any> =>
    task<Record<string, any>>({
      name,
      requires,
      provides: name,
      execute: (args) => (tally.count("executions", name), execute(args)),
      ...(revert ? { revert: () => (tally.count("reverts", name), revert()) } : {}),
    });
  return new FlowRegistry()
    .register("checkout", () => FLOWS.checkout(step))
    .register("declined", () =>
      linearFlow(
        "declined",
        counted("reserve", ["cart"], ({ cart }: { cart: string }) => `held ${cart}`, () => "released"),
        counted("charge", ["reserve", "price"], () => {
          throw new Error("card declined");
        }),
      ),
    )
    .register("booking", () =>
      linearFlow(
        "booking",
        counted("hold", ["room"], ({ room }: { room: string }) => `holding ${room}`, () => "released"),
        waitFor("nights", { schema: z.number().check(z.int(), z.positive()), description: "How many nights" }),
        counted("quote", ["nights"], ({ nights }: { nights: number }) => nights * 80),
      ),
    )
    .register("flaky", (backoffMs: number = BACKOFF_MS, name = "call") =>
      linearFlow(
        "flaky",
        task({
          name,
          provides: name,
          retry: new Times(3, { backoff: { initialMs: backoffMs, jitter: "none" } }),
          execute: () => {
            if (tally.count("executions", name) === 1) throw new Error("503 from the first call");
            return "answered";
          },
        }),
      ),
    )
    .register("gated", () =>
      linearFlow(
        "gated",
        task({
          name: "slow",
          provides: "slow",
          // Ends when the gate opens, or fails when the engine gives up on it (a cancel).
          execute: (_args, ctx) => {
            tally.count("executions", "slow");
            return new Promise<string>((resolve, reject) => {
              void tally.gate().then(() => resolve("done"));
              ctx.signal.addEventListener("abort", () => reject(ctx.signal.reason as Error));
            });
          },
          revert: () => tally.count("reverts", "slow"),
        }),
      ),
    );
}
