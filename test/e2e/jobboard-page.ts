// The page of test/e2e/jobboard-tabs.test.ts, bundled for Chromium: an IndexedDbJobBoard on the
// database named in the URL, and what a conductor does with it, for the test to drive in each tab.
import { IndexedDbJobBoard } from "../../adapters/idb/index.js";
import { UnclaimableJob } from "../../src/index.js";

const params = new URLSearchParams(location.search);
const tab = params.get("tab") ?? "?";
// An hour between polls: within a test, only the BroadcastChannel wakes a waiting tab.
const board = IndexedDbJobBoard.open(params.get("db") ?? "jobs", { pollMs: 3_600_000 });

/** The test's start signal, heard by every tab at once. */
const start = new BroadcastChannel("jobboard-tabs-start");
let go: () => void = () => {};
const started = new Promise<void>((resolve) => (go = resolve));
start.onmessage = () => go();

const api = {
  async post(count: number): Promise<string[]> {
    const b = await board;
    const uuids: string[] = [];
    for (let i = 0; i < count; i++) uuids.push((await b.post({ flow: "upload", args: [`file-${i}`] })).uuid);
    return uuids;
  },
  /**
   * Once started, claims every unclaimed job it can (all tabs go through them in the same order),
   * consuming each it gets, until none is left unclaimed. The jobs it won and the claims it lost.
   */
  async race(): Promise<{ won: string[]; refused: number }> {
    const b = await board;
    await started;
    const won: string[] = [];
    let refused = 0;
    for (;;) {
      const unclaimed: string[] = [];
      for await (const job of b.iterate({ only: "unclaimed" })) unclaimed.push(job.uuid);
      if (unclaimed.length === 0) return { won, refused };
      for (const uuid of unclaimed) {
        try {
          const claim = await b.claim(uuid, tab);
          await b.consume(claim);
          won.push(uuid);
        } catch (e) {
          if (!(e instanceof UnclaimableJob)) throw e;
          refused++;
        }
      }
    }
  },
  /** Starts every tab's race (this one's too: a channel does not hear its own messages). */
  go(): void {
    start.postMessage("go");
    go();
  },
  /** Waits for unclaimed jobs; their uuids. */
  async wait(): Promise<string[]> {
    return (await (await board).wait()).map((j) => j.uuid);
  },
  async claim(uuid: string): Promise<{ jobUuid: string; owner: string; token: number; expiresAt: number }> {
    return (await board).claim(uuid, tab, { leaseMs: 3_600_000 });
  },
  async abandon(claim: { jobUuid: string; owner: string; token: number; expiresAt: number }): Promise<void> {
    await (await board).abandon(claim);
  },
  async states(): Promise<string[]> {
    const states: string[] = [];
    for await (const job of (await board).iterate({ only: "all" })) states.push(job.state);
    return states;
  },
};

(globalThis as unknown as { jobs: typeof api }).jobs = api;
document.body.dataset["ready"] = "true";
