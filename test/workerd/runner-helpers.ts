import { runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { expect } from "vitest";
import type { FlowRunner, FlowStatus } from "../../adapters/durable-object/index.js";

/** A TestRunner (runner-host.ts) in a new, empty Durable Object. */
export const freshRunner = () => env.FLOW_RUNNER.get(env.FLOW_RUNNER.newUniqueId());
export type RunnerStub = ReturnType<typeof freshRunner>;

export const CHECKOUT_STORE = { cart: "cart-7", price: 90 };
const ENDED = ["SUCCESS", "REVERTED", "FAILURE"];

/**
 * Runs the object's alarm until flow `id` has ended with nothing pending, as the runtime would
 * fire it; fails when the flow is unfinished and no alarm is armed (it would never end).
 */
export async function untilEnded(runner: DurableObjectStub<FlowRunner>, id: string, most = 10): Promise<FlowStatus> {
  for (let i = 0; i <= most; i++) {
    const status = (await runner.get(id)) as FlowStatus;
    if (ENDED.includes(status.state) && !status.pending) return status;
    const ran = await runDurableObjectAlarm(runner);
    expect(ran, `flow "${id}" is ${status.state} (${status.suspendedReason ?? "-"}) and no alarm is armed`).toBe(true);
  }
  throw new Error(`flow "${id}" did not end within ${most} alarms`);
}

/** The error an RPC call rejected with (its name survives the RPC boundary, its class does not). */
export async function rejection(call: Promise<unknown>): Promise<{ name: string; message: string }> {
  const outcome = await call.then(
    () => undefined,
    (e: unknown) => e as Error,
  );
  if (!outcome) throw new Error("expected the call to be refused, and it was not");
  return { name: outcome.name, message: outcome.message };
}

/** Atom states only, in definition order. */
export const states = (status: FlowStatus): Record<string, string> =>
  Object.fromEntries(Object.entries(status.atoms).map(([name, a]) => [name, a.state]));

/** Waits (polling every 10 ms, up to `ms`) until `check` holds; fails saying what it waited for. */
export async function eventually(check: () => Promise<boolean>, ms = 2_000): Promise<void> {
  for (const end = Date.now() + ms; Date.now() < end; ) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  expect(await check(), `still not true after ${ms} ms: ${check.toString()}`).toBe(true);
}
