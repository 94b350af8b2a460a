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
