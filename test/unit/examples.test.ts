import { readFileSync } from "node:fs";
import { afterEach, describe, expect, it, vi } from "vitest";

describe("the README's example", () => {
  afterEach(() => vi.restoreAllMocks());

  it("is the file examples/quickstart.ts, word for word", () => {
    const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
    const example = readFileSync(new URL("../../examples/quickstart.ts", import.meta.url), "utf8");
    expect(readme).toContain(example.trim());
  });

  it("runs and prints the receipt, and resuming runs nothing twice", async () => {
    const log = vi.spyOn(console, "log").mockImplementation(() => {});
    await import("../../examples/quickstart.js");
    expect(log.mock.calls).toEqual([["paid 90 for B-1"]]);
  });
});

describe("the job examples (issue 13, item 6)", () => {
  it("produce-consume-colors: every posted job is run by one worker and consumed once", async () => {
    const { main } = await import("../../examples/jobs/produce-consume-colors.js");
    const log: string[] = [];
    const reports = await main({ producers: 3, workers: 4, jobs: 6, log: (line) => log.push(line) });
    expect(reports.length).toBe(18);
    const consumed = log.filter((l) => / consumed /.test(l)).map((l) => l.replace(/^worker-\d+ consumed /, ""));
    expect(consumed.length).toBe(18);
    expect(new Set(consumed).size).toBe(18);
    expect(new Set(log.filter((l) => / consumed /.test(l)).map((l) => l.split(" ")[0])).size).toBeGreaterThan(1);
    expect(log.at(-1)).toBe("18 jobs posted, 18 consumed, each by one worker");
  });

  it("99-bottles: the first conductor dies mid-song; the second sings on from the log book, every verse once, in order", async () => {
    const { main } = await import("../../examples/jobs/99-bottles.js");
    const log: string[] = [];
    const singers = await main({ bottles: 9, killAt: 4, log: (line) => log.push(line) });
    expect(singers).toEqual([...Array(5).fill("conductor-1"), ...Array(4).fill("conductor-2")]);
    const verses = log.filter((l) => l.startsWith("[")).map((l) => Number(/\] (\d+) bottle/.exec(l)?.[1]));
    expect(verses).toEqual([9, 8, 7, 6, 5, 4, 3, 2, 1]);
    expect(log).toContain("*** 10 s later the job is UNCLAIMED again ***");
    expect(log.at(-1)).toBe("verses in the log book: 9, 5 by conductor-1, 4 by conductor-2");
  });
});

describe("the README's jobs example", () => {
  afterEach(() => vi.restoreAllMocks());

  it("is the file examples/jobs/quickstart.ts, word for word, and runs: the job is consumed after its flow succeeded", async () => {
    const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
    const example = readFileSync(new URL("../../examples/jobs/quickstart.ts", import.meta.url), "utf8");
    expect(readme).toContain(example.trim());
    const log = vi.spyOn(console, "log").mockImplementation(() => {});
    await import("../../examples/jobs/quickstart.js");
    expect(log.mock.calls).toEqual([["cat: SUCCESS"]]);
  });
});

describe("TaskFlow's wbe_simple_linear, ported (issue 14, item 5)", () => {
  it("runs the two tasks on the pool's workers and ends with TaskFlow's results", async () => {
    const { main } = await import("../../examples/wbe-simple-linear.js");
    const log: string[] = [];
    const { results, ranOn } = await main((line) => log.push(line));
    expect(results).toEqual({ x: 111, y: 222, z: 333, result1: 1, result2: 666 });
    expect(Object.keys(ranOn).sort()).toEqual(["task-1", "task-2"]);
    for (const worker of Object.values(ranOn)) expect(["worker-1", "worker-2"]).toContain(worker);
    expect(log.slice(0, 3)).toEqual(["Running 2 workers.", "Executing some work.", "Execution finished."]);
  });
});
