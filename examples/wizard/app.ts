// The page: a booking wizard whose flow runs in a worker (booking.worker.ts) and lives in
// IndexedDB, and a viewer of every log book. The page only renders, and sends the person's
// answers, changes and cancel to the worker's runner: no engine runs here, so a slow step never
// freezes it. Open it in two tabs: a step runs once, and both show it.
import { Cancelled, compile, snapshotOf, toMermaid, type AtomSnapshot, type FlowSnapshot } from "taskflow-ts";
import { IndexedDbBackend, observeTransitions } from "taskflow-ts/idb";
import { connectRunner } from "taskflow-ts/worker";
import type { Flows } from "./booking.worker.js";
import { bookingFlow, CHANNEL_SCOPE } from "./flow.js";
import { read } from "./ledger.js";

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const params = new URLSearchParams(location.search);

// One SharedWorker for every tab where the browser has them: one runner, one engine per flow,
// and each tab subscribes to its events. Where it has none (Chrome on Android), or with
// ?worker=dedicated, a Worker per tab: the flow's Web Lock keeps the workers from running a step
// twice, and the transitions of the one that runs reach the others over a BroadcastChannel.
const shared = typeof SharedWorker === "function" && params.get("worker") !== "dedicated";
const script = new URL("./booking.worker.js", location.href);
for (const key of ["slow", "busy", "busyMs"]) if (params.has(key)) script.searchParams.set(key, params.get(key) ?? "");
const runner = connectRunner<Flows>(
  shared ? new SharedWorker(script, { type: "module", name: "taskflow-wizard" }) : new Worker(script, { type: "module" }),
);
document.body.dataset.worker = shared ? "shared" : "dedicated";

// The viewer reads the log books itself (reading takes no lock); only the worker writes them.
const books = await IndexedDbBackend.open("taskflow-wizard", {
  onVersionChange: () => ($("banner").textContent = "This app was updated in another tab: reload this page."),
});
// The flow's definition, for the names each step provides and for drawing its graph; it never runs here.
const definition = bookingFlow({ executed: () => {}, reverted: () => {}, pause: async () => {} });
const provides = new Map([...definition.atoms()].map((a) => [a.name, a.provides]));
const graph = compile(definition);

let flowId = "";
let stopListening = (): void => {};

async function start(): Promise<void> {
  stopListening();
  const saved = localStorage.getItem("flowId");
  const found = saved ? await runner.snapshot(saved).catch(() => undefined) : undefined;
  // Stored before its id is kept (start resolves once it is): a reload always finds it.
  const flow = found ?? (await runner.start("booking", [], { run: false, book: { name: `booking ${new Date().toISOString()}` } }));
  flowId = flow.uuid;
  localStorage.setItem("flowId", flowId);
  // Its events, from this tab's runner; and from other tabs' workers (without a SharedWorker).
  const unsubscribe = await runner.subscribe({ flow: () => void render(), atom: () => void render() }, { flow: flowId });
  const stopObserving = observeTransitions(flowId, () => void render(), { scope: CHANNEL_SCOPE });
  stopListening = () => (void unsubscribe(), stopObserving());
  await step(() => runner.run(flowId));
}

/** Sends a call to the runner, then shows where the flow is; a refused answer is shown, not thrown. */
async function step(action: () => Promise<unknown>): Promise<void> {
  $("error").textContent = "";
  try {
    await action();
  } catch (e) {
    const error = e as Error;
    if (!(e instanceof Cancelled)) $("error").textContent = `${error.name}: ${error.message}`;
  }
  await render();
}

let renders = 0;

