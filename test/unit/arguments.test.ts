/**
 * Argument mapping and scoping, after TaskFlow's `test_arguments_passing.py`,
 * `action_engine/test_scoping.py` and the scoping rules of `storage.py` (reference §1).
 * Note: in this port an atom's `inject` (and `injectAtomArgs`) is keyed by argument name; in
 * TaskFlow it is keyed by the (rebound) storage name.
 */
import { describe, expect, it } from "vitest";
// The compiler's argument resolution is internal: read it from the module, not the public graph.
import { compile as compileGraph, type AtomNode } from "../../src/engine/compiler.js";
import {
  CompilationFailure,
  graphFlow,
  linearFlow,
  load,
  MissingDependencies,
  NotFound,
  run,
  task,
  unorderedFlow,
  type Engine,
  type FlowItem,
} from "../../src/index.js";
import { ENGINES, progressing, rejection } from "./helpers.js";

/** Finds an argument in a compiled atom's list of arguments, by its name. */
const named = (arg: string) => (entry: AtomNode["args"][number]) => entry.arg === arg;

type XYZ = { x: number; y: number; z: number };
const multiArgOneReturn = (extra: Partial<Parameters<typeof task<XYZ, number>>[0]> = {}) =>
  task<XYZ, number>({ name: "task", requires: ["x", "y", "z"], ...extra, execute: ({ x, y, z }) => x + y + z });

