import { RequestTimeout } from "../../errors.js";
import type { WaitNode } from "../compiler.js";
import type { ActionHost, AtomAction } from "./action.js";
import { check, provide, waitingFor } from "../inputs.js";

/** A wait's action, with what the engine asks only of flows that have waits. */
export interface WaitAction extends AtomAction<WaitNode> {
  readonly waitingFor: typeof waitingFor;
  readonly check: typeof check;
  readonly provide: typeof provide;
}

/**
 * A wait for an input: held until the value is stored (`engine.provide`) or its deadline passes.
 * The deadline is stored when the wait is first reached, so a reload keeps it. Executing it takes
 * the stored value; its SUCCESS consumes the value from the flow's buffer of inputs.
 */
export const waitAction: WaitAction = {
  kind: "wait",
  waitingFor,
  check,
  provide,
  hold(node, host) {
    const { journal, clock } = host;
    if (journal.detail(node).state !== "PENDING") return undefined;
    const { input, timeoutMs, description } = node.atom;
    let deadline = journal.detail(node).deadline;
    if (deadline === undefined && timeoutMs !== undefined) {
      deadline = clock.now() + timeoutMs;
      journal.setTimer(node.name, { deadline });
    }
    const over = ({ journal }: ActionHost, now: number) => Object.hasOwn(journal.flowDetail.inputs ?? {}, input) || (deadline !== undefined && deadline <= now);
    if (over(host, clock.now())) return undefined;
    return {
      reason: "input",
      at: deadline,
      input: { name: input, ...(description !== undefined && { description }), ...(deadline !== undefined && { deadline }) },
      over,
    };
  },
  execute(node, { journal }) {
    // The engine starts a wait only once its input is stored, or once its deadline has passed.
    const inputs = journal.flowDetail.inputs;
    if (inputs && Object.hasOwn(inputs, node.atom.input)) return inputs[node.atom.input];
    throw new RequestTimeout(`no value was provided for "${node.atom.input}" before its deadline`);
  },
  revert: () => undefined,
  succeeded: (node, { journal }) => journal.consumeInput(node.atom.input),
};
