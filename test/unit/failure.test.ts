/**
 * Failures as data, after TaskFlow's `types/failure.py` and `tests/unit/test_failure.py`.
 */
import { describe, expect, it } from "vitest";
import {
  Failure,
  IncompatibleVersion,
  InvalidFormat,
  MissingDependencies,
  NotFound,
  registerErrorClass,
  TaskFlowError,
  load,
  unorderedFlow,
  task,
  WrappedFailure,
  type FailureData,
} from "../../src/index.js";
import * as errors from "../../src/errors.js";
import { InvalidDuration } from "../../src/index.js";
import { rejection, RuntimeError, sleep, thrown } from "./helpers.js";

class PaymentDeclined extends Error {
  override name = "PaymentDeclined";
}
registerErrorClass(PaymentDeclined);

class NeverRegistered extends Error {
  override name = "NeverRegistered";
}

/** A failure as it comes back from a log book: through JSON, without the live error. */
const reloaded = (f: Failure) => Failure.fromJSON(JSON.parse(JSON.stringify(f.toJSON())));

const capture = (fn: () => never | void): Failure => {
  try {
    fn();
  } catch (e) {
    return Failure.fromError(e);
  }
  throw new Error("nothing thrown");
};

describe("Failure.fromError", () => {
  it("captures the message, the class chain and the stack", () => {
    const f = Failure.fromError(new RuntimeError("Woot!"));
    expect(f.exceptionStr).toBe("Woot!");
    expect(f.name).toBe("RuntimeError");
    expect(f.excTypeNames).toEqual(["RuntimeError", "Error"]);
    expect(f.tracebackStr).toContain("Woot!");
    expect(f.exception).toBeInstanceOf(RuntimeError);
    expect(f.toString()).toBe("Failure: RuntimeError: Woot!");
    expect(f.causes).toEqual([]);
  });

  it("records the whole class chain of TaskFlow errors", () => {
    const f = Failure.fromError(new MissingDependencies("nope"));
    expect(f.excTypeNames).toEqual(["MissingDependencies", "DependencyFailure", "TaskFlowError", "Error"]);
    expect(f.toString()).toBe("Failure: MissingDependencies: nope");
  });

  it("rebuilds every error class of taskflow-ts as itself from a stored failure, by its name", () => {
    // Each class registers itself as it is defined (src/error-classes.ts): none may be missed.
    const ours = [...Object.values(errors), InvalidDuration, WrappedFailure];
    expect(ours.length).toBeGreaterThan(20);
    for (const cls of ours) {
      const stored = Failure.fromJSON({ version: 1, exceptionStr: "stored", excTypeNames: [cls.prototype.name, "Error"], causes: [] });
      const error = stored.toError();
      expect(error).toBeInstanceOf(cls);
      expect(error.name).toBe(cls.prototype.name);
      expect(Object.hasOwn(cls.prototype, "name")).toBe(true);
    }
  });

  it("captures things that are not errors as an Error with their string form", () => {
    const f = Failure.fromError("just a string");
    expect(f.name).toBe("Error");
    expect(f.exceptionStr).toBe("just a string");
    expect(Failure.fromError(42).exceptionStr).toBe("42");
  });

  it("keeps the cause chain", () => {
    const inner = new TypeError("inner");
    const middle = new NotFound("middle", { cause: inner });
    const outer = new RuntimeError("outer", { cause: middle });
    const f = Failure.fromError(outer);
    expect(f.causes).toHaveLength(1);
    expect(f.causes[0]?.name).toBe("NotFound");
    expect(f.causes[0]?.causes[0]?.name).toBe("TypeError");
    expect(f.causes[0]?.causes[0]?.exceptionStr).toBe("inner");
  });

  it("does not loop on a cyclic cause chain", () => {
    const a = new Error("a");
    const b = new Error("b", { cause: a });
    (a as { cause?: unknown }).cause = b;
    const f = Failure.fromError(a);
    expect(f.causes).toHaveLength(1);
    expect(f.causes[0]?.exceptionStr).toBe("b");
    expect(f.causes[0]?.causes).toEqual([]);
  });
});

