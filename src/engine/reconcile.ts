import type { AtomDetail, FlowDetail } from "../persistence/models.js";
import { checkAtomDetails, pendingAtomDetail } from "../snapshot/rules.js";
import type { AtomNode, ExecutionGraph, RetryNode } from "./compiler.js";

/** What a run resumes from: the details to run with, and what the last host left unfinished. */
export interface Reconciled {
  /** Every atom of the definition in compile order; PENDING (and unstored) where nothing was stored. */
  readonly details: AtomDetail[];
  /** Atoms stored RUNNING or REVERTING: their host went away mid-action, so the action runs again. */
  readonly interrupted: string[];
  /** The flow was reverted: every atom starts over (a new run of a reverted flow). */
  readonly startOver: boolean;
  /** The flow was stored RUNNING or SUSPENDING: its host went away mid-run (reported as TaskFlow does: RESUMING, SUSPENDED). */
  readonly crashed: boolean;
  /** Retries stored RETRYING: their next try starts (their flow goes back to PENDING). */
  readonly retries: RetryNode[];
  /** Atoms stored FAILURE that were still to be resolved: their retry controller decides again (if they still are, once the retries restarted). */
  readonly failures: AtomNode[];
}

/**
 * Resume as reconciliation (a pure function of the definition, the stored records and now):
 * matches stored atom details to the compiled atoms by name and says what the run must replay.
 * Stored atoms the definition no longer has are left in the log book, untouched.
 * @throws InvalidFormat for a stored atom detail the engine did not write for this flow (see
 * checkAtomDetails): a forged second record of an atom must not run it again. `own`: the records
 * are the journal's (a run's start), checked when they were loaded or made, so not again (that
 * check builds an id per atom), and are in compile order, as `Journal.atomDetails()` lists them.
 */
export function reconcile(graph: ExecutionGraph, flow: FlowDetail, stored: readonly AtomDetail[], now: number, own?: boolean): Reconciled {
  if (!own) checkAtomDetails(flow.uuid, stored, (name) => graph.atoms.get(name)?.atom.kind);
  // The journal's own records are its atoms in compile order: matched by position, not by a map of names.
  let byName: Map<string, AtomDetail> | undefined;
  if (!own) for (const d of stored) (byName ??= new Map()).set(d.name, d);
  let i = 0;
  const startOver = flow.state === "REVERTED";
  const out: Reconciled = { details: [], interrupted: [], startOver, crashed: flow.state === "RUNNING" || flow.state === "SUSPENDING", retries: [], failures: [] };
  // One pass: this runs at every load and every run, over every atom of the definition.
  for (const n of graph.atoms.values()) {
    const d = (own ? stored[i++] : byName?.get(n.name)) ?? pendingAtomDetail(flow.uuid, { name: n.name, kind: n.atom.kind, version: n.atom.version }, now);
    out.details.push(d);
    if (d.state === "PENDING" || d.state === "SUCCESS") continue;
    if (d.state === "RUNNING" || d.state === "REVERTING") out.interrupted.push(d.name);
    else if (d.intention !== "EXECUTE") continue;
    // Starting over a reverted flow resets its RETRYING retries too.
    else if (d.state === "RETRYING" && n.kind === "retry" && !startOver) out.retries.push(n);
    else if (d.state === "FAILURE") out.failures.push(n);
  }
  return out;
}
