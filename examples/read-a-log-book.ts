// Reads a stored flow back, as a viewer or another host would: `npx tsx examples/read-a-log-book.ts`.
import { linearFlow, load, MemoryBackend, readSnapshot, sleep, task } from "taskflow-ts";

const backend = new MemoryBackend();
const flow = linearFlow("remind",
  task({ name: "email", provides: "sent", execute: () => "sent to ada" }),
  sleep("a-day-later", 86_400_000),
  task({ name: "reminder", requires: ["sent"], execute: () => "reminded" }),
);
const engine = load(flow, { backend, maxWaitMs: 0 }); // a host that does not wait in-process
await engine.run(); // ends SUSPENDED: the sleep's wake-up time is stored

const snap = await readSnapshot(backend, engine.flowDetailId); // no definition needed
console.log(snap.state, snap.suspendedReason, snap.isFinal); // SUSPENDED waiting false
for (const atom of snap.atoms) console.log(atom.name, atom.state, atom.result ?? ""); // reminder PENDING: never started
console.log(snap.wakeAt === engine.nextWakeup()); // true: when a host should run it again
