import { describe, expect, it } from "vitest";
import { countCommits } from "../../src/backend.js";
import { graphFlow, linearFlow, load, MemoryBackend, task, unorderedFlow, type AtomDetail } from "../../src/index.js";

// What the log book holds while a task runs is what survives if the host dies right then.
describe("write-ahead", () => {
  it("an atom is RUNNING in the log book before its execute starts, and what it needs is stored as SUCCESS", async () => {
    const backend = new MemoryBackend();
    const seen: Record<string, AtomDetail[]> = {};
    let flowUuid = "";
    const peek = (name: string) => async () => {
      seen[name] = await backend.getAtomDetails(flowUuid);
      return name;
    };
    const flow = graphFlow(
      "g",
      task({ name: "b", requires: ["a"], provides: "b", execute: peek("b") }),
      task({ name: "a", provides: "a", execute: peek("a") }),
    );
    const engine = load(flow, { backend });
    await engine.prepare();
    flowUuid = engine.flowDetailId;
    await engine.run();
    const state = (name: string, who: string) => seen[who]?.find((d) => d.name === name);
    expect(state("a", "a")?.state).toBe("RUNNING");
    expect(state("b", "a")).toBeUndefined(); // not started: no detail yet, PENDING on load
    expect(state("a", "b")).toMatchObject({ state: "SUCCESS", result: "a" });
    expect(state("b", "b")?.state).toBe("RUNNING");
  });

  it("a serial flow costs one commit per atom, plus one to finish", async () => {
    for (const n of [1, 5, 50]) {
      const backend = countCommits(new MemoryBackend());
      const flow = linearFlow("l", ...Array.from({ length: n }, (_, i) => task({ name: `t${i}`, execute: () => i })));
      await load(flow, { backend }).run();
      expect(backend.commits).toBe(n + 1);
    }
  });

  it("the parallel engine commits a round of ready atoms at once", async () => {
    const backend = countCommits(new MemoryBackend());
    const flow = unorderedFlow("u", ...Array.from({ length: 32 }, (_, i) => task({ name: `t${i}`, execute: () => i })));
    await load(flow, { backend, engine: "parallel", maxConcurrency: 8 }).run();
    // 32 RUNNING writes in rounds of 8 (4 commits), each carrying the previous round's results, then the end.
    expect(backend.commits).toBe(5);
  });
});
