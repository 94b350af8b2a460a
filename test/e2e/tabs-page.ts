// The page of test/e2e/tabs.test.ts, bundled for Chromium: one flow of four steps on an
// IndexedDbBackend, run from several tabs of one origin. Each tab counts what it executed in
// localStorage under its own key (so a closed tab's count survives it, and tabs never race on
// one key), can hold a step open until the test lets it go, broadcasts the transitions of what
// it runs, and shows a flow it observes as those broadcasts describe it.
import { broadcastTransitions, IndexedDbBackend, observeTransitions, WebLockService } from "../../adapters/idb/index.js";
import { linearFlow, load, task, type LockService } from "../../src/index.js";

const params = new URLSearchParams(location.search);
const tab = params.get("tab") ?? "?";
const database = params.get("db") ?? "tabs";
const executed: string[] = [];
let blockAt: string | undefined;
let reached: () => void = () => {};
let letGo: () => void = () => {};
let gate: Promise<void> = Promise.resolve();
let atGate: Promise<void> = Promise.resolve();
/** Where this tab's run is: asking for the flow's lock, holding it, or held at the gate. */
let status: "idle" | "waiting" | "running" | "gate" = "idle";
const tracked = (locks: LockService): LockService => ({
  acquire: async (name, options) => {
    status = "waiting";
    const lease = await locks.acquire(name, options);
    status = "running";
    return lease;
  },
});

const STEPS = ["t1", "t2", "t3", "t4"];
const steps = () =>
  linearFlow(
    "tabs",
    ...STEPS.map((name) =>
      task({
        name,
        provides: name,
        execute: async () => {
          executed.push(name);
          localStorage.setItem(`executed:${tab}`, JSON.stringify(executed));
          if (blockAt === name) {
            status = "gate";
            reached();
            await gate;
          }
          return `${name}@${tab}`;
        },
      }),
    ),
  );

/** What this tab shows of a flow it observes: its state and each atom's, as the transitions said. */
const view: { flow?: string; atoms: Record<string, string> } = { atoms: {} };
/** The transitions it heard, as lines ("tabs RUNNING", "t1 SUCCESS"). */
const heard: string[] = [];

let backend: Promise<IndexedDbBackend> | undefined;
const open = () => (backend ??= IndexedDbBackend.open(database));

const api = {
  /** Stores a new flow detail and returns its id. */
  async create(): Promise<string> {
    const engine = load(steps(), { backend: await open() });
    await engine.save();
    return engine.flowDetailId;
  },
  /** The next run holds step `name` open (until `release`); `reached()` resolves once it is there. */
  block(name: string): void {
    blockAt = name;
    gate = new Promise((resolve) => (letGo = resolve));
    atGate = new Promise((resolve) => (reached = resolve));
  },
  reached: () => atGate,
  status: () => status,
  release: () => letGo(),
  /** Runs the flow here; `steal` takes its lock from whoever holds it. The end state, or the error's name. */
  async run(id: string, steal = false): Promise<{ state: string } | { error: string; message: string }> {
    const b = await open();
    const locks = steal ? new WebLockService({ scope: b.name, steal: true }) : b.locks;
    const engine = load(steps(), { backend: b, flowDetailId: id, ...(locks ? { lock: tracked(locks) } : {}) });
    let stop = (): void => {};
    try {
      // Whatever this tab runs, the others see (nothing is sent while it waits for the lock).
      // Loaded first, for the flow's id; run() loads it again once it holds the lock.
      await engine.prepare();
      stop = broadcastTransitions(engine, { scope: database });
      await engine.run();
      return { state: engine.storage.flowState };
    } catch (e) {
      return { error: (e as Error).name, message: (e as Error).message };
    } finally {
      stop();
    }
  },
  /** Shows flow `id` as the tab running it reports it (this tab's own runs included). */
  observe(id: string): void {
    observeTransitions(id, (t) => {
      if (t.type === "progress") return;
      if (t.type === "flow") view.flow = t.state;
      else view.atoms[t.name] = t.state;
      heard.push(`${t.type === "flow" ? t.flowName : t.name} ${t.state}`);
    }, { scope: database });
  },
  view: () => view,
  heard: () => heard,
  /** What this tab executed. */
  executed: () => executed,
  /** The flow and its atoms as stored. */
  async stored(id: string) {
    const b = await open();
    const flow = await b.getFlowDetail(id);
    const atoms = await b.getAtomDetails(id);
    return { state: flow.state, epoch: flow.epoch, atoms: Object.fromEntries(atoms.map((a) => [a.name, [a.state, a.result]])) };
  },
  /** A write under token `epoch`, as a runner holding it would send: the error's name, or "stored". */
  async write(id: string, epoch: number): Promise<string> {
    const b = await open();
    const flow = await b.getFlowDetail(id);
    return b.commit({ logBooks: [], flows: [{ ...flow, state: "FAILURE" }], atoms: [], fence: { flowUuid: id, epoch } }).then(
      () => "stored",
      (e: unknown) => (e as Error).name,
    );
  },
};

(globalThis as unknown as { tabs: typeof api }).tabs = api;
document.body.dataset["ready"] = "true";
