import { describe, expect, it } from "vitest";
import { linearFlow, load, task, runIter } from "../../src/index.js";

const flow = () => linearFlow("f", ...["a", "b", "c"].map((name) => task({ name, provides: name, execute: () => name.toUpperCase() })));

describe("runIter", () => {
  it("waits for its consumer: suspending between two states stops before the next atom", async () => {
    const engine = load(flow());
    const seen: string[] = [];
    let analyzed = 0;
    for await (const state of runIter(engine)) {
      seen.push(state);
      if (state === "ANALYZING" && ++analyzed === 1) engine.suspend();
    }
    expect(seen.at(-1)).toBe("SUSPENDED");
    expect(engine.storage.atomDetails().map((d) => d.state)).toEqual(["SUCCESS", "PENDING", "PENDING"]);
    await engine.run();
    expect(engine.storage.fetchAll()).toEqual({ a: "A", b: "B", c: "C" });
  });

  it("leaving the loop early suspends the engine once running atoms end, as closing TaskFlow's run_iter does", async () => {
    const engine = load(flow());
    for await (const state of runIter(engine)) {
      if (state === "WAITING") break;
    }
    expect(engine.storage.flowState).toBe("SUSPENDED");
    expect(engine.storage.atomDetails().map((d) => d.state)).toEqual(["SUCCESS", "PENDING", "PENDING"]);
  });

  it("rethrows the flow's failure after yielding the final state", async () => {
    const engine = load(linearFlow("f", task({ name: "boom", execute: () => { throw new RangeError("no"); } })));
    const seen: string[] = [];
    await expect(async () => {
      for await (const state of runIter(engine)) seen.push(state);
    }).rejects.toThrow(RangeError);
    expect(seen.at(-1)).toBe("REVERTED");
  });
});
