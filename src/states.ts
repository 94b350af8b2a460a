import { InvalidState } from "./errors.js";

/**
 * States of a flow (TaskFlow's `states.py`).
 * @example engine.on("flow", (e) => { if (e.state === "SUSPENDED") console.log(`${e.flowName} will resume later`) })
 */
export type FlowState =
  | "PENDING"
  | "RUNNING"
  | "SUCCESS"
  | "FAILURE"
  | "REVERTED"
  | "SUSPENDING"
  | "SUSPENDED"
  | "RESUMING";

/**
 * States of an atom. `RETRYING` is only reachable by retry atoms.
 * @example engine.on("atom", (e) => { if (e.state === "REVERT_FAILURE") console.error(`${e.name} could not be undone`, e.failure) })
 */
export type AtomState =
  | "PENDING"
  | "RUNNING"
  | "SUCCESS"
  | "FAILURE"
  | "REVERTING"
  | "REVERTED"
  | "REVERT_FAILURE"
  | "IGNORE"
  | "RETRYING";

/**
 * What the engine means to do with an atom next.
 * @example engine.on("atom", (e) => { if (e.intention === "REVERT") console.log(`undoing ${e.name}`) })
 */
export type Intention = "EXECUTE" | "IGNORE" | "REVERT" | "RETRY";

/**
 * States of the engine's runner state machine, as yielded by `runIter(engine)`.
 * @example for await (const state of runIter(engine)) if (state === "WAITING") console.log("atoms are running")
 */
export type RunnerState =
  | "RESUMING"
  | "SCHEDULING"
  | "WAITING"
  | "ANALYZING"
  | "SUCCESS"
  | "FAILURE"
  | "REVERTED"
  | "SUSPENDED";

/**
 * Every flow state, in TaskFlow's order: the union as a value, to iterate (the all-pairs test,
 * a legend) or to check a string read from elsewhere.
 * @example for (const s of FLOW_STATES) console.log(s, isFinalFlowState(s))
 */
export const FLOW_STATES: readonly FlowState[] = [
  "PENDING", "RUNNING", "SUCCESS", "FAILURE", "REVERTED", "SUSPENDING", "SUSPENDED", "RESUMING",
];
/**
 * Every atom state, in TaskFlow's order: the union as a value.
 * @example ATOM_STATES.filter((to) => isTaskTransitionAllowed("RUNNING", to)) // ["SUCCESS", "FAILURE"]
 */
export const ATOM_STATES: readonly AtomState[] = [
  "PENDING", "RUNNING", "SUCCESS", "FAILURE", "REVERTING", "REVERTED", "REVERT_FAILURE", "IGNORE", "RETRYING",
];
/**
 * Every intention: the union as a value.
 * @example const known = INTENTIONS.includes(stored as Intention)
 */
export const INTENTIONS: readonly Intention[] = ["EXECUTE", "IGNORE", "REVERT", "RETRY"];

const pairs = (list: string): Set<string> => new Set(list.trim().split(/\s+/));

/** `table[from][to]`: a lookup on the engine's hot path without building a string. */
function lookup(allowed: Set<string>): Record<string, Record<string, true>> {
  const table: Record<string, Record<string, true>> = {};
  for (const pair of allowed) {
    const [from, to] = pair.split(">") as [string, string];
    (table[from] ??= {})[to] = true;
  }
  return table;
}

const ALLOWED_FLOW = pairs(`
  PENDING>RUNNING RUNNING>SUCCESS RUNNING>FAILURE RUNNING>REVERTED RUNNING>SUSPENDING
  RUNNING>RESUMING SUCCESS>RUNNING FAILURE>RUNNING REVERTED>PENDING SUCCESS>PENDING
  SUSPENDING>SUSPENDED SUSPENDING>SUCCESS SUSPENDING>FAILURE SUSPENDING>REVERTED
  SUSPENDING>RESUMING SUSPENDED>RUNNING RESUMING>SUSPENDED`);

// TaskFlow ignores (rather than refuses) a request to suspend or resume a flow at rest.
const IGNORED_FLOW_FROM = new Set<FlowState>(["PENDING", "FAILURE", "SUCCESS", "SUSPENDED", "REVERTED"]);
const IGNORED_FLOW_TO = new Set<FlowState>(["SUSPENDING", "SUSPENDED", "RESUMING"]);

const ALLOWED_TASK = pairs(`
  PENDING>RUNNING PENDING>IGNORE RUNNING>SUCCESS RUNNING>FAILURE FAILURE>REVERTING
  SUCCESS>REVERTING REVERTING>REVERTED REVERTING>REVERT_FAILURE REVERTED>PENDING IGNORE>PENDING`);

const ALLOWED_RETRY = new Set([...ALLOWED_TASK, "SUCCESS>RETRYING", "RETRYING>RUNNING"]);

const TASK_TABLE = lookup(ALLOWED_TASK);
const RETRY_TABLE = lookup(ALLOWED_RETRY);

/**
 * Checks a flow transition against TaskFlow's table: `true` to move, `false` when the
 * request is ignored (same state, or suspend/resume of a flow at rest).
 * @throws InvalidState for any transition the table does not list.
 * @example checkFlowTransition("PENDING", "RUNNING") // true; ("SUCCESS", "SUSPENDING") false; ("SUCCESS", "REVERTED") throws
 */
export function checkFlowTransition(from: FlowState, to: FlowState): boolean {
  if (from === to) return false;
  if (ALLOWED_FLOW.has(`${from}>${to}`)) return true;
  if (IGNORED_FLOW_FROM.has(from) && IGNORED_FLOW_TO.has(to)) return false;
  throw new InvalidState(`flow transition from ${from} to ${to} is not allowed`);
}

/**
 * `true` when TaskFlow's task table allows the transition.
 * @example isTaskTransitionAllowed("SUCCESS", "REVERTING") // true; ("SUCCESS", "RETRYING") false
 */
export function isTaskTransitionAllowed(from: AtomState, to: AtomState): boolean {
  return TASK_TABLE[from]?.[to] === true;
}

/**
 * `true` when TaskFlow's retry table (the task table plus RETRYING) allows the transition.
 * @example isRetryTransitionAllowed("SUCCESS", "RETRYING") // true
 */
export function isRetryTransitionAllowed(from: AtomState, to: AtomState): boolean {
  return RETRY_TABLE[from]?.[to] === true;
}

/**
 * Checks an atom transition; the engine calls this on every change it makes.
 * @throws InvalidState naming the atom when the transition is not in the table.
 * @example checkAtomTransition("task", "charge", "PENDING", "SUCCESS") // throws InvalidState: task "charge": transition from PENDING to SUCCESS is not allowed
 */
export function checkAtomTransition(kind: "task" | "retry", name: string, from: AtomState, to: AtomState): void {
  const allowed = kind === "retry" ? isRetryTransitionAllowed(from, to) : isTaskTransitionAllowed(from, to);
  if (!allowed) throw new InvalidState(`${kind} "${name}": transition from ${from} to ${to} is not allowed`);
}
