// The booking wizard's flow: each step waits for the person; the quote reads two answers, the
// reservation reads the quote; everything that acts on the world can be undone.
import * as z from "zod/mini";
import { linearFlow, task, waitFor } from "../../src/index.js";

/** The scope of the BroadcastChannels a worker sends the flow's transitions on, and the page listens to. */
export const CHANNEL_SCOPE = "taskflow-wizard";

/** Where the worker records what ran (stored before the step goes on), so a test can count executions across reloads. */
export interface Ledger {
  executed(name: string): Promise<void> | void;
  reverted(name: string): Promise<void> | void;
  /** A step the page asked to be slow takes its time here (waiting, or busy computing). */
  pause(name: string): Promise<void>;
}

export function bookingFlow(ledger: Ledger) {
  const step = <A extends object, R>(name: string, requires: Array<keyof A & string>, provides: string, run: (a: A) => R) =>
    task<A, R>({
      name,
      requires,
      provides,
      needsNetwork: name === "pay",
      execute: async (args) => {
        await ledger.executed(name);
        await ledger.pause(name);
        return run(args);
      },
      revert: () => ledger.reverted(name),
    });
  return linearFlow(
    "booking",
    waitFor("name", { schema: z.string().check(z.minLength(2, "at least 2 letters")), description: "Your name" }),
    step("greet", ["name"], "greeting", ({ name }: { name: string }) => `Welcome, ${name}`),
    waitFor("nights", { schema: z.coerce.number().check(z.int(), z.positive("at least one night")), description: "Nights" }),
    waitFor("room", { schema: z.enum(["single", "double"]), description: "Room" }),
    step("quote", ["nights", "room"], "price", ({ nights, room }: { nights: number; room: string }) => nights * (room === "double" ? 120 : 80)),
    step("reserve", ["price", "name"], "reservation", ({ price, name }: { price: number; name: string }) => `R-${name.slice(0, 3).toUpperCase()}-${price}`),
    waitFor("confirm", { schema: z.literal("yes"), description: "Confirm and pay" }),
    step("pay", ["price", "reservation", "confirm"], "receipt", ({ price, reservation }: { price: number; reservation: string; confirm: string }) => `paid ${price} for ${reservation}`),
  );
}
