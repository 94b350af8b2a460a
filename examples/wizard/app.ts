// The page: a booking wizard whose flow runs in a worker (booking.worker.ts) and lives in
// IndexedDB, and a viewer of its log books. The page only renders, and sends the person's
// answers, changes and cancel to the worker's runner: no engine runs here, so a slow step never
// freezes it. Open it in two tabs: a step runs once, and both show it.
import { Cancelled, compile, isFinalFlowState, readSnapshot, type AtomSnapshot, type FlowSnapshot } from "taskflow-ts";
import { IndexedDbBackend, observeTransitions } from "taskflow-ts/idb";
import { defineViewer, type TaskflowViewer } from "taskflow-ts/viewer";
import { connectRunner } from "taskflow-ts/worker";
import type { Flows } from "./booking.worker.js";
import { bookingFlow, CHANNEL_SCOPE, NETWORK_CHANNEL, ROOMS } from "./flow.js";
import { read } from "./ledger.js";

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
/** An element with its properties (text as `textContent`, never markup) and children. */
function el<K extends keyof HTMLElementTagNameMap>(tag: K, props: Record<string, unknown> = {}, ...children: Array<Node | string>): HTMLElementTagNameMap[K] {
  const node: HTMLElementTagNameMap[K] = Object.assign(document.createElement(tag), props);
  node.append(...children);
  return node;
}
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
// The flow's definition, for the names each step provides, the choices of its questions and
// drawing its graph; it never runs here.
const definition = bookingFlow({ executed: () => {}, reverted: () => {}, pause: async () => {} });
const provides = new Map([...definition.atoms()].map((a) => [a.name, a.provides]));
const graph = compile(definition);
/** The questions whose answer is one of a few: offered as choices, never typed. */
const CHOICES: Record<string, ReadonlyArray<{ value: string; label: string }>> = {
  room: Object.entries(ROOMS).map(([room, price]) => ({ value: room, label: `${room} (${price} a night)` })),
  confirm: [{ value: "yes", label: "yes, pay now" }],
};
const ANSWERS = ["name", "nights", "room"];

defineViewer();
const viewer = $<TaskflowViewer>("viewer");
viewer.graph = graph;

/** The user key the booking is stored under (see `resumeOrStart`): one booking at a time per site. */
const BOOKING_KEY = "wizard:booking";
let flowId = "";
let stopListening = (): void => {};
/** A refused change, shown beside its answer until the next change of it. */
const changeErrors = new Map<string, string>();

async function start(): Promise<void> {
  stopListening();
  changeErrors.clear();
  // The booking stored under this site's key, found by the worker in IndexedDB (a page keeps no
  // id): resumed after a reload or in another tab, shown as it ended once finished, or a new one
  // (also when its log book is gone). Two tabs that open at once get one booking.
  const { snapshot: flow } = await runner.resumeOrStart(BOOKING_KEY, "booking", [], { run: false, book: { name: `booking ${new Date().toISOString()}` } });
  flowId = flow.uuid;
  $<HTMLSelectElement>("books").value = "";
  // Its events, from this tab's runner; and from other tabs' workers (without a SharedWorker),
  // each sent once its transition is stored, so the snapshot read on hearing it has it.
  const unsubscribe = await runner.subscribe({ flow: () => void render(), atom: () => void render() }, { flow: flowId });
  const stopObserving = observeTransitions(flowId, (t) => {
    void render();
    if (t.type === "flow" && t.state === "RUNNING") takeOverWhenFreed(t.flowUuid);
  }, { scope: CHANNEL_SCOPE });
  stopListening = () => (void unsubscribe(), stopObserving());
  await step(() => runner.run(flowId));
  takeOverWhenFreed(flowId);
}

let watching: Promise<void> | undefined;
let again = false;
/**
 * With a Worker per tab: when the flow runs in another tab's worker, waits for the flow's lock
 * (the engine's Web Lock, `taskflow:flow:<id>`); once that tab lets go of it, a flow stored as
 * still running was left by a tab that closed or crashed mid-step: this tab's worker resumes it
 * at once, instead of at the next answer or reload. A tab that stopped normally left it stopped
 * (waiting for an answer, done): nothing runs then. A SharedWorker outlives its tabs: nothing to do.
 */
function takeOverWhenFreed(id: string): void {
  if (shared) return;
  if (watching) {
    again = true; // a run that began meanwhile is watched next
    return;
  }
  watching = (async () => {
    do {
      again = false;
      const lease = await books.locks.acquire(`taskflow:flow:${id}`);
      await lease.release();
      const flow = await readSnapshot(books, id);
      if (id === flowId && (flow.state === "RUNNING" || flow.state === "SUSPENDING" || flow.state === "RESUMING")) await step(() => runner.run(id));
    } while (again && id === flowId);
  })().catch(() => undefined).finally(() => (watching = undefined));
}