describe.each(ENGINES)("%s engine", (engine) => {
  const make = (flow: FlowItem, store?: Record<string, unknown>): Engine => load(flow, { engine, ...(store ? { store } : {}) });
  const injectAndRun = async (flow: FlowItem, values: Record<string, unknown>) => {
    const e = make(flow);
    await e.prepare();
    e.inject(values);
    await e.run();
    return e;
  };

  describe("provides", () => {
    it("a string takes the whole result (save_as)", async () => {
      expect(await run(task({ name: "task1", provides: "first_data", execute: () => 1 }), { engine })).toEqual({ first_data: 1 });
    });

    it("a string takes an array result whole (save_all_in_one)", async () => {
      expect(await run(task({ name: "t", provides: "all_data", execute: () => [1, 3, 5] }), { engine })).toEqual({ all_data: [1, 3, 5] });
    });

    it("a list maps names to the items of an array result (save_several_values)", async () => {
      const t = task({ name: "t", provides: ["badger", "mushroom", "snake"], execute: () => [1, 3, 5] });
      expect(await run(t, { engine })).toEqual({ badger: 1, mushroom: 3, snake: 5 });
    });

    it("an object maps names to properties of an object result (save_dict)", async () => {
      const t = task({
        name: "t",
        provides: { badger: "badger", mushroom: "mushroom", snake: "snake" },
        execute: () => ({ badger: 0, mushroom: 1, snake: 2, other: 9 }),
      });
      expect(await run(t, { engine })).toEqual({ badger: 0, mushroom: 1, snake: 2 });
    });

    it("an object map may rename keys and pick array indexes", async () => {
      const t1 = task({ name: "t1", provides: { low: "min", high: "max" }, execute: () => ({ min: 1, max: 9 }) });
      const t2 = task({ name: "t2", provides: { first: 0, last: 2 }, execute: () => ["a", "b", "c"] });
      expect(await run(linearFlow("f", t1, t2), { engine })).toEqual({ low: 1, high: 9, first: "a", last: "c" });
    });

    it("a short array result saves the rest, and fetching a missing item raises NotFound", async () => {
      const e = make(task({ name: "t", provides: ["a", "b", "c"], execute: () => [1, 2] }));
      await e.run();
      expect(e.storage.fetch("a")).toBe(1);
      expect(e.storage.fetch("b")).toBe(2);
      expect(() => e.storage.fetch("c")).toThrow(NotFound);
      expect(() => e.storage.fetch("c")).toThrow(/"c"/);
      expect(e.storage.fetchAll()).toEqual({ a: 1, b: 2 });
    });

    it("a missing key of an object result raises NotFound on fetch", async () => {
      const e = make(task({ name: "t", provides: { a: "a", b: "b" }, execute: () => ({ a: 1 }) }));
      await e.run();
      expect(e.storage.fetch("a")).toBe(1);
      expect(() => e.storage.fetch("b")).toThrow(NotFound);
    });

    it("a non-object result under an object map provides nothing", async () => {
      const e = make(task({ name: "t", provides: { a: "a" }, execute: () => 5 }));
      await e.run();
      expect(() => e.storage.fetch("a")).toThrow(NotFound);
      expect(e.storage.getResult("t")).toBe(5);
    });
  });

  describe("requires, rebind and inject", () => {
    it("passes stored arguments by name (arguments_passing)", async () => {
      const e = await injectAndRun(multiArgOneReturn({ provides: "result" }), { x: 1, y: 4, z: 9, a: 17 });
      expect(e.storage.fetchAll()).toEqual({ x: 1, y: 4, z: 9, a: 17, result: 14 });
    });

    it("a missing argument raises MissingDependencies (arguments_missing)", async () => {
      const e = make(multiArgOneReturn());
      await e.prepare();
      e.inject({ a: 1, b: 4, x: 17 });
      const error = await rejection(e.run());
      expect(error).toBeInstanceOf(MissingDependencies);
      expect((error as MissingDependencies).missing).toEqual([
        { atom: "task", symbol: "y" },
        { atom: "task", symbol: "z" },
      ]);
    });

    it("a partial rebind dict maps one argument to another name", async () => {
      const e = await injectAndRun(multiArgOneReturn({ provides: "result", rebind: { x: "a" } }), { x: 1, y: 4, z: 9, a: 17 });
      expect(e.storage.fetchAll()).toEqual({ x: 1, y: 4, z: 9, a: 17, result: 30 });
    });

    it("a rebind list maps the required arguments in order (all_arguments_mapping)", async () => {
      const e = await injectAndRun(multiArgOneReturn({ provides: "result", rebind: ["a", "b", "c"] }), { a: 1, b: 2, c: 3, x: 4, y: 5, z: 6 });
      expect(e.storage.fetchAll()).toEqual({ a: 1, b: 2, c: 3, x: 4, y: 5, z: 6, result: 6 });
    });

    it("a shorter rebind list maps only the first arguments", async () => {
      const e = await injectAndRun(multiArgOneReturn({ provides: "result", rebind: ["a"] }), { a: 100, x: 1, y: 2, z: 3 });
      expect(e.storage.fetch("result")).toBe(105);
    });

    it("a rebind to a name nothing provides raises MissingDependencies (invalid_argument_name_map)", async () => {
      const e = make(multiArgOneReturn({ rebind: { z: "b" } }));
      await e.prepare();
      e.inject({ a: 1, y: 4, c: 9, x: 17 });
      const error = await rejection(e.run());
      expect(error).toBeInstanceOf(MissingDependencies);
      expect((error as MissingDependencies).missing).toEqual([{ atom: "task", symbol: "b" }]);
    });

    it("a rebind list to a missing name raises MissingDependencies (invalid_argument_name_list)", async () => {
      const e = make(multiArgOneReturn({ rebind: ["a", "z", "b"] }));
      await e.prepare();
      e.inject({ a: 1, b: 4, c: 9, x: 17 });
      const error = await rejection(e.run());
      expect(error).toBeInstanceOf(MissingDependencies);
      expect((error as MissingDependencies).missing).toEqual([{ atom: "task", symbol: "z" }]);
    });

    it("inject gives fixed argument values (argument_injection)", async () => {
      const e = make(multiArgOneReturn({ provides: "result", inject: { x: 1, y: 4, z: 9 } }));
      await e.run();
      expect(e.storage.fetchAll()).toEqual({ result: 14 });
    });

    it("inject wins over rebind and storage (keyed by argument name in this port)", async () => {
      const e = make(multiArgOneReturn({ provides: "result", rebind: ["a", "b", "c"], inject: { x: 1, y: 4, z: 9 } }), { a: 100, b: 100, c: 100 });
      await e.run();
      expect(e.storage.fetch("result")).toBe(14);
    });

    it("injected arguments are not required from storage", () => {
      const t = multiArgOneReturn({ requires: ["x", "y", "z"], inject: { y: 4 } });
      expect(t.requires).toEqual(["x", "z"]);
    });

    it("extra requires with every argument injected (argument_injection_required)", async () => {
      const t = task<XYZ & { a: number; b: number; c: number }, number>({
        name: "task",
        requires: ["x", "y", "z", "a", "b", "c"],
        provides: "result",
        inject: { x: 1, y: 4, z: 9, a: 0, b: 0, c: 0 },
        execute: ({ x, y, z }) => x + y + z,
      });
      expect(await run(t, { engine })).toEqual({ result: 14 });
    });

    it("a long argument name", async () => {
      const t = task<{ long_arg_name: number }>({ name: "t", requires: ["long_arg_name"], provides: "result", execute: ({ long_arg_name }) => long_arg_name });
      const e = await injectAndRun(t, { long_arg_name: 1 });
      expect(e.storage.fetchAll()).toEqual({ long_arg_name: 1, result: 1 });
    });

    it("atom-level injects: transient beats persistent beats the atom's own inject beats storage", async () => {
      const t = task<{ v: number }>({ name: "t", requires: ["v"], inject: { v: 3 }, provides: "out", execute: ({ v }) => v });
      const e = make(t, { v: 4 });
      await e.prepare();
      e.injectAtomArgs("t", { v: 2 });
      e.injectAtomArgs("t", { v: 1 }, { transient: true });
      await e.run();
      expect(e.storage.fetch("out")).toBe(1);

      const e2 = make(task<{ v: number }>({ name: "t", requires: ["v"], inject: { v: 3 }, provides: "out", execute: ({ v }) => v }), { v: 4 });
      await e2.prepare();
      e2.injectAtomArgs("t", { v: 2 });
      await e2.run();
      expect(e2.storage.fetch("out")).toBe(2);
    });

    it("an argument injected for its atom only in memory (transient) satisfies the check before the run", async () => {
      const t = task<{ secret: string }>({ name: "t", requires: ["secret"], provides: "out", execute: ({ secret }) => secret.length });
      const e = make(t);
      e.injectAtomArgs("t", { secret: "s3cret" }, { transient: true });
      await e.run();
      expect(e.storage.fetch("out")).toBe(6);
    });

    it("flow-level transient inject beats the persistent store", async () => {
      const t = task<{ v: number }>({ name: "t", requires: ["v"], provides: "out", execute: ({ v }) => v });
      const e = make(t, { v: 4 });
      await e.prepare();
      e.inject({ v: 5 }, { transient: true });
      await e.run();
      expect(e.storage.fetch("out")).toBe(5);
    });

    it("optional arguments take their defaults when nothing provides them", async () => {
      const t = task<{ a: number; b: number }>({ name: "t", requires: ["a"], optional: { b: 5 }, provides: "r", execute: ({ a, b }) => a * b });
      expect(t.requires).toEqual(["a"]);
      expect(t.optional).toEqual(["b"]);
      expect((await run(t, { engine, store: { a: 3 } })).r).toBe(15);
    });

    it("an optional argument can be rebound", async () => {
      const t = task<{ a: number; b: number }>({ name: "t", requires: ["a"], optional: { b: 5 }, rebind: { b: "bee" }, provides: "r", execute: ({ a, b }) => a * b });
      expect(t.optional).toEqual(["bee"]);
      expect((await run(t, { engine, store: { a: 3, b: 100, bee: 2 } })).r).toBe(6);
    });
  });

  describe("scoping", () => {
    const dog = (name: string, value: string) => task({ name, provides: "dog", execute: () => value });
    const washer = (seen: unknown[]) =>
      task<{ dog: string }>({ name: "washer", requires: ["dog"], provides: "wash", execute: ({ dog }) => seen.push(dog) });

    it("in linear [customer, customer2, washer] washer sees customer2's value", async () => {
      const seen: unknown[] = [];
      const e = make(linearFlow("root", dog("customer", "c1"), dog("customer2", "c2"), washer(seen)));
      await e.run();
      expect(seen).toEqual(["c2"]);
      expect(e.storage.fetchAll().dog).toEqual(["c1", "c2"]);
      expect(compileGraph(e.flow).atoms.get("washer")?.args.find(named("dog"))?.providers.map((p) => p.name)).toEqual(["customer2", "customer"]);
    });

    it("a nested atom sees its own flow's provider before the parent's (overlap_parent)", async () => {
      const addOne = task<{ source: number }>({ name: "add-one", requires: ["source"], provides: "result", execute: ({ source }) => source + 1 });
      const flow = linearFlow(
        "flow-1",
        progressing("p", { provides: "source" }),
        linearFlow("flow-2", task({ name: "one", provides: "source", execute: () => 1 }), addOne),
      );
      expect((await run(flow, { engine })).result).toBe(2);
    });

    it("a nested atom sees the nearest earlier sibling of its parent (overlap_parent_sibling)", async () => {
      const addOne = task<{ source: number }>({ name: "add-one", requires: ["source"], provides: "result", execute: ({ source }) => source + 1 });
      const flow = linearFlow(
        "flow-1",
        progressing("p", { provides: "source" }),
        task({ name: "one", provides: "source", execute: () => 1 }),
        linearFlow("flow-2", addOne),
      );
      expect((await run(flow, { engine })).result).toBe(2);
    });

    it("a later atom's output is not visible to an earlier atom", async () => {
      const flow = linearFlow(
        "f",
        task<{ x: number }>({ name: "reader", requires: ["x"], execute: ({ x }) => x }),
        task({ name: "writer", provides: "x", execute: () => 1 }),
      );
      const e = make(flow);
      await e.prepare();
      expect(() => e.validate()).toThrow(MissingDependencies);
    });

    it("unordered siblings cannot see each other (MissingDependencies at validate)", async () => {
      const flow = unorderedFlow(
        "u",
        task({ name: "provider", provides: "x", execute: () => 1 }),
        task<{ x: number }>({ name: "consumer", requires: ["x"], execute: ({ x }) => x }),
      );
      const e = make(flow);
      await e.prepare();
      let error: unknown;
      try {
        e.validate();
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(MissingDependencies);
      expect((error as MissingDependencies).missing).toEqual([{ atom: "consumer", symbol: "x" }]);
      expect(compileGraph(e.flow).atoms.get("consumer")?.args.find(named("x"))?.providers.map((p) => p.name)).toEqual([]);
    });

    it("an unordered flow after a linear provider sees it", async () => {
      const seen: unknown[] = [];
      const flow = linearFlow(
        "root",
        task({ name: "provider", provides: "x", execute: () => 7 }),
        unorderedFlow(
          "u",
          task<{ x: number }>({ name: "c1", requires: ["x"], execute: ({ x }) => seen.push(x) }),
          task<{ x: number }>({ name: "c2", requires: ["x"], execute: ({ x }) => seen.push(x) }),
        ),
      );
      await run(flow, { engine });
      expect(seen).toEqual([7, 7]);
    });

    it("in a graph, an atom sees its transitive predecessors nearest first", () => {
      const p = (name: string, requires: string[], provides: string) => task({ name, requires, provides, execute: () => name });
      const flow = graphFlow(
        "root",
        p("customer", [], "dog"),
        p("washer", ["dog"], "wash"),
        p("dryer", ["dog", "wash"], "dry_dog"),
        p("shaver", ["dry_dog"], "shaved_dog"),
        p("happy_customer", ["shaved_dog"], "happiness"),
      );
      const e = make(flow);
      const atoms = compileGraph(e.flow).atoms;
      expect(atoms.get("dryer")?.args.find(named("dog"))?.providers.map((p) => p.name)).toEqual(["customer"]);
      expect(atoms.get("dryer")?.args.find(named("wash"))?.providers.map((p) => p.name)).toEqual(["washer"]);
      expect(atoms.get("customer")?.args.length).toBe(0);
    });

    it("a producer that was IGNOREd by a decider is skipped; the next visible provider wins", async () => {
      const seen: unknown[] = [];
      const gate = progressing("gate");
      const skipped = task({ name: "skipped", provides: "value", execute: () => 1 });
      const g = graphFlow("g", gate, skipped);
      g.link(gate, skipped, { decider: () => false, deciderDepth: "ATOM" });
      const flow = linearFlow(
        "root",
        task({ name: "first", provides: "value", execute: () => 100 }),
        g,
        task<{ value: number }>({ name: "reader", requires: ["value"], execute: ({ value }) => seen.push(value) }),
      );
      const e = make(flow);
      await e.run();
      expect(e.storage.getAtomState("skipped")).toBe("IGNORE");
      expect(seen).toEqual([100]);
      expect(e.storage.fetch("value")).toBe(100);
    });

    it("storage.fetch ignores scope: injected first, then the first provider", async () => {
      const e = make(linearFlow("root", dog("customer", "c1"), dog("customer2", "c2")));
      await e.run();
      expect(e.storage.fetch("dog")).toBe("c1");
      expect(() => e.storage.fetch("cat")).toThrow(NotFound);
    });
  });
});

describe("atom definitions", () => {
  it("rebind naming an undeclared argument is refused", () => {
    expect(() => task({ name: "t", requires: ["x"], rebind: { y: "z" } as Record<string, string>, execute: () => 1 })).toThrow(CompilationFailure);
  });

  it("a rebind list longer than the arguments is refused", () => {
    expect(() => task<{ x: unknown }>({ name: "t", requires: ["x"], rebind: ["a", "b"], execute: () => 1 })).toThrow(CompilationFailure);
  });

  it("an invalid provides is refused", () => {
    expect(() => task({ name: "t", provides: 42 as unknown as string, execute: () => 1 })).toThrow(CompilationFailure);
    expect(() => task({ name: "t", provides: ["a", 3] as unknown as string[], execute: () => 1 })).toThrow(CompilationFailure);
  });

  it("a version must be major.minor", () => {
    expect(() => task({ name: "t", version: "1", execute: () => 1 })).toThrow(CompilationFailure);
    expect(task({ name: "t", version: "2.3", execute: () => 1 }).version).toBe("2.3");
  });

  it("requires, optional and provides reflect the mapping", () => {
    const t = task<{ a: number; b: number; c: number }>({
      name: "t",
      requires: ["a", "b"],
      optional: { c: 1 },
      rebind: { a: "alpha" },
      provides: ["p", "q"],
      execute: () => [1, 2],
    });
    expect(t.requires).toEqual(["alpha", "b"]);
    expect(t.optional).toEqual(["c"]);
    expect(t.provides).toEqual(["p", "q"]);
  });
});

// Issue 11, item 2: a name is looked up as an own property everywhere (the store, arguments,
// inputs, results), never through Object.prototype.
describe("names that are Object.prototype members", () => {
  const NAMES = ["constructor", "toString", "valueOf", "hasOwnProperty", "__proto__"];
  const reader = (n: string) => task({ name: "reader", requires: [n], provides: "got", execute: (args: Record<string, unknown>) => (Object.hasOwn(args, n) ? args[n] : "not own") });
  const writer = (n: string) => task({ name: "writer", provides: n, execute: () => ({ v: 7 }) });

  it.each(NAMES)("an atom that requires %s lists it, and a graph flow links it to its provider", (n) => {
    expect(reader(n).requires).toEqual([n]);
    expect(graphFlow("g", reader(n), writer(n)).requires).toEqual([]);
  });

  it.each(NAMES)("%s provided by an earlier atom reaches the reader as an own argument, in a linear and a graph flow", async (n) => {
    for (const flow of [linearFlow("f", writer(n), reader(n)), graphFlow("g", reader(n), writer(n))]) {
      const e = load(flow);
      await e.run();
      expect(e.storage.fetch("got")).toEqual({ v: 7 });
      expect(e.storage.fetch(n)).toEqual({ v: 7 });
      const all = e.storage.fetchAll();
      expect(Object.hasOwn(all, n)).toBe(true);
      expect(all[n]).toEqual({ v: 7 });
      expect(Object.getPrototypeOf(all)).toBe(Object.prototype);
    }
  });

  it.each(NAMES)("%s in the store (as JSON.parse makes it) reaches the reader", async (n) => {
    const e = load(reader(n), { store: JSON.parse(`{ "${n}": { "v": 8 } }`) });
    await e.run();
    expect(e.storage.fetch("got")).toEqual({ v: 8 });
  });

  it.each(NAMES)("%s injected at the flow level (in memory or stored) or for the atom reaches the reader", async (n) => {
    const value = () => JSON.parse(`{ "${n}": 9 }`) as Record<string, unknown>;
    for (const inject of [(e: Engine) => e.inject(value(), { transient: true }), (e: Engine) => e.inject(value()), (e: Engine) => e.injectAtomArgs("reader", value())]) {
      const e = load(reader(n));
      await e.prepare();
      inject(e);
      await e.run();
      expect(e.storage.fetch("got")).toBe(9);
    }
  });

  it.each(NAMES)("%s with no provider fails with MissingDependencies before anything runs", async (n) => {
    const e = load(reader(n));
    expect(await rejection(e.run())).toBeInstanceOf(MissingDependencies);
    expect(e.storage.getAtomState("reader")).toBe("PENDING");
    expect(() => e.storage.fetch(n)).toThrow(NotFound);
    expect(e.storage.fetchAll()).toEqual({});
  });
});
