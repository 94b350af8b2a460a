import type { AtomFingerprint } from "../persistence/models.js";
import type { ExecutionGraph } from "./compiler.js";

/** What a resume compares: every atom's name, kind, requires, optional, provides and version. */
export function fingerprint(graph: ExecutionGraph): AtomFingerprint[] {
  return [...graph.atoms.values()].map(({ atom, name }) => ({
    name,
    kind: atom?.kind ?? "task",
    requires: [...(atom?.requires ?? [])].sort(),
    optional: [...(atom?.optional ?? [])].sort(),
    provides: [...(atom?.provides ?? [])].sort(),
    version: atom?.version ?? "1.0",
  }));
}
