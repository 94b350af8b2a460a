// The page: a booking wizard whose flow lives in IndexedDB, and a viewer of every log book.
import { IndexedDbBackend } from "../../adapters/idb/index.js";
import { Cancelled, load, snapshotOf, toMermaid, type AtomDetail, type Engine } from "../../src/index.js";
import { bookingFlow, type Ledger } from "./flow.js";

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const params = new URLSearchParams(location.search);
const slow = params.get("slow"); // "?slow=reserve" makes that step take 1.5 s (for the reload tests)

/** Counts in localStorage, so a test can tell what ran, across reloads and restarts. */
const ledger: Ledger = {
  executed: (name) => bump(`executed:${name}`),
  reverted: (name) => {
    const list = JSON.parse(localStorage.getItem("reverted") ?? "[]") as string[];
    localStorage.setItem("reverted", JSON.stringify([...list, name]));
  },
  pause: (name) => (name === slow ? new Promise((r) => setTimeout(r, 1500)) : Promise.resolve()),
};
function bump(key: string): void {
  localStorage.setItem(key, String(Number(localStorage.getItem(key) ?? 0) + 1));
}

const backend = await IndexedDbBackend.open("taskflow-wizard", {
  onVersionChange: () => ($("banner").textContent = "This app was updated in another tab: reload this page."),
});
let engine: Engine;

async function start(): Promise<void> {
  const id = localStorage.getItem("flowId");
  engine = load(bookingFlow(ledger), id ? { backend, flowDetailId: id } : { backend, book: { name: `booking ${new Date().toISOString()}` } });
  await engine.save(); // stored before its id is kept: a reload always finds it
  localStorage.setItem("flowId", engine.flowDetailId);
  engine.setOnline(navigator.onLine);
  engine.on("atom", () => void render());
  engine.on("flow", () => void render());
  await step(() => engine.run());
}

/** Runs an engine call, then shows where the flow is; a refused answer is shown, not thrown. */
async function step(action: () => Promise<void>): Promise<void> {
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

/** Shows where the flow is. Renders overlap (events come during a run): only the latest writes. */
async function render(): Promise<void> {
  const mine = ++renders;
  const storage = engine.storage;
  const [next] = await engine.waitingFor();
  const viewer = await viewerRows();
  if (mine !== renders) return;
  const details = storage.atomDetails();
  const done = details.filter((d) => d.state === "SUCCESS").length;
  $("state").textContent = storage.flowState + (storage.flowDetail.suspendedReason ? ` (${storage.flowDetail.suspendedReason})` : "");
  $<HTMLProgressElement>("progress").value = done / details.length;
  $("progress-text").textContent = `${done}/${details.length}`;
  $("step").textContent = next ? `${next.description ?? next.name}:` : storage.flowState === "SUCCESS" ? "Booked." : "—";
  $("step").dataset.input = next?.name ?? "";
  $<HTMLButtonElement>("next").disabled = !next;
  const values = storage.fetchAll();
  $("results").textContent = JSON.stringify(values, null, 2);
  $("answers").replaceChildren(
    ...["name", "nights", "room"].filter((n) => storage.detail(`wait:${n}`).state === "SUCCESS").map((n) => answerRow(n, values[n])),
  );
  $("log").replaceChildren(...logLines(details, storage.flowDetail.createdAt));
  viewer();
}

function answerRow(name: string, value: unknown): HTMLElement {
  const row = document.createElement("div");
  const input = Object.assign(document.createElement("input"), { value: String(value), id: `change-${name}` });
  const button = Object.assign(document.createElement("button"), { textContent: "Change", type: "button", id: `revise-${name}` });
  button.onclick = () => void step(() => engine.revise(name, input.value));
  row.append(`${name}: `, input, " ", button);
  return row;
}

/** Every transition in the log book, in time order: the audit trail. */
function logLines(details: AtomDetail[], start: number): HTMLElement[] {
  const lines = details.flatMap((d) => Object.entries(d.timestamps ?? {}).map(([state, at]) => ({ at: at as number, text: `${d.name} ${state}`, state })));
  return lines
    .sort((a, b) => a.at - b.at)
    .map((l) => Object.assign(document.createElement("li"), { textContent: `+${l.at - start} ms  ${l.text}`, className: l.state }));
}

/** Reads the chosen log book back from IndexedDB; returns what writes it into the page. */
async function viewerRows(): Promise<() => void> {
  const select = $<HTMLSelectElement>("books");
  const books = await backend.listLogBooks();
  const chosen = select.value || engine.storage.book.uuid;
  const [flow] = await backend.getFlowDetails(chosen).catch(() => []);
  // Every atom of the definition, PENDING where nothing is stored yet (an atom is stored from its first transition on).
  const atoms = flow ? snapshotOf(flow, await backend.getAtomDetails(flow.uuid)).atoms : [];
  return () => {
    select.replaceChildren(...books.map((b) => Object.assign(document.createElement("option"), { value: b.uuid, textContent: b.name, selected: b.uuid === chosen })));
    const rows = atoms.map((a) => `<tr class="${a.state}"><td>${a.name}</td><td>${a.state}</td><td>${a.intention}</td><td>${a.attempts}</td></tr>`);
    $("atoms").innerHTML = `<tr><th>atom</th><th>state</th><th>intention</th><th>runs</th></tr>${rows.join("")}`;
    $("graph").textContent = toMermaid(engine.compile(), Object.fromEntries(atoms.map((a) => [a.name, a.state])));
  };
}

$("step-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const name = $("step").dataset.input;
  const input = $<HTMLInputElement>("answer");
  if (name) void step(() => engine.provide(name, input.value)).then(() => (input.value = ""));
});
$("cancel").addEventListener("click", () => void step(() => engine.cancel("cancelled by the user")));
$("restart").addEventListener("click", () => {
  localStorage.removeItem("flowId");
  void start();
});
$("books").addEventListener("change", () => void render());
addEventListener("online", () => {
  engine.setOnline(true);
  void step(() => engine.run());
});
addEventListener("offline", () => engine.setOnline(false));

await start();
document.body.dataset.ready = "true";