/** Sends a call to the runner, then shows where the flow is; a refused answer is shown, not thrown. */
async function step(action: () => Promise<unknown>, showError = (text: string) => void ($("error").textContent = text)): Promise<void> {
  $("error").textContent = "";
  try {
    await action();
  } catch (e) {
    if (!(e instanceof Cancelled)) showError(messageOf(e as Error));
  }
  await render();
}

/** What to tell the person: the schema's own sentence for a refused answer, the message otherwise. */
function messageOf(error: Error): string {
  const refused = /refused: (.*)$/s.exec(error.message);
  return refused?.[1] ?? error.message;
}

let renders = 0;

/** Shows where the flow is, as stored. Renders overlap (events come during a run): only the latest writes. */
async function render(): Promise<void> {
  const mine = ++renders;
  const flow = await runner.snapshot(flowId);
  const showBooks = await booksList(flow);
  if (mine !== renders) return;
  const next = flow.waitingFor[0];
  const done = flow.atoms.filter((a) => a.state === "SUCCESS").length;
  const ended = isFinalFlowState(flow.state);
  // Why a flow stopped belongs to a stopped flow only: a running one shows RUNNING, nothing more.
  $("state").textContent = flow.state + (flow.state === "SUSPENDED" && flow.suspendedReason ? ` (${flow.suspendedReason})` : "");
  $<HTMLProgressElement>("progress").value = done / flow.atoms.length;
  $("progress-text").textContent = `${done}/${flow.atoms.length}`;
  $("step").textContent = next ? `${next.description ?? next.name}:` : flow.state === "SUCCESS" ? "Booked." : ended ? "Cancelled." : "—";
  $("step").dataset.input = next?.name ?? "";
  showQuestion(next?.name);
  const running = flow.atoms.filter((a) => a.state === "RUNNING" || a.state === "REVERTING").map((a) => a.name);
  $("working").textContent = !next && !ended && running.length > 0 ? `Working on it: ${running.join(", ")}…` : "";
  const paid = flow.atoms.some((a) => a.name === "pay" && a.state === "SUCCESS");
  const cancel = $<HTMLButtonElement>("cancel");
  cancel.disabled = ended || paid;
  cancel.title = paid ? "The booking is paid: it can no longer be cancelled here." : ended ? "This booking has ended." : "";
  showOffline(flow);
  const values = valuesOf(flow.atoms);
  $("results").textContent = JSON.stringify(values, null, 2);
  showAnswers(flow, values, ended);
  $("log").replaceChildren(...logLines(flow.atoms, flow.flowDetail.createdAt));
  showBooks();
}

/** The question asked now: a text box, or the choices of an enumerated answer; nothing once no question is asked. */
function showQuestion(name: string | undefined): void {
  const form = $<HTMLFormElement>("step-form");
  if (form.dataset.asked === (name ?? "")) return; // the same question: keep what is typed or chosen
  form.dataset.asked = name ?? "";
  const choices = name ? CHOICES[name] : undefined;
  // No question (a step runs, or it is booked): no box, no choice, no button left to press.
  $("answer").hidden = !name || choices !== undefined;
  $("next").hidden = !name;
  $("choices").replaceChildren(
    ...(choices ?? []).map((c, i) =>
      el("label", {}, el("input", { type: "radio", name: "choice", value: c.value, id: `choice-${c.value}`, checked: choices?.length === 1 || i === 0 }), ` ${c.label} `),
    ),
  );
  $<HTMLButtonElement>("next").textContent = name === "confirm" ? "Confirm and pay" : "Next";
}

/** Offline, the page says what still works and what waits for the network. */
function showOffline(flow: FlowSnapshot): void {
  const offline = !navigator.onLine || flow.suspendedReason === "offline";
  $("offline").textContent = offline
    ? "You are offline. Your answers are kept in this browser and the steps that need no network go on; paying waits for the network and goes on by itself once you are back online (you may close this page meanwhile)."
    : "";
}

/** What the flow's steps provided so far, by name (what `engine.storage.fetchAll()` gives in the worker). */
function valuesOf(atoms: readonly AtomSnapshot[]): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  for (const a of atoms) if (a.state === "SUCCESS") for (const name of provides.get(a.name) ?? []) values[name] = a.result;
  return values;
}

