import { IncompatibleVersion, InvalidFormat, MissingDependencies, TaskFlowError } from "./errors.js";
import { errorClasses, named, type ErrorClass } from "./error-classes.js";
import { failureProblems } from "./persistence/validate.js";
import { findUnstorable } from "./storage/storable.js";

/**
 * The plain-data form of a {@link Failure}: what the log book and a Worker boundary carry.
 * @example const data: FailureData = Failure.fromError(e).toJSON(); Failure.fromJSON(data).reraise()
 */
export interface FailureData {
  version: 1;
  /** The error's message. */
  exceptionStr: string;
  /** The error's class chain, most derived first: `["NotFound", "TaskFlowError", "Error"]`. */
  excTypeNames: string[];
  tracebackStr?: string | undefined;
  causes: FailureData[];
  /** Any structured-cloneable data the error carried in its own `extra` property. */
  extra?: unknown;
}

/** The class's own `name` on its prototype (ours), else the constructor's name (users'). */
function classNameOf(cls: abstract new (...a: never[]) => Error): string {
  return Object.hasOwn(cls.prototype, "name") ? (cls.prototype.name as string) : cls.name;
}

/**
 * Makes errors of class `cls` come back as that class when a stored {@link Failure} is rethrown.
 * TaskFlow's own errors and JavaScript's built-in errors are registered already.
 * @example registerErrorClass(PaymentDeclined)
 */
export function registerErrorClass(cls: ErrorClass, name: string = classNameOf(cls)): void {
  errorClasses.set(name, cls);
}

/** The class names of `error`, most derived first, after its own `name` (read already). */
function classChain(error: object, name: unknown, unread: string[]): string[] {
  const names: string[] = [];
  const add = (n: unknown) => {
    if (typeof n === "string" && n.length > 0 && !names.includes(n)) names.push(n);
  };
  add(name);
  try {
    // At most 64 steps: a proxy can make the chain endless.
    for (let proto = Object.getPrototypeOf(error), i = 0; proto && proto !== Object.prototype && i++ < 64; proto = Object.getPrototypeOf(proto)) {
      add(Object.hasOwn(proto, "name") ? proto.name : undefined);
      add((proto.constructor as { name?: string } | undefined)?.name);
    }
  } catch (e) {
    unread.push(`class (${safeString(e)})`);
  }
  if (!names.includes("Error")) names.push("Error");
  return names;
}

/**
 * An error captured as data: it can be stored in a log book, sent across a thread, compared,
 * and rethrown as an error of its original class (matched by name).
 *
 * @example
 * const f = Failure.fromError(new TypeError("bad"));
 * const back = Failure.fromJSON(JSON.parse(JSON.stringify(f)));
 * back.check(TypeError); // "TypeError"
 * back.reraise();        // throws a TypeError("bad")
 */
export class Failure {
  declare readonly exceptionStr: string;
  declare readonly excTypeNames: readonly string[];
  declare readonly tracebackStr: string | undefined;
  declare readonly causes: readonly Failure[];
  declare readonly extra: unknown;
  /** The live error, when this failure was captured in this process (not serialized). */
  declare readonly exception: Error | undefined;

  private constructor(data: Omit<FailureData, "version" | "causes" | "excTypeNames"> & { excTypeNames: readonly string[]; causes: readonly Failure[] }, exception?: Error) {
    this.exceptionStr = data.exceptionStr;
    this.excTypeNames = Object.freeze([...data.excTypeNames]);
    this.tracebackStr = data.tracebackStr;
    this.causes = data.causes;
    this.extra = data.extra;
    this.exception = exception;
  }

