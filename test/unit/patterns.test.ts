/**
 * Patterns and compilation, after TaskFlow's `test_flow_dependencies.py`, the pattern tests and
 * `action_engine/test_compile.py` (reference §1 "Patterns", "Compilation").
 */
import { describe, expect, it } from "vitest";
import {
  AmbiguousDependency,
  compile,
  DependencyFailure,
  Duplicate,
  graphFlow,
  linearFlow,
  load,
  NotFound,
  run,
  task,
  Task,
  Times,
  unorderedFlow,
} from "../../src/index.js";
import { progressing, rejection, thrown } from "./helpers.js";

const t = (name: string, requires: string[] = [], provides: string | string[] = []) =>
  task({ name, requires, ...(provides.length > 0 ? { provides } : {}), execute: () => (Array.isArray(provides) ? provides.map(() => 1) : 1) });

const sorted = (xs: string[]) => [...xs].sort();

describe("flow requires and provides (test_flow_dependencies)", () => {
  it("a task without dependencies", () => {
    const x = t("task1");
    expect(x.requires).toEqual([]);
    expect(x.provides).toEqual([]);
  });

  it("linear: later requirements provided earlier are hidden", () => {
    const flow = linearFlow("lf", t("task1", ["a", "b"], ["x"]), t("task2", ["x", "c"], ["y"]), t("task3", ["y", "z"], ["q"]));
    expect(sorted(flow.requires)).toEqual(["a", "b", "c", "z"]);
    expect(sorted(flow.provides)).toEqual(["q", "x", "y"]);
  });

  it("linear: a requirement provided only later is still required", () => {
    const flow = linearFlow("lf", t("task2", ["x"]), t("task1", [], "x"));
    expect(flow.requires).toEqual(["x"]);
    expect(flow.provides).toEqual(["x"]);
  });

  it("unordered: siblings' outputs do not satisfy requirements", () => {
    const flow = unorderedFlow("uf", t("task1", [], "x"), t("task2", ["x"]));
    expect(flow.provides).toEqual(["x"]);
    expect(flow.requires).toEqual(["x"]);
    const other = unorderedFlow("uf", t("task1", ["a", "b", "c"], ["d", "e", "f"]), t("task2", ["x", "y", "z"], ["i", "j", "k"]));
    expect(sorted(other.requires)).toEqual(["a", "b", "c", "x", "y", "z"]);
    expect(sorted(other.provides)).toEqual(["d", "e", "f", "i", "j", "k"]);
  });

  it("unordered: two providers of one name are allowed and listed once", () => {
    const flow = unorderedFlow("uf", t("a", [], "x"), t("b", [], "x"));
    expect(flow.provides).toEqual(["x"]);
  });

  it("nested flows combine their requirements", () => {
    const flow = unorderedFlow(
      "uf",
      linearFlow("lf", t("task1", ["a"], ["x"]), t("task2", ["x"], ["y"])),
      unorderedFlow("uf2", t("task3", ["b"], ["z"]), t("task4", ["c"], ["q"])),
    );
    expect(sorted(flow.requires)).toEqual(["a", "b", "c"]);
    expect(sorted(flow.provides)).toEqual(["q", "x", "y", "z"]);
  });

  it("graph: requirements provided inside are hidden, whatever the order of adding", () => {
    const flow = graphFlow("gf", t("task2", ["x"], "y"), t("task1", ["a"], "x"));
    expect(flow.requires).toEqual(["a"]);
    expect(sorted(flow.provides)).toEqual(["x", "y"]);
    const multi = graphFlow("gf", t("task1", ["a", "b", "c"], ["d", "e", "f"]), t("task2", ["d", "x"], ["i"]));
    expect(sorted(multi.requires)).toEqual(["a", "b", "c", "x"]);
  });

  it("a task requiring and providing the same name requires it (linear, unordered)", () => {
    const flow = linearFlow("lf", t("task1", ["x"], "x"));
    expect(flow.requires).toEqual(["x"]);
    expect(flow.provides).toEqual(["x"]);
    expect(unorderedFlow("uf", t("task1", ["x"], "x")).requires).toEqual(["x"]);
  });

  // Regression test for a fixed bug (src/patterns/graph.ts, GraphFlow.requires): a requirement counts as satisfied when any
  // item provides it, including the item that requires it, so graphFlow("gf", task requiring
  // and providing "x").requires is [] instead of ["x"]. TaskFlow 5.0 gives {'x'} for graph,
  // linear and unordered flows alike (checked with the installed peer).
  it("a task requiring and providing the same name requires it (graph)", () => {
    const flow = graphFlow("gf", t("task1", ["x"], "x"));
    expect(flow.requires).toEqual(["x"]);
    expect(flow.provides).toEqual(["x"]);
  });

  it("items lists what was added, in order; atoms() walks depth first", () => {
    const a = t("a");
    const b = t("b");
    const c = t("c");
    const inner = linearFlow("inner", b);
    const flow = linearFlow("outer", a, inner, c);
    expect(flow.items).toEqual([a, inner, c]);
    expect([...flow.atoms()].map((x) => x.name)).toEqual(["a", "b", "c"]);
  });
});

