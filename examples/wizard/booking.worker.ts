// The wizard's engine, off the page: the booking flow runs here, so a slow or CPU-heavy step
// never freezes the page. app.ts starts it as a SharedWorker where the browser has one (every tab
// of the site then talks to this one runner: one engine per flow, every tab sees its events) and
// as a dedicated Worker per tab where it has none (Chrome on Android): then each tab's worker
// takes the flow's Web Lock before it runs or changes the flow, so a step still runs once, and
// broadcasts its transitions so that the other tabs show them.
import type { Engine } from "taskflow-ts";
import { broadcastTransitions, IndexedDbBackend } from "taskflow-ts/idb";
import { exposeRunner } from "taskflow-ts/worker";
import { bookingFlow, CHANNEL_SCOPE, NETWORK_CHANNEL, type Ledger } from "./flow.js";
import { append, count, read } from "./ledger.js";

// "?slow=reserve" makes that step's first execution wait 60 s, so a test can kill the browser while
// it runs (a SharedWorker outlives its last page for as long as the browser takes to shut down,
// and a short wait could end, and commit, in that time); "?busy=quote" makes it compute
// for 1 s (or ?busyMs=…), which would freeze a page that ran it. The page passes both on.
const params = new URLSearchParams(location.search);
const slow = params.get("slow");
const busy = params.get("busy");
const busyMs = Number(params.get("busyMs") ?? 1000);
/** The page's and the workers' common time line (both count from one time origin). */
const now = () => performance.timeOrigin + performance.now();

const ledger: Ledger = {
  executed: (name) => count(`executed:${name}`),
  reverted: (name) => append("reverted", name),
  pause: async (name) => {
    if (name === slow && (await read(`executed:${name}`)) === "1") await new Promise((resolve) => setTimeout(resolve, 60_000));
    if (name === busy) {
      const from = now();
      let spins = 0;
      while (now() - from < busyMs) spins++; // the thread is taken: nothing else runs here meanwhile
      await append(`busy:${name}`, { from, to: now(), spins });
    }
  },
};

const flows = { booking: () => bookingFlow(ledger) };
export type Flows = typeof flows; // what the page's client is typed by

const engines = new Set<Engine>();
exposeRunner({
  flows,
  backend: IndexedDbBackend.open("taskflow-wizard"),
  onEngine: (engine) => {
    engines.add(engine);
    engine.setOnline(online); // "pay" needs the network: it waits while offline
    const stop = broadcastTransitions(engine, { scope: CHANNEL_SCOPE });
    return () => {
      stop();
      engines.delete(engine);
    };
  },
});
let online = navigator.onLine;
const setOnline = (value: boolean) => {
  online = value;
  engines.forEach((e) => e.setOnline(value));
};
addEventListener("online", () => setOnline(true));
addEventListener("offline", () => setOnline(false));
// The pages say so too (NETWORK_CHANNEL): a page's events are the ones a person's browser and the
// tests' emulation (playwright's setOffline) surely fire; a worker's own may not be.
new BroadcastChannel(NETWORK_CHANNEL).onmessage = (event: MessageEvent<unknown>) => setOnline(event.data === "online");
