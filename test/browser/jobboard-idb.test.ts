// The job board contract on Chromium's own IndexedDB (the suite runs on fake-indexeddb in Node
// too), and the contention test across several connections of one page.
import { afterEach, describe, expect, it } from "vitest";
import { IndexedDbJobBoard } from "../../adapters/idb/index.js";
import { describeJobBoardContract } from "../contract/jobboard-contract.js";
import { raceForJobs } from "../contract/jobboard-contention.js";

const opened: IndexedDbJobBoard[] = [];
const open = async (name: string, options: Parameters<typeof IndexedDbJobBoard.open>[1] = {}) => {
  const board = await IndexedDbJobBoard.open(name, options);
  opened.push(board);
  return board;
};
afterEach(async () => {
  const names = new Set(opened.map((b) => b.name));
  for (const board of opened.splice(0)) await board.close();
  for (const name of names) indexedDB.deleteDatabase(name);
});

describeJobBoardContract("IndexedDB (Chromium)", { make: ({ clock, leaseMs }) => open(`jobs-${crypto.randomUUID()}`, { clock, leaseMs }) });

describe("IndexedDbJobBoard in Chromium", () => {
  it("many claimers over 4 connections race for 60 jobs: each consumed exactly once, none lost", async () => {
    const name = `race-${crypto.randomUUID()}`;
    const boards = await Promise.all(Array.from({ length: 4 }, () => open(name)));
    const { refused } = await raceForJobs(boards, 8, 60);
    expect(refused).toBeGreaterThan(0);
  });

  it("a post on one connection wakes a wait on another over the BroadcastChannel, before any poll", async () => {
    const name = `wake-${crypto.randomUUID()}`;
    // A poll an hour away: only the channel can wake the waiter within the test.
    const waiter = await open(name, { pollMs: 3_600_000 });
    const poster = await open(name);
    const waiting = waiter.wait();
    const job = await poster.post({ flow: "upload", args: ["cat.png"] });
    expect((await waiting).map((j) => j.uuid)).toEqual([job.uuid]);
  });
});