describe("graph flow construction", () => {
  it("infers edges from requires and provides", () => {
    const a = t("a", [], "x");
    const b = t("b", ["x"], "y");
    const flow = graphFlow("g", b, a);
    const edges = flow.edges.map((e) => [e.from.name, e.to.name, e.symbols]);
    expect(edges).toEqual([["a", "b", ["x"]]]);
  });

  it("a cycle through requires/provides raises DependencyFailure naming both atoms, and is discarded", () => {
    const a = t("a", ["y"], "x");
    const b = t("b", ["x"], "y");
    const flow = graphFlow("g", a);
    const e = thrown(() => flow.add(b));
    expect(e).toBeInstanceOf(DependencyFailure);
    expect(e.message).toContain('"b"');
    expect(e.message).toMatch(/\bb → a → b\b/);
    expect(flow.items).toEqual([a]);
    expect(flow.edges).toEqual([]);
    // The flow still runs without the refused atom.
    return expect(run(flow, { store: { y: 1 } })).resolves.toEqual({ y: 1, x: 1 });
  });

  it("a cycle through an explicit link raises DependencyFailure and the link is discarded", () => {
    const a = t("a");
    const b = t("b");
    const c = t("c");
    const flow = graphFlow("g", a, b, c);
    flow.link(a, b);
    flow.link(b, c);
    const e = thrown(() => flow.link(c, a));
    expect(e).toBeInstanceOf(DependencyFailure);
    expect(e.message).toContain('"c"');
    expect(e.message).toContain('"a"');
    expect(flow.edges.map((x) => `${x.from.name}>${x.to.name}`)).toEqual(["a>b", "b>c"]);
  });

  it("edges keep their order: by the item they leave, in the order each first had one, whatever was taken back since", () => {
    // One edge out is kept as it is, more in a map (speed, issue 10): neither may change the order,
    // which a stored fingerprint's links follow.
    const a = t("a", [], "x");
    const [b, c, d, e] = [t("b", ["x"]), t("c", ["x"]), t("d"), t("e")];
    const flow = graphFlow("g", a, b, c, d, e); // a>b, a>c (inferred from x)
    flow.link(b, d);
    expect(() => flow.link(d, b)).toThrow(DependencyFailure); // d had an edge out for a moment
    flow.link(c, e);
    flow.link(d, e); // d's place comes before c's: it first had an edge before c did
    const decider = () => true;
    flow.link(a, c, { decider }); // in the place of the inferred edge, keeping its name
    expect(flow.edges.map((x) => `${x.from.name}>${x.to.name}`)).toEqual(["a>b", "a>c", "b>d", "d>e", "c>e"]);
    expect(flow.edges[1]).toMatchObject({ symbols: ["x"], decider });
  });

  it("a self link is a cycle", () => {
    const a = t("a");
    const flow = graphFlow("g", a);
    expect(() => flow.link(a, a)).toThrow(DependencyFailure);
  });

  it("adding a consumer of a name two items provide raises AmbiguousDependency, and the consumer is discarded", () => {
    // As the peer: two providers are fine until something requires the name.
    const a = t("a", [], "x");
    const b = t("b", [], "x");
    const flow = graphFlow("g", a, b);
    expect(flow.provides).toEqual(["x"]);
    const c = t("c", ["x"]);
    const e = thrown(() => flow.add(c));
    expect(e).toBeInstanceOf(AmbiguousDependency);
    expect(e).toBeInstanceOf(DependencyFailure);
    expect(e.message).toContain('"x"');
    expect(e.message).toContain('"a"');
    expect(e.message).toContain('"b"');
    expect(e.message).toContain('"c"');
    expect(flow.items).toEqual([a, b]);
  });

  it("linking an item that is not in the flow raises NotFound", () => {
    const a = t("a");
    const flow = graphFlow("g", a);
    expect(() => flow.link(a, t("stranger"))).toThrow(NotFound);
  });

  it("a subflow is wired by the names it provides and requires", async () => {
    const order: string[] = [];
    const step = (name: string, requires: string[], provides: string) =>
      task({ name, requires, provides, execute: () => void order.push(name) });
    const sub = linearFlow("sub", step("s1", ["x"], "y"), step("s2", ["y"], "z"));
    const flow = graphFlow("g", step("last", ["z"], "done"), sub, step("first", [], "x"));
    await run(flow);
    expect(order).toEqual(["first", "s1", "s2", "last"]);
  });
});

