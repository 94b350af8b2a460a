// Waits and revisions: what `engine.waitingFor`, `provide` and `revise` do.
import type { WaitFor } from "../atoms/wait-for.js";
import { DisallowedAccess, InvalidFormat, NotFound } from "../errors.js";
import { findUnstorable } from "../storage/storable.js";
import type { AtomNode, ExecNode, ExecutionGraph, WaitNode } from "./compiler.js";
import type { Journal } from "./journal.js";

/** An input the flow waits for now. */
export interface Waiting {
  name: string;
  /** The wait atom's name. */
  atom: string;
  description?: string | undefined;
  /** When the wait fails if no value comes (ms since the epoch). */
  deadline?: number | undefined;
  schema?: WaitFor["schema"];
}

export function waitingFor(journal: Journal, graph: ExecutionGraph): Waiting[] {
  const inputs = journal.flowDetail.meta.inputs ?? {};
  const done = new Map<ExecNode, boolean>();
  // Whether everything before `n` is done (through flow markers), as the runner's gates say.
  const before = (n: ExecNode): boolean =>
    n.preds.every((i) => {
      const p = graph.nodes[i] as ExecNode;
      let ok = done.get(p);
      if (ok === undefined) {
        const d = p.atom ? journal.detail(p.name) : undefined;
        ok = d ? d.state === "IGNORE" || (d.state === "SUCCESS" && d.intention === "EXECUTE") : before(p);
        done.set(p, ok);
      }
      return ok;
    });
  const out: Waiting[] = [];
  for (const n of graph.atoms.values()) {
    if (n.kind !== "wait") continue;
    const d = journal.detail(n.name);
    if (d.state !== "PENDING" || d.intention !== "EXECUTE" || Object.hasOwn(inputs, n.atom.input) || !before(n)) continue;
    out.push({ name: n.atom.input, atom: n.name, description: n.atom.description, deadline: d.meta.deadline, schema: n.atom.schema });
  }
  return out;
}

function waitsFor(graph: ExecutionGraph, name: string): WaitNode[] {
  return [...graph.atoms.values()].filter((n): n is WaitNode => n.kind === "wait" && n.atom.input === name);
}

/** Validates and buffers a value for a wait (the caller commits). */
export async function provide(journal: Journal, graph: ExecutionGraph, name: string, value: unknown): Promise<void> {
  const waits = waitsFor(graph, name);
  if (waits.length === 0) {
    const names = [...graph.atoms.values()].flatMap((n) => (n.kind === "wait" ? [n.atom.input] : []));
    throw new NotFound(`flow "${journal.flowDetail.name}" has no wait for "${name}"; it waits for: ${names.join(", ") || "nothing"}`);
  }
  if (waits.some((n) => journal.detail(n.name).state !== "PENDING")) {
    throw new DisallowedAccess(`flow "${journal.flowDetail.name}" already has its "${name}"; to change it, use revise("${name}", value)`);
  }
  const checked = await check(waits, name, value);
  journal.flowMeta({ inputs: { ...(journal.flowDetail.meta.inputs ?? {}), [name]: checked } });
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
  const meta = journal.flowDetail.meta;
  journal.flowMeta(waits.length > 0 ? { inputs: { ...(meta.inputs ?? {}), [name]: checked } } : { store: { ...(meta.store ?? {}), [name]: checked } });
}

/** The value as the waits' schemas accept it. @throws InvalidFormat with the schema's messages */
async function check(waits: WaitNode[], name: string, value: unknown): Promise<unknown> {
  let checked = value;
  for (const n of waits) {
    const schema = n.atom.schema;
    if (!schema) continue;
    const result = await schema["~standard"].validate(checked);
    if (result.issues) {
      const why = result.issues.map((i) => {
        const path = (i.path ?? []).map((p) => String(typeof p === "object" ? p.key : p)).join(".");
        return path ? `${path}: ${i.message}` : i.message;
      });
      throw new InvalidFormat(`value for "${name}" refused: ${why.join("; ")}`);
    }
    checked = result.value;
  }
  const bad = findUnstorable(checked, name);
  if (bad !== undefined) throw new InvalidFormat(`value for "${name}" cannot be stored: ${bad}; provide plain, structured-cloneable data`);
  return checked;
}
