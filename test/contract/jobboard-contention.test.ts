// Contention on the boards that run in Node: memory (one board, many conductors) and IndexedDB
// under fake-indexeddb (one connection per claimer, as tabs have; the browser's own runs in
// test/e2e/jobboard-tabs.test.ts).
import "fake-indexeddb/auto";
import { deleteDB } from "idb";
import { describe, expect, it } from "vitest";
import { IndexedDbJobBoard } from "../../adapters/idb/index.js";
import { MemoryJobBoard } from "../../src/jobs/index.js";
import { raceForJobs } from "./jobboard-contention.js";

describe("many conductors race for many jobs: each consumed exactly once, none lost", () => {
  it("memory: 16 claimers, 200 jobs", async () => {
    const { refused } = await raceForJobs([new MemoryJobBoard()], 16, 200);
    expect(refused).toBeGreaterThan(0); // they did collide
  });

  it("IndexedDB (fake-indexeddb): 8 connections, one claimer each, 100 jobs", async () => {
    const name = `race-${crypto.randomUUID()}`;
    const boards = await Promise.all(Array.from({ length: 8 }, () => IndexedDbJobBoard.open(name)));
    try {
      const { refused } = await raceForJobs(boards, 8, 100);
      expect(refused).toBeGreaterThan(0);
    } finally {
      for (const board of boards) await board.close();
      await deleteDB(name);
    }
  });
});