  /**
   * Captures anything thrown (non-errors become an `Error` with their string form). It never
   * throws: what cannot be read (a getter that throws, a revoked proxy) is left out and the
   * message says so; a message or stack that is not a string is kept as its string form; a cause
   * chain is kept to 32 levels. An `extra` a log book cannot store (a function, a class instance…)
   * makes it an `InvalidFormat` failure that says so, caused by the error without its extra.
   */
  static fromError(thrown: unknown, seen: Set<unknown> = new Set()): Failure {
    const unread: string[] = [];
    const attempt = (what: string, get: () => unknown): unknown => {
      try {
        return get();
      } catch (e) {
        unread.push(`${what} (${safeString(e)})`);
      }
    };
    const error = attempt("class", () => thrown instanceof Error) ? (thrown as Error) : new Error(typeof thrown === "string" ? thrown : safeString(thrown));
    const read = (key: string) => attempt(key, () => (error as unknown as Record<string, unknown>)[key]);
    seen.add(thrown);
    const [message, stack, cause, extra] = ["message", "stack", "cause", "extra"].map(read);
    const excTypeNames = classChain(error, read("name"), unread);
    const causes = cause !== undefined && !seen.has(cause) && seen.size < 32 ? [Failure.fromError(cause, seen)] : [];
    let bad: string | undefined;
    try {
      bad = findUnstorable(extra, "extra");
    } catch (e) {
      bad = `extra (${safeString(e)})`;
    }
    const failure = new Failure(
      {
        exceptionStr: `${typeof message === "string" ? message : safeString(message)}${unread.length > 0 ? ` (could not read the error's ${unread.join(", ")})` : ""}`,
        excTypeNames,
        tracebackStr: typeof stack === "string" ? stack : stack == null ? undefined : safeString(stack),
        causes,
        extra: bad ? undefined : extra,
      },
      error,
    );
    if (!bad) return failure;
    // What was thrown, without its extra, as the cause of an InvalidFormat that says why.
    // (`seen` holds what was thrown: capturing the InvalidFormat does not capture it again.)
    const invalid = new InvalidFormat(`the error's ${bad} cannot be stored in a log book; give it plain data`, { cause: thrown });
    return new Failure({ ...Failure.fromError(invalid, seen), causes: [failure] }, invalid);
  }

  /**
   * Rebuilds a failure from its plain data, checked by the rules a backend checks a stored
   * failure by (src/persistence/validate.ts).
   * @throws InvalidFormat
   */
  static fromJSON(data: unknown): Failure {
    const problem = failureProblems(data);
    if (problem) throw new InvalidFormat(`not a failure record: ${problem}`);
    return Failure.fromData(data as FailureData);
  }

  private static fromData(d: FailureData): Failure {
    return new Failure({ ...d, causes: d.causes.map((c) => Failure.fromData(c)) });
  }

  /** The most derived class name of the captured error. */
  get name(): string {
    return this.excTypeNames[0] ?? "Error";
  }

  toJSON(): FailureData {
    const data: FailureData = {
      version: 1,
      exceptionStr: this.exceptionStr,
      excTypeNames: [...this.excTypeNames],
      causes: this.causes.map((c) => c.toJSON()),
    };
    if (this.tracebackStr !== undefined) data.tracebackStr = this.tracebackStr;
    if (this.extra !== undefined) data.extra = this.extra;
    return data;
  }

  /**
   * The first of `classesOrNames` that this failure's class chain contains, or `undefined`.
   * Works on failures read back from storage, where the live error is gone.
   */
  check(...classesOrNames: Array<string | (abstract new (...a: never[]) => Error)>): string | undefined {
    for (const c of classesOrNames) {
      const name = typeof c === "string" ? c : classNameOf(c);
      if (this.excTypeNames.includes(name)) return name;
    }
    return undefined;
  }

  /** Equal as data: same classes, message, traceback and causes (the live error is ignored). */
  matches(other: Failure): boolean {
    return (
      this.exceptionStr === other.exceptionStr &&
      this.tracebackStr === other.tracebackStr &&
      JSON.stringify(this.excTypeNames) === JSON.stringify(other.excTypeNames) &&
      this.causes.length === other.causes.length &&
      this.causes.every((c, i) => c.matches(other.causes[i] as Failure))
    );
  }

  /**
   * An error of the original class (the first registered name of its chain), with the original
   * message, stack and cause chain. The live error itself when it is still at hand.
   */
  toError(): Error {
    if (this.exception) return this.exception;
    const cls = this.excTypeNames.map((n) => errorClasses.get(n)).find((c) => c !== undefined) ?? Error;
    const error = Object.create(cls.prototype) as Error & { cause?: unknown; extra?: unknown };
    const own = (key: string, value: unknown) =>
      Object.defineProperty(error, key, { value, writable: true, configurable: true }); // not enumerable, as the engine's own
    own("message", this.exceptionStr);
    if (this.tracebackStr !== undefined) own("stack", this.tracebackStr);
    if (this.name !== cls.prototype.name) own("name", this.name);
    if (this.causes[0]) own("cause", this.causes[0].toError());
    if (this.extra !== undefined) own("extra", this.extra);
    if (error instanceof MissingDependencies) own("missing", []);
    if (error instanceof IncompatibleVersion) own("differences", []);
    return error;
  }

  /** Throws {@link toError}. */
  reraise(): never {
    throw this.toError();
  }

  /** `"Failure: RuntimeError: Woot!"`, as TaskFlow prints it. */
  toString(): string {
    return `Failure: ${this.name}: ${this.exceptionStr}`;
  }

  /** Throws nothing for none, the error itself for one, a {@link WrappedFailure} for several. */
  static reraiseIfAny(failures: Iterable<Failure>): void {
    const list = [...failures];
    if (list.length === 1) (list[0] as Failure).reraise();
    if (list.length > 1) throw new WrappedFailure(list);
  }
}

/** `String(value)`, or what can be said of it when that throws (a revoked proxy, a hostile toString). */
function safeString(value: unknown): string {
  try {
    return String(value);
  } catch {
    try {
      return Object.prototype.toString.call(value);
    } catch {
      return `[${typeof value}]`;
    }
  }
}

/**
 * Several failures that happened together (parallel atoms, or an execute failure followed by a
 * revert failure). Nested wraps are flattened; iterate it or use `check`.
 * @example if (e instanceof WrappedFailure) for (const f of e) console.log(f.name, f.exceptionStr)
 */
export class WrappedFailure extends TaskFlowError implements Iterable<Failure> {
  declare readonly failures: readonly Failure[];
  constructor(failures: Iterable<Failure | WrappedFailure>) {
    const flat: Failure[] = [];
    for (const f of failures) {
      if (f instanceof WrappedFailure) flat.push(...f.failures);
      else flat.push(f);
    }
    super(`${flat.length} failures: ${flat.map((f) => `${f.name}: ${f.exceptionStr}`).join("; ")}`);
    this.failures = flat;
  }
  [Symbol.iterator](): Iterator<Failure> {
    return this.failures[Symbol.iterator]();
  }
  /** The first matching class name over all wrapped failures. */
  check(...classesOrNames: Array<string | (abstract new (...a: never[]) => Error)>): string | undefined {
    for (const f of this.failures) {
      const hit = f.check(...classesOrNames);
      if (hit) return hit;
    }
    return undefined;
  }
  static {
    named(this, "WrappedFailure");
  }
}
