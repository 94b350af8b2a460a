import type { AtomFingerprint, FlowDetail, FlowFingerprint } from "../persistence/models.js";

/**
 * The changes between the stored definition and the current one that make resuming unsafe:
 * atoms removed or renamed, a kind, requires or provides changed, a major
 * version bumped; a flow renamed (the root too), its kind changed, an atom moved to another
 * flow, a linear flow's items reordered, a graph flow's link added or removed. Added atoms and
 * flows and minor version bumps are compatible (the new atoms start PENDING). A detail stored
 * without flows (by an older version) is compared by its atoms only; one stored without a
 * fingerprint (by a host) is not compared.
 */
export function incompatibilities(stored: FlowDetail, current: readonly AtomFingerprint[], flows: readonly FlowFingerprint[]): string[] {
  const out: string[] = [];
  if (!stored.fingerprint) return out;
  const now = new Map(current.map((a) => [a.name, a]));
  const list = (xs: readonly string[]) => `[${xs.join(", ")}]`;
  for (const old of stored.fingerprint) {
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
  if (stored.flows) structureChanges(stored.flows, flows, now, out);
  return out;
}

/**
 * Compares the flows, matched by their path of names from the root (the root by its current
 * name: a renamed flow is one difference). Each flow is compared as its kind, the items it has
 * in both definitions (in order for a linear flow) and its links between them; an atom it had
 * that is now elsewhere counts as an item it lost.
 */
function structureChanges(stored: readonly FlowFingerprint[], current: readonly FlowFingerprint[], atoms: ReadonlyMap<string, unknown>, out: string[]): void {
  const paths = (fs: readonly FlowFingerprint[]) => {
    const p: string[] = [];
    for (const f of fs) p.push(f.parent === undefined ? String(current[0]?.name) : `${p[f.parent]}/${f.name}`);
    return p;
  };
  const now = new Map(paths(current).map((p, i) => [p, current[i] as FlowFingerprint]));
  // The root's name as stored in the flows: a host may have named the flow detail otherwise.
  if (stored[0] && stored[0].name !== current[0]?.name) out.push(`flow "${stored[0].name}" is now named "${current[0]?.name}"`);
  const shape = (f: FlowFingerprint, keep: (name: string) => boolean) => {
    const items = f.items.filter(keep);
    if (f.pattern !== "linear") items.sort();
    const links = (f.links ?? []).filter((l) => keep(l[0] as string) && keep(l[1] as string));
    const text = `${f.pattern} [${items.join(", ")}]${links.map((l) => `, ${l[0]} → ${l[1]}${l[2] ? ` (decider, depth ${l[2]})` : ""}`).join("")}`;
    return text.length > 300 ? `${text.slice(0, 300)}…` : text;
  };
  paths(stored).forEach((p, i) => {
    const old = stored[i] as FlowFingerprint;
    const cur = now.get(p);
    if (!cur) return out.push(`flow "${p}" was removed or renamed`);
    const items = new Set(cur.items);
    const before = new Set(old.items);
    const was = shape(old, (x) => items.has(x) || atoms.has(x));
    const is = shape(cur, (x) => before.has(x));
    return was !== is && out.push(`flow "${p}" was ${was}, is now ${is}`);
  });
}
