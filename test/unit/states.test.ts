/**
 * State tables, after TaskFlow's `states.py` and `tests/unit/test_states.py`. Every pair of
 * states is checked against the tables of the reference (§1 "States"), which were also checked
 * against the installed peer (`taskflow.states.check_*_transition` over all pairs).
 */
import { describe, expect, it } from "vitest";
import {
  ATOM_STATES,
  checkAtomTransition,
  checkFlowTransition,
  FLOW_STATES,
  INTENTIONS,
  InvalidState,
  isRetryTransitionAllowed,
  isTaskTransitionAllowed,
  type AtomState,
  type FlowState,
} from "../../src/index.js";
import { thrown } from "./helpers.js";

const ALL_FLOW: FlowState[] = ["PENDING", "RUNNING", "SUCCESS", "FAILURE", "REVERTED", "SUSPENDING", "SUSPENDED", "RESUMING"];
const ALL_ATOM: AtomState[] = ["PENDING", "RUNNING", "SUCCESS", "FAILURE", "REVERTING", "REVERTED", "REVERT_FAILURE", "IGNORE", "RETRYING"];

const set = (s: string) => new Set(s.trim().split(/\s+/));

const FLOW_ALLOWED = set(`
  PENDING>RUNNING RUNNING>SUCCESS RUNNING>FAILURE RUNNING>REVERTED RUNNING>SUSPENDING
  RUNNING>RESUMING SUCCESS>RUNNING FAILURE>RUNNING REVERTED>PENDING SUCCESS>PENDING
  SUSPENDING>SUSPENDED SUSPENDING>SUCCESS SUSPENDING>FAILURE SUSPENDING>REVERTED
  SUSPENDING>RESUMING SUSPENDED>RUNNING RESUMING>SUSPENDED`);
const FLOW_IGNORED_FROM = new Set<FlowState>(["PENDING", "FAILURE", "SUCCESS", "SUSPENDED", "REVERTED"]);
const FLOW_IGNORED_TO = new Set<FlowState>(["SUSPENDING", "SUSPENDED", "RESUMING"]);

const TASK_ALLOWED = set(`
  PENDING>RUNNING PENDING>IGNORE RUNNING>SUCCESS RUNNING>FAILURE FAILURE>REVERTING
  SUCCESS>REVERTING REVERTING>REVERTED REVERTING>REVERT_FAILURE REVERTED>PENDING IGNORE>PENDING`);
const RETRY_ALLOWED = new Set([...TASK_ALLOWED, "SUCCESS>RETRYING", "RETRYING>RUNNING"]);

const pairs = <S extends string>(states: readonly S[]) => states.flatMap((a) => states.map((b) => [a, b] as [S, S]));

describe("state lists", () => {
  it("lists every flow state, atom state and intention", () => {
    expect([...FLOW_STATES].sort()).toEqual([...ALL_FLOW].sort());
    expect([...ATOM_STATES].sort()).toEqual([...ALL_ATOM].sort());
    expect([...INTENTIONS].sort()).toEqual(["EXECUTE", "IGNORE", "RETRY", "REVERT"]);
  });
});

describe("flow transitions", () => {
  it.each(pairs(ALL_FLOW))("%s → %s follows TaskFlow's table", (from, to) => {
    const key = `${from}>${to}`;
    if (from === to) {
      expect(checkFlowTransition(from, to)).toBe(false);
    } else if (FLOW_ALLOWED.has(key)) {
      expect(checkFlowTransition(from, to)).toBe(true);
    } else if (FLOW_IGNORED_FROM.has(from) && FLOW_IGNORED_TO.has(to)) {
      expect(checkFlowTransition(from, to)).toBe(false);
    } else {
      const e = thrown(() => checkFlowTransition(from, to));
      expect(e).toBeInstanceOf(InvalidState);
      expect(e.message).toContain(from);
      expect(e.message).toContain(to);
    }
  });

  it("counts: 17 allowed, 22 ignored (same-state included), 25 refused", () => {
    let allowed = 0;
    let ignored = 0;
    let refused = 0;
    for (const [a, b] of pairs(ALL_FLOW)) {
      try {
        if (checkFlowTransition(a, b)) allowed++;
        else ignored++;
      } catch (e) {
        expect(e).toBeInstanceOf(InvalidState);
        refused++;
      }
    }
    expect([allowed, ignored, refused]).toEqual([17, 22, 25]);
  });

  it("examples from test_states.py", () => {
    expect(checkFlowTransition("PENDING", "RUNNING")).toBe(true);
    expect(checkFlowTransition("SUCCESS", "RUNNING")).toBe(true);
    expect(checkFlowTransition("SUSPENDED", "RUNNING")).toBe(true);
    expect(checkFlowTransition("SUCCESS", "SUSPENDED")).toBe(false);
    expect(checkFlowTransition("PENDING", "RESUMING")).toBe(false);
    expect(() => checkFlowTransition("PENDING", "SUCCESS")).toThrow(InvalidState);
    expect(() => checkFlowTransition("REVERTED", "RUNNING")).toThrow(InvalidState);
    expect(() => checkFlowTransition("RESUMING", "RUNNING")).toThrow(InvalidState);
  });
});

describe("task transitions", () => {
  it.each(pairs(ALL_ATOM))("%s → %s follows TaskFlow's task table", (from, to) => {
    const allowed = TASK_ALLOWED.has(`${from}>${to}`);
    expect(isTaskTransitionAllowed(from, to)).toBe(allowed);
    if (allowed) {
      expect(() => checkAtomTransition("task", "t1", from, to)).not.toThrow();
    } else {
      const e = thrown(() => checkAtomTransition("task", "t1", from, to));
      expect(e).toBeInstanceOf(InvalidState);
      expect(e.message).toContain("t1");
      expect(e.message).toContain(from);
    }
  });

  it("exactly the 10 listed pairs are allowed", () => {
    const allowed = pairs(ALL_ATOM).filter(([a, b]) => isTaskTransitionAllowed(a, b));
    expect(new Set(allowed.map(([a, b]) => `${a}>${b}`))).toEqual(TASK_ALLOWED);
  });

  it("a task never enters RETRYING", () => {
    for (const s of ALL_ATOM) expect(isTaskTransitionAllowed(s, "RETRYING")).toBe(false);
  });
});

describe("retry transitions", () => {
  it.each(pairs(ALL_ATOM))("%s → %s follows TaskFlow's retry table", (from, to) => {
    const allowed = RETRY_ALLOWED.has(`${from}>${to}`);
    expect(isRetryTransitionAllowed(from, to)).toBe(allowed);
    if (allowed) {
      expect(() => checkAtomTransition("retry", "r1", from, to)).not.toThrow();
    } else {
      const e = thrown(() => checkAtomTransition("retry", "r1", from, to));
      expect(e).toBeInstanceOf(InvalidState);
      expect(e.message).toContain("r1");
    }
  });

  it("exactly the task pairs plus SUCCESS→RETRYING and RETRYING→RUNNING are allowed", () => {
    const allowed = pairs(ALL_ATOM).filter(([a, b]) => isRetryTransitionAllowed(a, b));
    expect(allowed).toHaveLength(12);
    expect(new Set(allowed.map(([a, b]) => `${a}>${b}`))).toEqual(RETRY_ALLOWED);
  });
});