describe("duplicates", () => {
  it("the same object added twice to one flow raises Duplicate", () => {
    const a = t("a");
    expect(() => linearFlow("f", a, a)).toThrow(Duplicate);
  });

  it("two atoms with one name raise Duplicate when compiled", async () => {
    const flow = linearFlow("f", t("same"), unorderedFlow("u", t("same")));
    expect(() => compile(flow)).toThrow(Duplicate);
    const e = load(flow);
    const error = await rejection(e.run());
    expect(error).toBeInstanceOf(Duplicate);
    expect(error.message).toContain('"same"');
  });

  it("the same atom object in two subflows raises Duplicate when compiled", () => {
    const a = t("a");
    expect(() => compile(linearFlow("f", linearFlow("l1", a), linearFlow("l2", a)))).toThrow(Duplicate);
    expect(() => compile(linearFlow("f", linearFlow("l1", a), linearFlow("l2", a)))).toThrow('"a" is added more than once to the flow');
  });

  it("says which duplicate it found: one object added twice (an atom or a flow), or two atoms of one name", () => {
    const sub = linearFlow("sub", t("x"));
    expect(() => compile(linearFlow("f", linearFlow("l1", sub), linearFlow("l2", sub)))).toThrow('"sub" is added more than once to the flow');
    expect(() => compile(linearFlow("f", t("same"), linearFlow("l", t("same"))))).toThrow('two atoms are named "same"; atom names must be unique in a flow');
  });
});

describe("printing", () => {
  it('String(atom) is TaskFlow\'s "name==version", quotes included', () => {
    expect(String(progressing("a"))).toBe('"a==1.0"');
    expect(`${progressing("b", { version: "2.3" })}`).toBe('"b==2.3"');
    expect(String(new Times(2, { name: "r" }))).toBe('"r==1.0"');
  });
});

describe("compilation", () => {
  it("flattens the flow tree into entry and exit markers around the atoms", () => {
    const flow = linearFlow("test", t("a"), t("b"), t("c"), linearFlow("sub-test", t("d")));
    expect(compile(flow).nodes.map((n) => n.name)).toEqual(["test", "a", "b", "c", "sub-test", "d", "sub-test[$]", "test[$]"]);
  });

  it("a task may be the root", () => {
    const g = compile(t("solo"));
    expect([...g.atoms.keys()]).toEqual(["solo"]);
    expect(g.nodes).toHaveLength(1);
  });

  it("a linear flow chains its items; an unordered flow links each to its markers", () => {
    const lin = compile(linearFlow("l", t("a"), t("b")));
    const a = lin.atoms.get("a")!;
    const b = lin.atoms.get("b")!;
    expect(a.succs).toEqual([b.index]);
    const un = compile(unorderedFlow("u", t("a"), t("b")));
    const ua = un.atoms.get("a")!;
    const ub = un.atoms.get("b")!;
    expect(ua.succs).not.toContain(ub.index);
    expect(ub.succs).not.toContain(ua.index);
    expect(ua.preds).toEqual([0]);
    expect(ub.preds).toEqual([0]);
  });

  it("a class-based task is named after its class by default", async () => {
    class Doubler extends Task<{ n: number }, number> {
      constructor() {
        super({ requires: ["n"], provides: "doubled" });
      }
      execute({ n }: { n: number }): number {
        return n * 2;
      }
    }
    const d = new Doubler();
    expect(d.name).toBe("Doubler");
    expect(await run(linearFlow("f", d), { store: { n: 21 } })).toEqual({ n: 21, doubled: 42 });
  });

  it("graph ordering holds for a larger random DAG", async () => {
    // Items added in reverse: each i requires the output of a few lower-numbered items.
    const n = 30;
    const deps: number[][] = [];
    let seed = 7;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
    for (let i = 0; i < n; i++) deps.push(i === 0 ? [] : [...new Set([Math.floor(rand() * i), Math.floor(rand() * i)])]);
    const order: number[] = [];
    const items = deps.map((d, i) =>
      task({ name: `n${i}`, requires: d.map((j) => `v${j}`), provides: `v${i}`, execute: () => void order.push(i) }),
    );
    await run(graphFlow("big", ...[...items].reverse()));
    expect(order).toHaveLength(n);
    deps.forEach((d, i) => {
      for (const j of d) expect(order.indexOf(j)).toBeLessThan(order.indexOf(i));
    });
  });
});

describe("progressing helper sanity", () => {
  it("returns 5", async () => {
    expect(await run(progressing("p", { provides: "v" }))).toEqual({ v: 5 });
  });
});