/** The answers given, each with a Change button (none once the booking has ended); a refused change says why beside it. */
function showAnswers(flow: FlowSnapshot, values: Record<string, unknown>, ended: boolean): void {
  if (ended) changeErrors.clear(); // nothing can be changed any more: neither a draft nor its error stays
  const given = ANSWERS.filter((n) => flow.atoms.some((a) => a.name === `wait:${n}` && a.state === "SUCCESS"));
  const rows = given.map((name) => {
    const old = document.getElementById(`change-${name}`) as HTMLInputElement | HTMLSelectElement | null;
    // A change being typed survives the re-renders that events bring.
    const value = !ended && old && old.value !== old.dataset.stored ? old.value : String(values[name]);
    const choices = CHOICES[name];
    const input = choices
      ? el("select", { id: `change-${name}` }, ...choices.map((c) => el("option", { value: c.value, textContent: c.label, selected: c.value === value })))
      : el("input", { id: `change-${name}`, value });
    input.dataset.stored = String(values[name]);
    const button = el("button", { textContent: "Change", type: "button", id: `revise-${name}`, disabled: ended });
    const error = el("span", { id: `change-error-${name}`, className: "error", textContent: changeErrors.get(name) ?? "" });
    button.onclick = () => {
      changeErrors.delete(name);
      void step(() => runner.revise(flowId, name, input.value), (text) => void changeErrors.set(name, text));
    };
    return el("div", { className: "answer" }, el("label", { htmlFor: input.id }, `${name}: `), input, " ", button, " ", error);
  });
  $("answers").replaceChildren(...rows);
}

/** Every transition in the log book, in time order: the audit trail. */
function logLines(atoms: readonly AtomSnapshot[], start: number): HTMLElement[] {
  const lines = atoms.flatMap((a) => Object.entries(a.detail.timestamps ?? {}).map(([state, at]) => ({ at: at as number, text: `${a.name} ${state}`, state })));
  return lines.sort((a, b) => a.at - b.at).map((l) => el("li", { textContent: `+${l.at - start} ms  ${l.text}`, className: l.state }));
}

/**
 * The site's bookings (log books), newest first, and the one the viewer shows: the current
 * booking (followed as it moves) unless another is chosen. Reads them from IndexedDB; returns
 * what writes them into the page.
 */
async function booksList(current: FlowSnapshot): Promise<() => void> {
  const select = $<HTMLSelectElement>("books");
  const list = (await books.listLogBooks()).sort((a, b) => b.createdAt - a.createdAt);
  const chosen = select.value;
  let shown = current;
  if (chosen && chosen !== current.flowDetail.bookUuid) {
    const [flow] = await books.getFlowDetails(chosen).catch(() => []);
    if (flow) shown = await readSnapshot(books, flow.uuid);
  }
  return () => {
    select.replaceChildren(
      el("option", { value: "", textContent: "the current booking", selected: !chosen }),
      ...list.map((b) => el("option", { value: b.uuid, textContent: `${b.name}${b.uuid === current.flowDetail.bookUuid ? " (current)" : ""}`, selected: b.uuid === chosen })),
    );
    viewer.snapshot = shown;
  };
}

$("step-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const name = $("step").dataset.input;
  const input = $<HTMLInputElement>("answer");
  const chosen = document.querySelector<HTMLInputElement>('input[name="choice"]:checked');
  const value = CHOICES[name ?? ""] ? chosen?.value ?? "" : input.value;
  if (name) void step(() => runner.provide(flowId, name, value)).then(() => (input.value = ""));
});
$("cancel").addEventListener("click", () => void step(() => runner.cancel(flowId, "cancelled by the user")));
$("restart").addEventListener("click", () => {
  // The key lets go of the current booking (kept in its log book), so the next call starts one.
  void books.deleteKey(BOOKING_KEY).then(() => start());
});
$("books").addEventListener("change", () => void render());
// Back online: a run that waits for the network goes on (the worker tells its engines); a flow
// that stopped meanwhile is run again. Offline: the page says so at once. Both are told to the
// workers too (see booking.worker.ts).
const network = new BroadcastChannel(NETWORK_CHANNEL);
addEventListener("online", () => {
  network.postMessage("online");
  void step(() => runner.run(flowId));
});
addEventListener("offline", () => {
  network.postMessage("offline");
  void render();
});
if (!navigator.onLine) network.postMessage("offline");

/** For the tests and the curious: what the steps did, as the worker counted it. */
(globalThis as unknown as { ledger: { read: typeof read } }).ledger = { read };

await start();
document.body.dataset.ready = "true";
