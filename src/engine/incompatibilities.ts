import type { AtomFingerprint } from "../persistence/models.js";

/**
 * The changes between the stored definition and the current one that make resuming unsafe:
 * atoms removed or renamed, a kind, requires or provides changed, a major version bumped.
 * Added atoms and minor version bumps are compatible (the new atoms start PENDING).
 */
export function incompatibilities(stored: readonly AtomFingerprint[], current: readonly AtomFingerprint[]): string[] {
  const now = new Map(current.map((a) => [a.name, a]));
  const out: string[] = [];
  const list = (xs: readonly string[]) => `[${xs.join(", ")}]`;
  for (const old of stored) {
    const cur = now.get(old.name);
    if (!cur) {
      out.push(`atom "${old.name}" was removed or renamed`);
      continue;
    }
    if (cur.kind !== old.kind) out.push(`atom "${old.name}": kind changed from ${old.kind} to ${cur.kind}`);
    for (const key of ["requires", "optional", "provides"] as const) {
      if (list(cur[key]) !== list(old[key])) out.push(`atom "${old.name}": ${key} changed from ${list(old[key])} to ${list(cur[key])}`);
    }
    if (cur.version.split(".")[0] !== old.version.split(".")[0]) {
      out.push(`atom "${old.name}": major version changed from ${old.version} to ${cur.version}`);
    }
  }
  return out;
}
