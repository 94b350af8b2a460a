import { DisallowedAccess, NotFound } from "../errors.js";
import { checkStorable } from "../storage/storable.js";
import type { AtomNode, ExecutionGraph, WaitNode } from "./compiler.js";
import { internals, type Engine } from "./engine.js";
import type { Waiting } from "./inputs.js";
import type { Journal } from "./journal.js";

// Values from outside: `provide(engine, …)`, `revise(engine, …)` and `waitingFor(engine)`. They are
// functions, not Engine methods, so that an app that never calls them does not bundle them; what
// only waits need (their schemas, what the flow waits for) comes with the wait's action.

function waitsFor(graph: ExecutionGraph, name?: string): WaitNode[] {
  return [...graph.atoms.values()].filter((n): n is WaitNode => n.kind === "wait" && (name === undefined || n.atom.input === name));
}

/**
 * What the flow waits for now: each input whose wait has been reached without a value, with its
 * schema, description and deadline (nothing, for a flow without waits). A page calls it after a
 * reload to render the step.
 * @example for (const w of await waitingFor(engine)) render(w.name, w.description, w.schema)
 */
export async function waitingFor(engine: Engine<any, any>): Promise<Waiting[]> {
  const { journal, graph } = await internals.read(engine);
  return waitsFor(graph)[0]?.atom.action.waitingFor(journal, graph) ?? [];
}

/**
 * What {@link provide} and {@link revise} take besides the value.
 * @example await provide(engine, "nights", 3, { run: false }) // stored; the flow goes on at the next run
 */
export interface InputOptions {
  /** Whether an idle engine runs the flow after the change (default true); a running engine always picks it up. */
  run?: boolean;
}

/**
 * Provides a value a wait is (or will be) waiting for: validated with the wait's schema (a
 * refused value changes nothing), stored in the log book, then the flow goes on (this runs it,
 * unless `{ run: false }`; a running engine picks it up). A value provided before its wait is
 * reached is kept until then.
 * @throws NotFound for a name no wait of the flow has; InvalidFormat for a refused value;
 * DisallowedAccess when the wait already took its value (use {@link revise})
 * @example await provide(engine, "email", "ada@example.org")
 */
export function provide(engine: Engine<any, any>, name: string, value: unknown, options: InputOptions = {}): Promise<void> {
  return internals.change(engine, (journal, graph) => provideValue(journal, graph, name, value), options.run ?? true);
}

/**
 * Changes an input the flow already read (a store value, or a value provided to a wait), and
 * redoes only what depends on it: the atoms that read it, directly or through what they
 * provide, are reverted (latest first) and run again with the new value; the others keep their
 * results. Every step is written to the log book like any other transition.
 * @throws NotFound when no atom reads `name`; InvalidFormat for a value a wait's schema refuses;
 * DisallowedAccess while an affected atom is running
 * @example await revise(engine, "guests", 3) // reprices the booking; the rest stays as it was
 */
export function revise(engine: Engine<any, any>, name: string, value: unknown, options: InputOptions = {}): Promise<void> {
  return internals.change(engine, (journal, graph, running) => reviseValue(journal, graph, name, value, running), options.run ?? true);
}

/** The value as the waits' schemas accept it, if it can be stored. @throws InvalidFormat */
export async function check(waits: WaitNode[], name: string, value: unknown): Promise<unknown> {
  const checked = waits[0] ? await waits[0].atom.action.check(waits, name, value) : value;
  checkStorable(checked, name, `the value for "${name}"`);
  return checked;
}

/** Validates and buffers a value for a wait (the caller commits); the waits' action does it. */
async function provideValue(journal: Journal, graph: ExecutionGraph, name: string, value: unknown): Promise<void> {
  const waits = waitsFor(graph, name);
  if (!waits[0]) {
    const names = waitsFor(graph).map((n) => n.atom.input);
    throw new NotFound(`flow "${journal.flowDetail.name}" has no wait for "${name}"; it waits for: ${names.join(", ") || "nothing"}`);
  }
  await waits[0].atom.action.provide(journal, waits, name, value);
}

/** Marks what depends on `name` for a revert and a new run, and stores the new value (the caller commits). */
async function reviseValue(journal: Journal, graph: ExecutionGraph, name: string, value: unknown, running: boolean): Promise<void> {
  const waits = waitsFor(graph, name);
  // Who reads each name, built once: following provides through a large flow stays linear.
  const readersOf = new Map<string, Set<AtomNode>>();
  for (const n of graph.atoms.values()) {
    for (const a of n.args) readersOf.set(a.symbol, (readersOf.get(a.symbol) ?? new Set()).add(n));
  }
  const readers = (symbol: string) => readersOf.get(symbol) ?? [];
  const affected = new Set<AtomNode>(waits.length > 0 ? waits : readers(name));
  if (affected.size === 0) {
    throw new NotFound(`flow "${journal.flowDetail.name}" does not read an input named "${name}": no wait and no atom requires it`);
  }
  for (const n of affected) for (const p of n.atom.provides) for (const r of readers(p)) affected.add(r);
  const busy = running ? [...affected].filter((n) => ["RUNNING", "REVERTING", "RETRYING"].includes(journal.detail(n).state)) : [];
  if (busy.length > 0) {
    const names = busy.map((n) => `"${n.name}"`).join(", ");
    throw new DisallowedAccess(`cannot revise "${name}" while ${names} ${busy.length > 1 ? "are" : "is"} running; try again when ${busy.length > 1 ? "they end" : "it ends"}`);
  }
  const checked = await check(waits, name, value);
  for (const n of affected) {
    const d = journal.detail(n);
    if (d.state === "SUCCESS" || d.state === "FAILURE") journal.intend(n.name, "REVERT", { requeue: true });
  }
  const flow = journal.flowDetail;
  journal.updateFlow(waits.length > 0 ? { inputs: { ...(flow.inputs ?? {}), [name]: checked } } : { store: { ...(flow.store ?? {}), [name]: checked } });
}
