// What waits bring to the engine (through their action): `engine.waitingFor`, `engine.provide`,
// and the schema check of a value provided or revised for a wait. An app without waits does not
// bundle it.
import type { WaitFor } from "../atoms/wait-for.js";
import { DisallowedAccess, InvalidFormat } from "../errors.js";
import { check as checkValue } from "./revise.js";
import type { ExecNode, ExecutionGraph, WaitNode } from "./compiler.js";
import type { Journal } from "./journal.js";

/**
 * An input the flow waits for now.
 * @example for (const w of await waitingFor(engine)) render(w.name, w.description, w.schema)
 */
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
  const inputs = journal.flowDetail.inputs ?? {};
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
    const d = journal.detail(n);
    if (d.state !== "PENDING" || d.intention !== "EXECUTE" || Object.hasOwn(inputs, n.atom.input) || !before(n)) continue;
    out.push({ name: n.atom.input, atom: n.name, description: n.atom.description, deadline: d.deadline, schema: n.atom.schema });
  }
  return out;
}

/** The value as the waits' schemas accept it. @throws InvalidFormat with the schema's messages */
export async function check(waits: WaitNode[], name: string, value: unknown): Promise<unknown> {
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
  return checked;
}

/** Validates and buffers a value for the waits for `name` (the caller commits). @throws DisallowedAccess once they took theirs */
export async function provide(journal: Journal, waits: WaitNode[], name: string, value: unknown): Promise<void> {
  if (waits.some((n) => journal.detail(n).state !== "PENDING")) {
    throw new DisallowedAccess(`flow "${journal.flowDetail.name}" already has its "${name}"; to change it, use revise(engine, "${name}", value)`);
  }
  const checked = await checkValue(waits, name, value);
  journal.updateFlow({ inputs: { ...(journal.flowDetail.inputs ?? {}), [name]: checked } });
}
