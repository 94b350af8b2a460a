import { InvalidFormat } from "../errors.js";

/**
 * Where `value` holds something a log book cannot store as it is, as a path like
 * `result.items[2].callback (a function)`; `undefined` when it is storable. One rule for every
 * value the engine writes (results, a failure's `extra`, the store, inputs, injected arguments,
 * progress details), checked before it is queued, so that a value no backend keeps fails the
 * atom or the call that brought it instead of every later write.
 *
 * Storable is what every backend keeps as it is (they store structured clones) and a JSON dump
 * can write: null, undefined, booleans, numbers, strings; arrays and plain objects (prototype
 * `Object.prototype` or null) of storable values, without cycles; Date, RegExp, Map, Set,
 * ArrayBuffer and typed arrays (a JSON dump writes these as strings or objects). Refused:
 * functions, symbols, bigints and cycles (JSON cannot write them), promises, errors, class
 * instances (a structured clone drops their class) and host objects such as URL (it refuses them).
 */
export function findUnstorable(value: unknown, path = "result", parents?: Set<object>): string | undefined {
  const t = typeof value;
  if (value == null || t === "string" || t === "number" || t === "boolean") return undefined;
  if (t !== "object") return `${path} (a ${t})`;
  const obj = value as object;
  // Made for an object only: most results are primitives, checked once per atom.
  parents ??= new Set<object>();
  if (parents.has(obj)) return `${path} (a cycle)`;
  const proto = Object.getPrototypeOf(obj);
  let bad: string | undefined;
  parents.add(obj);
  if (Array.isArray(obj)) {
    for (let i = 0; i < obj.length && !bad; i++) bad = findUnstorable(obj[i], `${path}[${i}]`, parents);
  } else if (proto === Object.prototype || proto === null) {
    // for…in over a plain object sees its own keys only.
    for (const key in obj) if ((bad = findUnstorable((obj as Record<string, unknown>)[key], `${path}.${key}`, parents))) break;
  } else if (obj instanceof Map || obj instanceof Set) {
    for (const entry of obj.entries()) if ((bad = findUnstorable(entry, `${path}.<entry>`, parents))) break;
  } else if (!(ArrayBuffer.isView(obj) || obj instanceof ArrayBuffer || obj instanceof Date || obj instanceof RegExp)) {
    bad = `${path} (a ${(proto.constructor as { name?: string } | undefined)?.name || "class"} instance)`;
  }
  parents.delete(obj);
  return bad;
}

/**
 * The value, if it is storable (`findUnstorable`); `what` names it in the message. Public
 * so that a host can refuse a value before it sends it anywhere (the Web Worker client checks
 * inputs in the page, where a class instance is still one: a structured clone would make it a
 * plain object on the way).
 * @throws InvalidFormat `<what> cannot be stored in a log book: <path> (what it is); use plain data`
 * @example checkStorable(value, "email", `the value provided for "email"`) // throws InvalidFormat for a function, a class instance…
 */
export function checkStorable<T>(value: T, path: string, what: string): T {
  const bad = findUnstorable(value, path);
  if (bad) throw new InvalidFormat(`${what} cannot be stored in a log book: ${bad}; use plain data`);
  return value;
}
