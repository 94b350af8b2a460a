// npm run demo: a checkout flow that loses its host half-way through, then resumes from its
// log book. Watch the transitions stream by, the crash, and the resume that skips what was done.
import { graphFlow, linearFlow, load, MemoryBackend, readSnapshot, task, unorderedFlow, type AtomEvent, type Engine } from "../../src/index.js";
import { memoryBackendFromDump } from "../../src/backend.js";

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
let hostAlive = true; // the first "host" dies while charging the card
let abandon: () => void = () => {};

function checkout() {
  return linearFlow(
    "checkout",
    task({
      name: "validate",
      requires: ["cart"],
      provides: ["items", "customer"],
      execute: async ({ cart }: { cart: { items: string[]; customer: string } }) => {
        await pause(150);
        return [cart.items, cart.customer];
      },
    }),
    unorderedFlow(
      "prepare",
      task({ name: "reserve", requires: ["items"], provides: "reservation", execute: async ({ items }: { items: string[] }) => (await pause(200), `R-${items.length}`), revert: () => "released" }),
      task({ name: "quote", requires: ["items"], provides: "total", execute: async ({ items }: { items: string[] }) => (await pause(200), items.length * 12.5) }),
    ),
    task({
      name: "charge",
      requires: ["total", "customer"],
      provides: "receipt",
      execute: async ({ total, customer }: { total: number; customer: string }, ctx) => {
        for (let i = 1; i <= 4; i++) {
          await pause(100);
          ctx.updateProgress(i / 4, `authorising ${customer}`);
          if (i === 2 && hostAlive) {
            hostAlive = false;
            abandon(); // the tab is closed mid-charge: this engine never hears back
            return new Promise(() => {});
          }
        }
        return { id: `rcpt-${ctx.attempt}`, total, idempotencyKey: ctx.idempotencyKey };
      },
      revert: () => "refunded",
    }),
    graphFlow(
      "fulfil",
      task({ name: "ship", requires: ["reservation", "customer"], provides: "tracking", execute: async () => (await pause(150), "TRK-42") }),
      task({ name: "email", requires: ["receipt", "tracking"], provides: "sent", execute: async ({ tracking }: { receipt: unknown; tracking: string }) => (await pause(100), `mailed ${tracking}`) }),
    ),
  );
}

const ATOMS = 6;
// Colours for a terminal only: piped into a file, `less` or a CI log, escape codes are noise.
// NO_COLOR (https://no-color.org) turns them off; FORCE_COLOR (as Node reads it) wins over both.
const { FORCE_COLOR, NO_COLOR, TERM } = process.env;
const colours = FORCE_COLOR ? FORCE_COLOR !== "0" : !NO_COLOR && process.stdout.isTTY === true && TERM !== "dumb";
const paint = (code: number, s: string) => (colours ? `\x1b[${code}m${s}\x1b[0m` : s);
const colour = (s: string) => (s.includes("FAILURE") || s.includes("REVERT") ? paint(31, s) : s.includes("SUCCESS") ? paint(32, s) : s);

function watch(engine: Engine, label: string, done = new Set<string>()) {
  const t0 = Date.now();
  const line = (text: string) => console.log(`  ${label} +${String(Date.now() - t0).padStart(4)}ms  ${text}`);
  engine.on("flow", (e) => line(colour(`flow ${e.flowName}: ${e.oldState} → ${e.state}`)));
  engine.on("atom", (e: AtomEvent) => {
    if (e.state === "SUCCESS") done.add(e.name);
    const result = e.state === "SUCCESS" ? ` = ${JSON.stringify(e.result)}` : "";
    const bar = "█".repeat(done.size) + "░".repeat(ATOMS - done.size);
    line(`${colour(`${e.name.padEnd(8)} ${e.oldState} → ${e.state}`)}${result}${e.state === "SUCCESS" ? `   [${bar}] ${done.size}/${ATOMS}` : ""}`);
  });
  engine.on("progress", (e) => {
    if (e.progress > 0 && e.progress < 1) line(`${e.name.padEnd(8)} progress ${Math.round(e.progress * 100)}% (${String(e.details)})`);
  });
  return done;
}

const cart = { items: ["tea", "cups", "pot"], customer: "ada@example.org" };
const backend = new MemoryBackend();

console.log("\n1) A checkout flow starts; its log book is written at every transition.\n");
const first = load(checkout(), { backend, store: { cart }, engine: "parallel" });
const firstDone = watch(first, "host 1");
await new Promise<void>((resolve) => {
  abandon = resolve;
  void first.run();
});
const saved = JSON.stringify(backend.dump()); // all that survives the host is what it committed
console.log(`\n   💥 host 1 died while charging. Done before the crash: ${[...firstDone].join(", ")}.`);
console.log(`   The log book survives as ${saved.length} bytes of JSON.\n`);

console.log("2) A new host loads the same flow definition against the stored log book and resumes.");
console.log("   Its log book says RUNNING, yet no host runs it, so the flow goes RESUMING → SUSPENDED → RUNNING:");
console.log("   as TaskFlow does, the interruption is recorded (a suspension the old host never finished)");
console.log("   before the run goes on. charge was RUNNING when host 1 died, so it runs again;");
console.log("   what reached SUCCESS does not.\n");
const second = load(checkout(), { backend: memoryBackendFromDump(JSON.parse(saved)), flowDetailId: first.flowDetailId, engine: "parallel" });
await second.prepare();
watch(second, "host 2", new Set(second.storage.atomDetails().filter((d) => d.state === "SUCCESS").map((d) => d.name)));
await second.run();

console.log("\n3) Results:", second.storage.fetchAll());
console.log("\n4) The log book's audit trail, step by step: every transition committed, by which host, in order:\n");
const start = second.storage.flowDetail.createdAt;
const hosts = new Map([[first.runnerId, "host 1"], [second.runnerId, "host 2"]]);
const { trail = [] } = await readSnapshot(second.backend, second.flowDetailId, { trail: true });
for (const t of trail) {
  const attempt = t.to === "RUNNING" && t.attempt ? ` (attempt ${t.attempt})` : "";
  console.log(`   ${String(t.seq).padStart(3)}  +${String(t.at - start).padStart(4)}ms  ${hosts.get(t.runner ?? "") ?? "?"}  ${colour(`${(t.atom ?? "flow").padEnd(8)} ${t.from} → ${t.to}`)}${attempt}`);
}
console.log("\n   charge ran twice (at-least-once: it was RUNNING when host 1 died), with the same");
console.log("   ctx.idempotencyKey both times, so a payment API can deduplicate it; nothing that had");
console.log("   reached SUCCESS ran again.\n");
