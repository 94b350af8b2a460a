// TaskFlow's 99_bottles, ported: a job sings the song, one task per verse, every verse written to
// the log book as it is sung. Its conductor is killed mid-song (it hangs: no more renewals, no
// more news); once its claim runs out, another conductor claims the job and sings on from the log
// book: no verse twice, none lost. Time is simulated (ManualClock) so the lease runs out at once.
// `npm run bottles` (or `npm run bottles -- 10` for a shorter song)
import { fileURLToPath } from "node:url";
import { FlowRegistry, linearFlow, MemoryBackend, task } from "taskflow-ts";
import { Conductor, MemoryJobBoard } from "taskflow-ts/jobs";
import { ManualClock } from "taskflow-ts/testing";

const LEASE_MS = 10_000;

const verse = (n: number): string =>
  `${n} bottle${n === 1 ? "" : "s"} of beer on the wall, ${n} bottle${n === 1 ? "" : "s"} of beer. Take one down, pass it around, ${n - 1 || "no more"} bottle${n - 1 === 1 ? "" : "s"} of beer on the wall.`;

/**
 * The song as a flow: the same definition on every host; `beforeVerse` is the host's own (it is
 * where the first host dies).
 */
function songs(host: string, beforeVerse: (n: number) => Promise<void>, log: (line: string) => void): FlowRegistry {
  return new FlowRegistry().register("song", (bottles: number) =>
    linearFlow("99-bottles", Array.from({ length: bottles }, (_, i) => bottles - i).map((n) =>
      task({ name: `verse-${n}`, provides: `sung-${n}`, execute: async () => {
        await beforeVerse(n);
        log(`[${host}] ${verse(n)}`);
        return host;
      } }))));
}

/** Sings `bottles` verses; the first conductor dies before verse `killAt`. Returns who sang each verse, in order. */
export async function main(options: { bottles?: number; killAt?: number; log?: (line: string) => void } = {}): Promise<string[]> {
  const { bottles = 99, log = console.log } = options;
  const killAt = options.killAt ?? Math.ceil(bottles / 2);
  const world = new ManualClock(0); // the board's time
  const board = new MemoryJobBoard({ clock: world, leaseMs: LEASE_MS });
  const backend = new MemoryBackend();
  const job = await board.post({ name: "sing", flow: "song", args: [bottles] });

  let killed!: () => void;
  const dead = new Promise<void>((resolve) => (killed = resolve));
  const first = new Conductor({
    name: "conductor-1", board, backend, leaseMs: LEASE_MS,
    clock: new ManualClock(0), // its process's timers: they stop with it
    flows: songs("conductor-1", (n) => {
      if (n !== killAt) return Promise.resolve();
      log(`*** conductor-1 is killed before verse ${n} (it hangs; nobody tells the board) ***`);
      killed();
      return new Promise<void>(() => {}); // never returns
    }, log),
  });
  void first.run(); // it never ends: it is dead

  await dead;
  world.advance(LEASE_MS); // time passes; conductor-1 renewed nothing
  log(`*** ${LEASE_MS / 1000} s later the job is ${(await board.get(job.uuid)).state} again ***`);

  const second = new Conductor({ name: "conductor-2", board, backend, clock: world, leaseMs: LEASE_MS, flows: songs("conductor-2", () => Promise.resolve(), log) });
  second.on("consumed", ({ job, state }) => log(`*** conductor-2 finished the song (${state}) and consumed job "${job.name}" ***`));
  await second.run({ maxDispatches: 1 });

  const atoms = await backend.getAtomDetails(job.flowUuid ?? job.uuid);
  const singers = Array.from({ length: bottles }, (_, i) => String(atoms.find((a) => a.name === `verse-${bottles - i}`)?.result));
  const by1 = singers.filter((s) => s === "conductor-1").length;
  log(`verses in the log book: ${singers.length}, ${by1} by conductor-1, ${singers.length - by1} by conductor-2`);
  return singers;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await main({ bottles: Number(process.argv[2] ?? 99) });
