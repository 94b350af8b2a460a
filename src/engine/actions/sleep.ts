import type { SleepNode } from "../compiler.js";
import { untilTime, type AtomAction } from "./action.js";

/**
 * A sleep: its wake-up time is stored when the engine first reaches it, so a host that goes away
 * resumes waiting only for what is left. Executing it records that time as its result.
 */
export const sleepAction: AtomAction<SleepNode> = {
  kind: "sleep",
  hold(node, { journal, clock }) {
    const d = journal.detail(node);
    let at = d.wakeAt;
    if (d.state === "PENDING" && at === undefined) {
      const w = node.atom.wait;
      at = "at" in w ? w.at : clock.now() + w.afterMs;
      journal.setTimer(node.name, { wakeAt: at });
    }
    return untilTime(at, clock.now());
  },
  execute: (node, { journal }) => journal.detail(node).wakeAt ?? 0,
  revert: () => undefined,
};
