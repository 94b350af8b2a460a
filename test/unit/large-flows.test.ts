/**
 * Large flows (issue 11, item 17): flows take their items as an array as well as one by one, so
 * that a flow of 100,000 tasks is built without spreading them into a call (which overflows the
 * stack); nothing on the way from building to running (compiling, fingerprinting, reconciling,
 * waiting on many timers) recurses or spreads per atom, and deep nesting compiles without
 * recursion either.
 */
import { describe, expect, it } from "vitest";
import {
  compile,
  graphFlow,
  LinearFlow,
  linearFlow,
  load,
  MemoryBackend,
  sleep,
  task,
  Times,
  UnorderedFlow,
  unorderedFlow,
  type FlowItem,
} from "../../src/index.js";
import { ManualClock } from "../../src/testing/index.js";

const N = 100_000;
const numbered = (n: number, prefix = "t") => Array.from({ length: n }, (_, i) => task({ name: `${prefix}${i}`, execute: () => i }));

describe("flows take their items as an array", () => {
  it("linearFlow(name, tasks) with 100,000 tasks builds, runs to SUCCESS on a MemoryBackend and resumes", async () => {
    const tasks = numbered(N);
    const flow = linearFlow("l", tasks);
    expect(flow.items.length).toBe(N);
    const backend = new MemoryBackend();
    const engine = load(flow, { backend });
    await engine.run();
    expect(engine.storage.flowState).toBe("SUCCESS");
    expect(engine.statistics.executed).toBe(N);
    expect(engine.storage.getResult(`t${N - 1}`)).toBe(N - 1);
    // Resuming compares the fingerprint and reconciles every stored atom: nothing runs again.
    const again = load(linearFlow("l", tasks), { backend, flowDetailId: engine.flowDetailId });
    await again.run();
    expect(again.statistics.executed).toBe(0);
  }, 120_000);

  it("unorderedFlow and graphFlow of 100,000 tasks from an array compile; a parallel run waits on 100,000 sleeps and stores the earliest", async () => {
    expect(compile(graphFlow("g", numbered(N))).atoms.size).toBe(N);
    const clock = new ManualClock(0);
    const sleeps = Array.from({ length: N }, (_, i) => sleep(`s${i}`, 1_000 + i));
    const engine = load(unorderedFlow("u", sleeps), { clock, engine: "parallel", maxWaitMs: 0 });
    await engine.run();
    expect(engine.storage.flowState).toBe("SUSPENDED");
    expect(engine.nextWakeup()).toBe(1_000);
  }, 120_000);

  it("the variadic form builds 100,000 spread tasks too (the library no longer spreads them again)", () => {
    expect(linearFlow("l", ...numbered(N)).items.length).toBe(N);
  }, 60_000);

  it("the variadic form still works, and both mix: options first, items, arrays of items", async () => {
    const [a, b, c, d] = numbered(4);
    expect(linearFlow("v", a as FlowItem, b as FlowItem).items.map((i) => i.name)).toEqual(["t0", "t1"]);
    const mixed = linearFlow("m", { retry: new Times(2) }, [a as FlowItem, b as FlowItem], c as FlowItem, [d as FlowItem]);
    expect(mixed.items.map((i) => i.name)).toEqual(["t0", "t1", "t2", "t3"]);
    expect(mixed.retry?.name).toBe("m_retry");
    expect((await (async () => {
      const e = load(mixed);
      await e.run();
      return e.storage.fetchAll();
    })())).toEqual({});
  });

  it("add() takes arrays too, on every pattern, without re-spreading them", () => {
    const tasks = numbered(N, "a");
    expect(new LinearFlow("l").add(tasks).items.length).toBe(N);
    expect(new UnorderedFlow("u").add(tasks.slice(0, 10), tasks[10] as FlowItem).items.length).toBe(11);
    expect(graphFlow("g").add([tasks[0] as FlowItem], [tasks[1] as FlowItem]).items.length).toBe(2);
  }, 60_000);
});

describe("deep nesting", () => {
  it("1,000 nested linear flows compile, run to SUCCESS and resume", async () => {
    let flow: FlowItem = task({ name: "leaf", execute: () => 0 });
    for (let i = 0; i < 1_000; i++) flow = linearFlow(`n${i}`, flow, task({ name: `t${i}`, execute: () => i }));
    const backend = new MemoryBackend();
    const engine = load(flow, { backend });
    await engine.run();
    expect(engine.storage.flowState).toBe("SUCCESS");
    expect(engine.statistics.executed).toBe(1_001);
    const again = load(flow, { backend, flowDetailId: engine.flowDetailId });
    await again.run();
    expect(again.statistics.executed).toBe(0);
  }, 60_000);

  it("the compiler does not recurse: 3,000 nested flows compile (a recursive walk overflowed at about 1,300)", () => {
    let flow: FlowItem = task({ name: "leaf", execute: () => 0 });
    for (let i = 0; i < 3_000; i++) flow = new LinearFlow(`n${i}`).add(flow);
    const graph = compile(flow);
    expect(graph.atoms.size).toBe(1);
    expect(graph.nodes.length).toBe(6_001);
  }, 60_000);
});
