// The booking wizard's flow: each step waits for the person; the quote reads two answers, the
// reservation reads the quote; everything that acts on the world can be undone.
import * as z from "zod/mini";
import { linearFlow, task, waitFor } from "../../src/index.js";

/** The rooms, with their price a night: the page offers them as choices, the schema accepts only them. */
export const ROOMS = { single: 80, double: 120 } as const;

/** The scope of the BroadcastChannels a worker sends the flow's transitions on, and the page listens to. */
export const CHANNEL_SCOPE = "taskflow-wizard";

/** The BroadcastChannel on which the pages tell the workers that the network came or went ("online", "offline"). */
export const NETWORK_CHANNEL = "taskflow-wizard/network";

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
    // Each schema says in English what it wants: the page shows that message beside the answer.
    waitFor("name", { schema: z.string().check(z.trim(), z.minLength(2, "Please type a name of at least 2 letters.")), description: "Your name" }),
    step("greet", ["name"], "greeting", ({ name }: { name: string }) => `Welcome, ${name}`),
    waitFor("nights", {
      schema: z.coerce.number({ error: "Please type a number of nights, such as 2." }).check(
        z.int("Please type a whole number of nights."),
        z.positive("Please book at least one night."),
        z.lte(30, "We take bookings of up to 30 nights."),
      ),
      description: "Nights",
    }),
    waitFor("room", { schema: z.enum(Object.keys(ROOMS) as Array<keyof typeof ROOMS>, "Please choose a single or a double room."), description: "Room" }),
    step("quote", ["nights", "room"], "price", ({ nights, room }: { nights: number; room: keyof typeof ROOMS }) => nights * ROOMS[room]),
    step("reserve", ["price", "name"], "reservation", ({ price, name }: { price: number; name: string }) => `R-${name.slice(0, 3).toUpperCase()}-${price}`),
    waitFor("confirm", { schema: z.literal("yes", "Please confirm with yes to pay."), description: "Confirm and pay" }),
    step("pay", ["price", "reservation", "confirm"], "receipt", ({ price, reservation }: { price: number; reservation: string; confirm: string }) => `paid ${price} for ${reservation}`),
  );
}
