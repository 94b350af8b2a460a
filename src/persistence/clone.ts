/**
 * A structured clone, fast for the plain records and results that make up a log book. Node's
 * `structuredClone` costs about 6 µs even for a tiny object (measured with `npm run bench`: half
 * of an atom's cost on the memory backend), so plain objects, arrays and primitives are copied
 * here, and anything else (Date, Map, typed arrays, errors, or a value nested deeper than 64
 * levels, which is how a cycle shows) goes to the platform's `structuredClone`, which also
 * refuses what cannot be cloned (functions, symbols) with a DataCloneError. As `structuredClone`,
 * it copies frozen objects too, unfrozen: what it returns is the caller's to change.
 * @example books.set(book.uuid, cloneRecord(book)) // later changes to `book` do not reach the store
 */
export function cloneRecord<T>(value: T): T {
  return cloned(value, false);
}

/**
 * A copy to keep in a store: as {@link cloneRecord}, except that a frozen plain object or list
 * whose values are all primitives or such objects (the engine's atom details, audit trail
 * entries and fingerprints) is kept as it is: nothing can change it, so it is as apart from later
 * changes as a copy, and a record is not copied at every commit. What is read back from the store
 * goes through {@link cloneRecord}, so readers get copies they may change.
 * @example atoms.set(detail.uuid, keptClone(detail)) // the engine's frozen record itself; a caller's, a copy
 */
export function keptClone<T>(value: T): T {
  return cloned(value, true);
}

function cloned<T>(value: T, keepFrozen: boolean): T {
  try {
    return copy(value, 0, keepFrozen);
  } catch (e) {
    if (e === TOO_DEEP) return structuredClone(value);
    throw e;
  }
}

const TOO_DEEP = Symbol("too deep");

/**
 * `obj[key] = value` that keeps `"__proto__"` an own property (as JSON.parse and structured
 * clone make it) instead of changing the object's prototype.
 */
export function setOwn(obj: Record<string, unknown>, key: string, value: unknown): void {
  if (key === "__proto__") Object.defineProperty(obj, key, { value, writable: true, enumerable: true, configurable: true });
  else obj[key] = value;
}

/**
 * A shallow copy of a plain object that keys can then be added to. Not a spread: V8 gives an
 * object made by `{ ...o }` a hidden class of its own as soon as a key is added to it (about
 * 400 bytes each, measured with Node 20), where `Object.assign({}, o)` shares one. A `"__proto__"`
 * own key, which assign would turn into a prototype, goes through the spread.
 * @example const next = extensible(record); next.attempts = 1;
 */
export function extensible<T extends object>(o: T): T {
  return Object.hasOwn(o, "__proto__") ? { ...o } : Object.assign({}, o);
}

function copy<T>(value: T, depth: number, keepFrozen: boolean): T {
  if (value === null || typeof value !== "object") {
    return typeof value === "function" || typeof value === "symbol" ? structuredClone(value) : value;
  }
  if (depth > 64) throw TOO_DEEP;
  if (Array.isArray(value)) {
    // A frozen list whose items all come back as they are is kept, as a frozen object is below.
    let out: unknown[] = keepFrozen && Object.isFrozen(value) ? value : new Array(value.length);
    for (let i = 0; i < value.length; i++) {
      const c = copy(value[i], depth + 1, keepFrozen);
      if (out === value) {
        if (c === value[i]) continue;
        out = value.slice();
      }
      out[i] = c;
    }
    return out as T;
  }
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return structuredClone(value);
  // A spread copies a record's keys in one step (V8 clones its shape: the engine's records have a
  // dozen keys, and adding them one by one grows the object as many times); then each value is
  // copied in place. for…in over a plain object sees its own keys only, as the spread copies them.
  // A value copy() returns as it is (a primitive: most of a record's values) stays where the
  // spread put it, unwritten. A frozen object (the journal's records) whose values all come
  // back as they are is kept itself: nothing can change it, so it is as apart from later changes
  // as a copy; it is spread only once a value of it needs a copy.
  const given = value as Record<string, unknown>;
  let out = keepFrozen && Object.isFrozen(given) ? given : { ...given };
  for (const key in out) {
    const v = out[key];
    // A primitive (most of a record's values) without a call: a recursive function is not inlined.
    if (v === null || (typeof v !== "object" && typeof v !== "function" && typeof v !== "symbol")) continue;
    const c = copy(v, depth + 1, keepFrozen);
    if (c === v) continue;
    if (out === given) out = { ...given };
    setOwn(out, key, c);
  }
  return out as T;
}
