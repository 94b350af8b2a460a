/**
 * Where `value` holds something a log book cannot store (a function, a symbol, a promise, a weak
 * collection), as a path like `result.items[2].callback`; `undefined` when it is storable.
 * Results must be structured-cloneable so that every backend stores them the same way.
 */
export function findUnstorable(value: unknown, path = "result", seen = new Set<object>()): string | undefined {
  if (value === null) return undefined;
  const t = typeof value;
  if (t === "function") return `${path} (a function)`;
  if (t === "symbol") return `${path} (a symbol)`;
  if (t !== "object") return undefined;
  const obj = value as object;
  if (seen.has(obj)) return undefined;
  seen.add(obj);
  if (obj instanceof Promise) return `${path} (a promise: await it before returning)`;
  if (obj instanceof WeakMap || obj instanceof WeakSet || obj instanceof WeakRef) return `${path} (a weak collection)`;
  if (Array.isArray(obj)) {
    for (let i = 0; i < obj.length; i++) {
      const bad = findUnstorable(obj[i], `${path}[${i}]`, seen);
      if (bad) return bad;
    }
    return undefined;
  }
  if (obj instanceof Map) {
    for (const [k, v] of obj) {
      const bad = findUnstorable(k, `${path}.<key>`, seen) ?? findUnstorable(v, `${path}.get(${String(k)})`, seen);
      if (bad) return bad;
    }
    return undefined;
  }
  if (obj instanceof Set) {
    for (const v of obj) {
      const bad = findUnstorable(v, `${path}.<item>`, seen);
      if (bad) return bad;
    }
    return undefined;
  }
  if (ArrayBuffer.isView(obj) || obj instanceof ArrayBuffer || obj instanceof Date || obj instanceof RegExp || obj instanceof Error) {
    return undefined;
  }
  for (const key of Object.keys(obj)) {
    const bad = findUnstorable((obj as Record<string, unknown>)[key], `${path}.${key}`, seen);
    if (bad) return bad;
  }
  return undefined;
}
