// The job board contract on the IndexedDB board under fake-indexeddb, in Node (the same suite
// runs on Chromium's IndexedDB in test/browser/jobboard-idb.test.ts).
import "fake-indexeddb/auto";
import { deleteDB } from "idb";
import { afterEach } from "vitest";
import { IndexedDbJobBoard } from "../../adapters/idb/index.js";
import { describeJobBoardContract } from "./jobboard-contract.js";

const opened: IndexedDbJobBoard[] = [];
afterEach(async () => {
  for (const board of opened.splice(0)) {
    await board.close();
    await deleteDB(board.name);
  }
});

describeJobBoardContract("IndexedDB (fake-indexeddb)", {
  make: async ({ clock, leaseMs }) => {
    const board = await IndexedDbJobBoard.open(`jobs-${crypto.randomUUID()}`, { clock, leaseMs });
    opened.push(board);
    return board;
  },
});
