import { describe, expect, it } from "vitest";
import {
  durationListener, FlowRegistry, graphFlow, linearFlow, load, MemoryBackend, NotFound, printingListener, task, toDot, toMermaid,
} from "../../src/index.js";
import { ManualClock } from "../../src/testing/index.js";

const add = (name: string, requires: string[], provides: string) =>
  task({ name, requires, provides, execute: (a: Record<string, number>) => requires.reduce((s, r) => s + (a[r] as number), 1) });

describe("FlowRegistry", () => {
  const registry = new FlowRegistry().register("sum", (n: number) => linearFlow(`sum-${n}`, ...Array.from({ length: n }, (_, i) => add(`a${i}`, i ? [`v${i - 1}`] : [], `v${i}`))));

  it("records the factory in the flow detail and rebuilds the flow from it to resume", async () => {
    const backend = new MemoryBackend();
    const first = registry.load("sum", [3], { backend });
    let seen = 0;
    first.on("atom", (e) => {
      if (e.state === "SUCCESS" && ++seen === 2) first.suspend();
    });
    await first.run();
    expect(first.storage.flowState).toBe("SUSPENDED");
    expect((await backend.getFlowDetail(first.flowDetailId)).factory).toEqual({ name: "sum", args: [3] });

    const again = await registry.loadFromDetail(backend, first.flowDetailId);
    const ran: string[] = [];
    again.on("atom", (e) => e.state === "RUNNING" && ran.push(e.name));
    await again.run();
    expect(ran).toEqual(["a2"]);
    expect(again.storage.fetch("v2")).toBe(3); // 1, then +1 twice
  });

  it("names what is registered when asked for an unknown factory", async () => {
    expect(() => registry.get("nope")).toThrow(/no flow factory named "nope"; registered: sum/);
    const backend = new MemoryBackend();
    const plain = load(linearFlow("plain", add("x", [], "x")), { backend });
    await plain.run();
    await expect(registry.loadFromDetail(backend, plain.flowDetailId)).rejects.toBeInstanceOf(NotFound);
  });
});

describe("graph export", () => {
  it("draws atoms with their states, and the edges inferred from data", async () => {
    const flow = graphFlow("g", add("b", ["a"], "b"), add("a", [], "a"));
    const engine = load(flow);
    await engine.run();
    const states = Object.fromEntries(engine.storage.atomDetails().map((d) => [d.name, d.state]));
    const graph = engine.compile();
    const a = graph.atoms.get("a")?.index;
    const b = graph.atoms.get("b")?.index;
    const dot = toDot(graph, states);
    expect(dot).toContain(`n${a} [label="a\\nSUCCESS", shape=box]`);
    expect(dot).toContain(`n${a} -> n${b};`);
    const mermaid = toMermaid(graph, states);
    expect(mermaid).toMatch(/^flowchart LR/);
    expect(mermaid).toContain(`n${b}["b<br/>SUCCESS"]`);
    expect(mermaid).toContain(`n${a} --> n${b}`);
  });
});

describe("listeners", () => {
  it("durationListener writes each atom's duration into its meta, from the injected clock", async () => {
    const clock = new ManualClock(1000);
    const backend = new MemoryBackend();
    const engine = load(linearFlow("f", task({ name: "slow", execute: () => clock.advance(2500) })), { backend, clock });
    durationListener(engine, () => clock.now());
    await engine.run();
    const [detail] = await backend.getAtomDetails(engine.flowDetailId);
    expect(detail?.meta.duration).toBe(2.5);
    expect(detail?.timestamps?.RUNNING).toBe(1000);
    expect(detail?.timestamps?.SUCCESS).toBe(3500);
  });

  it("printingListener writes transitions and progress as lines", async () => {
    const lines: string[] = [];
    const engine = load(linearFlow("f", task({ name: "p", execute: (_a, ctx) => ctx.updateProgress(0.5, "half") })));
    printingListener(engine, (l) => lines.push(l), () => 0);
    await engine.run();
    expect(lines.map((l) => l.replace(/^\+\s*\d+ms /, ""))).toEqual([
      "f.f RUNNING", "p.t RUNNING", "p progress 50%", "p.t SUCCESS(None)", "f.f SUCCESS",
    ]);
  });
});
