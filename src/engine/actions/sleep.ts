import type { SleepNode } from "../compiler.js";
import type { AtomAction } from "./action.js";

/**
 * A sleep: its wake-up time is stored when the engine first reaches it, so a host that goes away
 * resumes waiting only for what is left. Executing it records that time as its result.
 */
export const sleepAction: AtomAction<SleepNode> = {
  kind: "sleep",
  hold(node, { journal, clock }) {
    const d = journal.detail(node.name);
    if (d.state !== "PENDING" || d.wakeAt !== undefined) return undefined; // the stored time holds it
    const w = node.atom.wait;
    journal.setTimer(node.name, { wakeAt: "at" in w ? w.at : clock.now() + w.afterMs });
    return undefined;
  },
  execute: (node, { journal }) => journal.detail(node.name).wakeAt ?? 0,
  revert: () => undefined,
};