// Issue 11, items 3 and 4: capturing what was thrown never throws, and what it captures is a
// failure record the log book accepts (strings where strings belong).
describe("Failure.fromError on values that resist being read", () => {
  const throwing = (what: string) => () => {
    throw new RangeError(`no ${what} for you`);
  };
  /** Through JSON and the record check, as a backend would read it back. */
  const stored = (f: Failure) => Failure.fromJSON(JSON.parse(JSON.stringify(f.toJSON())));

  it.each(["name", "message", "stack", "cause", "extra"])("an error whose %s getter throws is captured, saying what could not be read", (key) => {
    const error = new TypeError("bad input");
    Object.defineProperty(error, key, { get: throwing(key), configurable: true });
    const f = Failure.fromError(error);
    // (V8 builds `stack` from `name` and `message` when it is first read: it may fail with them.)
    expect(f.exceptionStr).toMatch(/ \(could not read the error's .*\)$/);
    expect(f.exceptionStr).toContain(`${key} (RangeError: no ${key} for you)`);
    if (key !== "message") expect(f.exceptionStr).toMatch(/^bad input/);
    expect(f.check(TypeError)).toBe("TypeError");
    expect(f.exception).toBe(error);
    expect(stored(f).matches(f)).toBe(true);
  });

  it("a revoked proxy is captured as an Error saying that it could not be read", () => {
    const { proxy, revoke } = Proxy.revocable({}, {});
    revoke();
    const f = Failure.fromError(proxy);
    expect(f.name).toBe("Error");
    expect(f.exceptionStr).toMatch(/could not read .*revoked/);
    expect(f.exception).toBeInstanceOf(Error);
    expect(stored(f).matches(f)).toBe(true);
  });

  it("a value whose string forms all throw, and an error class whose name getter throws, are captured", () => {
    const hostile = { toString: throwing("string"), get [Symbol.toStringTag]() { return throwing("tag")(); } };
    expect(typeof Failure.fromError(hostile).exceptionStr).toBe("string");
    class Sneaky extends Error {
      static override get name(): string {
        throw new Error("no class name");
      }
    }
    const f = Failure.fromError(new Sneaky("sneaky"));
    expect(f.exceptionStr).toMatch(/^sneaky .*no class name/);
    expect(f.excTypeNames).toContain("Error");
    expect(stored(f).matches(f)).toBe(true);
  });

  it.each([
    ["a number", 42, "42"],
    ["an object", { code: 7 }, "[object Object]"],
    ["a symbol", Symbol("why"), "Symbol(why)"],
    ["null", null, "null"],
    ["undefined", undefined, "undefined"],
  ])("an error whose message is %s is stored with the message as a string", (_what, message, expected) => {
    const error = new Error("x");
    Object.defineProperty(error, "message", { value: message });
    // (V8 cannot build the stack of an error whose message is a symbol: that is said after it.)
    expect(stored(Failure.fromError(error)).exceptionStr.startsWith(expected)).toBe(true);
  });

  it.each([
    ["a number", 42, "42"],
    ["an object", { frames: [] }, "[object Object]"],
    ["a symbol", Symbol("trace"), "Symbol(trace)"],
    ["null", null, undefined],
  ])("an error whose stack is %s is stored with the stack as a string or none", (_what, stack, expected) => {
    const error = new Error("x");
    Object.defineProperty(error, "stack", { value: stack });
    expect(stored(Failure.fromError(error)).tracebackStr).toBe(expected);
  });

  it("keeps a long cause chain up to a bounded depth, so that reading it back cannot overflow the stack", () => {
    let error = new Error("root");
    for (let i = 0; i < 2_000; i++) error = new Error(`level ${i}`, { cause: error });
    const f = stored(Failure.fromError(error));
    let depth = 0;
    for (let c: Failure | undefined = f; c; c = c.causes[0]) depth++;
    expect(depth).toBeGreaterThan(10);
    expect(depth).toBeLessThanOrEqual(64);
    expect(f.exceptionStr).toBe("level 1999");
  });
});

describe("JSON round trip", () => {
  it("toJSON has TaskFlow's fields and version 1", () => {
    const data = Failure.fromError(new RuntimeError("Woot!")).toJSON();
    expect(data.version).toBe(1);
    expect(data.exceptionStr).toBe("Woot!");
    expect(data.excTypeNames).toEqual(["RuntimeError", "Error"]);
    expect(typeof data.tracebackStr).toBe("string");
    expect(data.causes).toEqual([]);
  });

  it("a reloaded failure matches the original, but has no live error", () => {
    const f = Failure.fromError(new RuntimeError("Woot!", { cause: new TypeError("why") }));
    const back = reloaded(f);
    expect(back.matches(f)).toBe(true);
    expect(f.matches(back)).toBe(true);
    expect(back.exception).toBeUndefined();
    expect(back.toJSON()).toEqual(f.toJSON());
    expect(back.toString()).toBe("Failure: RuntimeError: Woot!");
  });

  it("matches compares messages, classes, tracebacks and causes", () => {
    const make = (msg: string, cause?: Error) => Failure.fromError(new RuntimeError(msg, cause ? { cause } : undefined));
    const f = make("Woot!");
    expect(f.matches(make("Woot!"))).toBe(false); // a different stack
    const data = f.toJSON();
    expect(Failure.fromJSON({ ...data, exceptionStr: "other" }).matches(f)).toBe(false);
    expect(Failure.fromJSON({ ...data, excTypeNames: ["TypeError", "Error"] }).matches(f)).toBe(false);
    const withCause: FailureData = { ...data, causes: [Failure.fromError(new Error("c")).toJSON()] };
    expect(Failure.fromJSON(withCause).matches(f)).toBe(false);
    expect(Failure.fromJSON({ ...data }).matches(f)).toBe(true);
  });

  it("keeps extra data the error carried", () => {
    const e = Object.assign(new PaymentDeclined("card"), { extra: { code: 51, retry: false } });
    const back = reloaded(Failure.fromError(e));
    expect(back.extra).toEqual({ code: 51, retry: false });
    expect((back.toError() as { extra?: unknown }).extra).toEqual({ code: 51, retry: false });
  });

  it.each([
    ["not an object", "boom"],
    ["no version", { exceptionStr: "x", excTypeNames: ["Error"], causes: [] }],
    ["a future version", { version: 2, exceptionStr: "x", excTypeNames: ["Error"], causes: [] }],
    ["no class names", { version: 1, exceptionStr: "x", excTypeNames: [], causes: [] }],
    ["a bad cause", { version: 1, exceptionStr: "x", excTypeNames: ["Error"], causes: [{ version: 1 }] }],
  ])("fromJSON refuses %s with InvalidFormat", (_what, data) => {
    expect(() => Failure.fromJSON(data)).toThrow(InvalidFormat);
  });
});

describe("check", () => {
  const f = reloaded(Failure.fromError(new MissingDependencies("nope")));

  it("finds a class or a name anywhere in the chain, after a reload", () => {
    expect(f.check(MissingDependencies)).toBe("MissingDependencies");
    expect(f.check(TaskFlowError)).toBe("TaskFlowError");
    expect(f.check("DependencyFailure")).toBe("DependencyFailure");
    expect(f.check(Error)).toBe("Error");
  });

  it("returns the first of the arguments that matches, or undefined", () => {
    expect(f.check(NotFound, "DependencyFailure", MissingDependencies)).toBe("DependencyFailure");
    expect(f.check(NotFound, RuntimeError, "Nope")).toBeUndefined();
    expect(f.check()).toBeUndefined();
  });

  it("works for user classes by their name", () => {
    const p = reloaded(Failure.fromError(new PaymentDeclined("card")));
    expect(p.check(PaymentDeclined)).toBe("PaymentDeclined");
    expect(p.check(RuntimeError)).toBeUndefined();
  });
});

describe("reraise and toError", () => {
  it("rethrows the live error itself while it is at hand", () => {
    const e = new RuntimeError("Woot!");
    const f = Failure.fromError(e);
    expect(thrown(() => f.reraise())).toBe(e);
  });

  it("a reloaded TaskFlow error comes back as its class", () => {
    const back = reloaded(Failure.fromError(new NotFound("no such thing")));
    const e = thrown(() => back.reraise());
    expect(e).toBeInstanceOf(NotFound);
    expect(e).toBeInstanceOf(TaskFlowError);
    expect(e).toBeInstanceOf(Error);
    expect(e.message).toBe("no such thing");
    expect(e.name).toBe("NotFound");
    expect((e as NotFound).code).toBe("NotFound");
    expect(e.stack).toBe(back.tracebackStr);
  });

  it("reloaded errors with extra fields get safe defaults", () => {
    const md = thrown(() => reloaded(Failure.fromError(new MissingDependencies("m", [{ atom: "a", symbol: "x" }]))).reraise());
    expect(md).toBeInstanceOf(MissingDependencies);
    expect((md as MissingDependencies).missing).toEqual([]);
    const iv = reloaded(Failure.fromError(new IncompatibleVersion("v", ["d"]))).toError();
    expect(iv).toBeInstanceOf(IncompatibleVersion);
    expect((iv as IncompatibleVersion).differences).toEqual([]);
  });

  it("a user class registered with registerErrorClass comes back as that class", () => {
    const e = reloaded(Failure.fromError(new PaymentDeclined("card declined"))).toError();
    expect(e).toBeInstanceOf(PaymentDeclined);
    expect(e.message).toBe("card declined");
    expect(e.name).toBe("PaymentDeclined");
  });

  it("an unregistered class comes back as the nearest registered one, keeping its name", () => {
    const e = reloaded(Failure.fromError(new NeverRegistered("who"))).toError();
    expect(e).toBeInstanceOf(Error);
    expect(e).not.toBeInstanceOf(NeverRegistered);
    expect(e.name).toBe("NeverRegistered");
    expect(e.message).toBe("who");
  });

  it("built-in classes come back as themselves", () => {
    expect(reloaded(Failure.fromError(new TypeError("t"))).toError()).toBeInstanceOf(TypeError);
    expect(reloaded(Failure.fromError(new RangeError("r"))).toError()).toBeInstanceOf(RangeError);
  });

  it("the cause chain is rebuilt", () => {
    const f = reloaded(Failure.fromError(new RuntimeError("outer", { cause: new NotFound("inner", { cause: new TypeError("root") }) })));
    const e = f.toError();
    expect(e).toBeInstanceOf(RuntimeError);
    const cause = (e as { cause?: unknown }).cause as Error;
    expect(cause).toBeInstanceOf(NotFound);
    expect(cause.message).toBe("inner");
    const root = (cause as { cause?: unknown }).cause as Error;
    expect(root).toBeInstanceOf(TypeError);
    expect(root.message).toBe("root");
  });

  it("reraiseIfAny: nothing for none, the error for one, a WrappedFailure for several", () => {
    expect(() => Failure.reraiseIfAny([])).not.toThrow();
    const one = capture(() => {
      throw new RuntimeError("one");
    });
    const two = capture(() => {
      throw new TypeError("two");
    });
    expect(thrown(() => Failure.reraiseIfAny([one]))).toBe(one.exception);
    const w = thrown(() => Failure.reraiseIfAny([one, two]));
    expect(w).toBeInstanceOf(WrappedFailure);
    expect((w as WrappedFailure).failures).toEqual([one, two]);
  });
});

describe("WrappedFailure", () => {
  const a = Failure.fromError(new RuntimeError("Woot!"));
  const b = Failure.fromError(new NotFound("gone"));
  const c = Failure.fromError(new TypeError("typed"));

  it("is a TaskFlow error holding the failures, iterable and checkable", () => {
    const w = new WrappedFailure([a, b]);
    expect(w).toBeInstanceOf(TaskFlowError);
    expect(w.name).toBe("WrappedFailure");
    expect([...w]).toEqual([a, b]);
    expect(w.message).toContain("2 failures");
    expect(w.message).toContain("RuntimeError: Woot!");
    expect(w.message).toContain("NotFound: gone");
    expect(w.check(NotFound)).toBe("NotFound");
    expect(w.check("RuntimeError")).toBe("RuntimeError");
    expect(w.check(TypeError)).toBeUndefined();
  });

  it("flattens nested wraps", () => {
    const w = new WrappedFailure([new WrappedFailure([a, b]), c]);
    expect(w.failures).toEqual([a, b, c]);
    expect(w.message).toContain("3 failures");
  });

  it("round-trips as a failure of class WrappedFailure", () => {
    const f = reloaded(Failure.fromError(new WrappedFailure([a, b])));
    expect(f.check(WrappedFailure)).toBe("WrappedFailure");
    expect(f.check(TaskFlowError)).toBe("TaskFlowError");
    expect(f.toError()).toBeInstanceOf(WrappedFailure);
  });

  it("the parallel engine raises a WrappedFailure when two concurrent atoms fail", async () => {
    const boom = (name: string, message: string) =>
      task({
        name,
        execute: async () => {
          await sleep(2);
          throw new RuntimeError(message);
        },
      });
    const e = load(unorderedFlow("both", boom("a", "first"), boom("b", "second")), { engine: "parallel" });
    const error = await rejection(e.run());
    expect(error).toBeInstanceOf(WrappedFailure);
    const w = error as WrappedFailure;
    expect(w.failures).toHaveLength(2);
    expect(w.failures.map((f) => f.exceptionStr).sort()).toEqual(["first", "second"]);
    expect(w.check(RuntimeError)).toBe("RuntimeError");
    expect(e.storage.flowDetail.state).toBe("REVERTED");
    expect(Object.keys(e.storage.executeFailures()).sort()).toEqual(["a", "b"]);
  });
});