/** Shows where the flow is, as stored. Renders overlap (events come during a run): only the latest writes. */
async function render(): Promise<void> {
  const mine = ++renders;
  const flow = await runner.snapshot(flowId);
  const viewer = await viewerRows(flow);
  if (mine !== renders) return;
  const next = flow.waitingFor[0];
  const done = flow.atoms.filter((a) => a.state === "SUCCESS").length;
  $("state").textContent = flow.state + (flow.suspendedReason ? ` (${flow.suspendedReason})` : "");
  $<HTMLProgressElement>("progress").value = done / flow.atoms.length;
  $("progress-text").textContent = `${done}/${flow.atoms.length}`;
  $("step").textContent = next ? `${next.description ?? next.name}:` : flow.state === "SUCCESS" ? "Booked." : "—";
  $("step").dataset.input = next?.name ?? "";
  $<HTMLButtonElement>("next").disabled = !next;
  const values = valuesOf(flow.atoms);
  $("results").textContent = JSON.stringify(values, null, 2);
  $("answers").replaceChildren(
    ...["name", "nights", "room"].filter((n) => flow.atoms.some((a) => a.name === `wait:${n}` && a.state === "SUCCESS")).map((n) => answerRow(n, values[n])),
  );
  $("log").replaceChildren(...logLines(flow.atoms, flow.flowDetail.createdAt));
  viewer();
}

/** What the flow's steps provided so far, by name (what `engine.storage.fetchAll()` gives in the worker). */
function valuesOf(atoms: readonly AtomSnapshot[]): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  for (const a of atoms) if (a.state === "SUCCESS") for (const name of provides.get(a.name) ?? []) values[name] = a.result;
  return values;
}

function answerRow(name: string, value: unknown): HTMLElement {
  const row = document.createElement("div");
  const input = Object.assign(document.createElement("input"), { value: String(value), id: `change-${name}` });
  const button = Object.assign(document.createElement("button"), { textContent: "Change", type: "button", id: `revise-${name}` });
  button.onclick = () => void step(() => runner.revise(flowId, name, input.value));
  row.append(`${name}: `, input, " ", button);
  return row;
}

/** Every transition in the log book, in time order: the audit trail. */
function logLines(atoms: readonly AtomSnapshot[], start: number): HTMLElement[] {
  const lines = atoms.flatMap((a) => Object.entries(a.detail.timestamps ?? {}).map(([state, at]) => ({ at: at as number, text: `${a.name} ${state}`, state })));
  return lines
    .sort((a, b) => a.at - b.at)
    .map((l) => Object.assign(document.createElement("li"), { textContent: `+${l.at - start} ms  ${l.text}`, className: l.state }));
}

/** Reads the chosen log book back from IndexedDB; returns what writes it into the page. */
async function viewerRows(current: FlowSnapshot): Promise<() => void> {
  const select = $<HTMLSelectElement>("books");
  const list = await books.listLogBooks();
  const chosen = select.value || current.flowDetail.bookUuid;
  const [flow] = await books.getFlowDetails(chosen).catch(() => []);
  // Every atom of the definition, PENDING where nothing is stored yet (an atom is stored from its first transition on).
  const atoms = flow ? snapshotOf(flow, await books.getAtomDetails(flow.uuid)).atoms : [];
  return () => {
    select.replaceChildren(...list.map((b) => Object.assign(document.createElement("option"), { value: b.uuid, textContent: b.name, selected: b.uuid === chosen })));
    const rows = atoms.map((a) => `<tr class="${a.state}"><td>${a.name}</td><td>${a.state}</td><td>${a.intention}</td><td>${a.attempts}</td></tr>`);
    $("atoms").innerHTML = `<tr><th>atom</th><th>state</th><th>intention</th><th>runs</th></tr>${rows.join("")}`;
    $("graph").textContent = toMermaid(graph, Object.fromEntries(atoms.map((a) => [a.name, a.state])));
  };
}

$("step-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const name = $("step").dataset.input;
  const input = $<HTMLInputElement>("answer");
  if (name) void step(() => runner.provide(flowId, name, input.value)).then(() => (input.value = ""));
});
$("cancel").addEventListener("click", () => void step(() => runner.cancel(flowId, "cancelled by the user")));
$("restart").addEventListener("click", () => {
  localStorage.removeItem("flowId");
  void start();
});
$("books").addEventListener("change", () => void render());
// Back online: a run that waits for the network goes on (the worker tells its engines); a flow
// that stopped meanwhile is run again.
addEventListener("online", () => void step(() => runner.run(flowId)));

/** For the tests and the curious: what the steps did, as the worker counted it. */
(globalThis as unknown as { ledger: { read: typeof read } }).ledger = { read };

await start();
document.body.dataset.ready = "true";
