import { DisallowedAccess, InvalidFormat, NotFound } from "../errors.js";
import { checkStorable } from "../storage/storable.js";
import type { AtomNode, ExecutionGraph, WaitNode } from "./compiler.js";
import type { Waiting } from "./inputs.js";
import type { Journal } from "./journal.js";

// Values from outside: `engine.provide` and `engine.revise`. What only waits need (their schemas,
// what the flow waits for) comes with the wait's action, so an app without waits does not bundle it.

function waitsFor(graph: ExecutionGraph, name?: string): WaitNode[] {
  return [...graph.atoms.values()].filter((n): n is WaitNode => n.kind === "wait" && (name === undefined || n.atom.input === name));
}

/** What the flow waits for now (nothing, for a flow without waits). */
export function waitingFor(journal: Journal, graph: ExecutionGraph): Waiting[] {
  return waitsFor(graph)[0]?.atom.action.waitingFor(journal, graph) ?? [];
}

/** The value as the waits' schemas accept it, if it can be stored. @throws InvalidFormat */
export async function check(waits: WaitNode[], name: string, value: unknown): Promise<unknown> {
  const checked = waits[0] ? await waits[0].atom.action.check(waits, name, value) : value;
  checkStorable(checked, name, `the value for "${name}"`);
  return checked;
}

/** Validates and buffers a value for a wait (the caller commits); the waits' action does it. */
export async function provide(journal: Journal, graph: ExecutionGraph, name: string, value: unknown): Promise<void> {
  const waits = waitsFor(graph, name);
  if (!waits[0]) {
    const names = waitsFor(graph).map((n) => n.atom.input);
    throw new NotFound(`flow "${journal.flowDetail.name}" has no wait for "${name}"; it waits for: ${names.join(", ") || "nothing"}`);
  }
  await waits[0].atom.action.provide(journal, waits, name, value);
}

/** Marks what depends on `name` for a revert and a new run, and stores the new value (the caller commits). */
export async function revise(journal: Journal, graph: ExecutionGraph, name: string, value: unknown, running: boolean): Promise<void> {
  const waits = waitsFor(graph, name);
  // Who reads each name, built once: following provides through a large flow stays linear.
  const readersOf = new Map<string, Set<AtomNode>>();
  for (const n of graph.atoms.values()) {
    for (const a of n.args.values()) readersOf.set(a.symbol, (readersOf.get(a.symbol) ?? new Set()).add(n));
  }
  const readers = (symbol: string) => readersOf.get(symbol) ?? [];
  const affected = new Set<AtomNode>(waits.length > 0 ? waits : readers(name));
  if (affected.size === 0) {
    throw new NotFound(`flow "${journal.flowDetail.name}" does not read an input named "${name}": no wait and no atom requires it`);
  }
  for (const n of affected) for (const p of n.atom.provides) for (const r of readers(p)) affected.add(r);
  const busy = running ? [...affected].filter((n) => ["RUNNING", "REVERTING", "RETRYING"].includes(journal.detail(n.name).state)) : [];
  if (busy.length > 0) {
    const names = busy.map((n) => `"${n.name}"`).join(", ");
    throw new DisallowedAccess(`cannot revise "${name}" while ${names} ${busy.length > 1 ? "are" : "is"} running; try again when ${busy.length > 1 ? "they end" : "it ends"}`);
  }
  const checked = await check(waits, name, value);
  for (const n of affected) {
    const d = journal.detail(n.name);
    if (d.state === "SUCCESS" || d.state === "FAILURE") journal.intend(n.name, "REVERT", { requeue: true });
  }
  const flow = journal.flowDetail;
  journal.updateFlow(waits.length > 0 ? { inputs: { ...(flow.inputs ?? {}), [name]: checked } } : { store: { ...(flow.store ?? {}), [name]: checked } });
}
