// Many conductors race for many jobs on one board (issue 13, contention): each claimer lists the
// unclaimed jobs best first and tries to claim each, as conductors do; every one claimed is
// consumed, except that now and then a claimer abandons one instead (it goes back on the board).
// Shared by every board's runtime: no Node APIs, no timers.
import { expect } from "vitest";
import { UnclaimableJob } from "../../src/index.js";
import type { Job, JobBoard } from "../../src/jobs/index.js";

export interface Contention {
  /** Each job's successful consumes, by claimer. */
  consumedBy: Map<string, string[]>;
  /** Claims refused because another claimer got there first. */
  refused: number;
  /** Claims given back. */
  abandoned: number;
}

/**
 * Posts `jobs` jobs on `boards[0]`, then runs `claimers` claimers, claimer i on
 * `boards[i % boards.length]` (another tab, another Worker), until every job is consumed. Checks
 * that each was consumed exactly once and that none was lost, and returns what happened.
 */
export async function raceForJobs(boards: JobBoard[], claimers: number, jobs: number): Promise<Contention> {
  const producer = boards[0] as JobBoard;
  const posted: Job[] = [];
  for (let i = 0; i < jobs; i++) posted.push(await producer.post({ flow: "race", args: [i], priority: i % 3 === 0 ? "HIGH" : "NORMAL" }));
  const consumedBy = new Map<string, string[]>();
  let refused = 0;
  let abandoned = 0;
  let consumed = 0;
  const allDone = new AbortController();
  const claimer = async (index: number) => {
    const board = boards[index % boards.length] as JobBoard;
    const owner = `claimer-${index}`;
    let turn = 0;
    while (!allDone.signal.aborted) {
      // Every claimer sees the same list in the same order: they collide on purpose.
      const unclaimed = await board.wait({ signal: allDone.signal });
      for (const job of unclaimed) {
        let claim;
        try {
          claim = await board.claim(job.uuid, owner);
        } catch (e) {
          if (!(e instanceof UnclaimableJob)) throw e;
          refused++;
          continue;
        }
        if (++turn % 7 === index % 7) {
          abandoned++;
          await board.abandon(claim);
          continue;
        }
        await board.consume(claim);
        consumedBy.set(job.uuid, [...(consumedBy.get(job.uuid) ?? []), owner]);
        if (++consumed === jobs) allDone.abort();
      }
    }
  };
  await Promise.all(Array.from({ length: claimers }, (_, i) => claimer(i)));

  for (const job of posted) expect(consumedBy.get(job.uuid)?.length, `job ${job.args[0] as number}`).toBe(1);
  expect(consumedBy.size).toBe(jobs);
  const stored: Job[] = [];
  for await (const job of producer.iterate({ only: "all" })) stored.push(job);
  expect(stored.length).toBe(jobs);
  expect(stored.every((j) => j.state === "COMPLETE")).toBe(true);
  // Every claim that held was one token: the consumes and the abandons.
  expect(stored.reduce((n, j) => n + j.claims, 0)).toBe(jobs + abandoned);
  return { consumedBy, refused, abandoned };
}
