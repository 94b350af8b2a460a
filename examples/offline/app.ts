// app.ts: an offline-first queue of form submissions. A submission is posted as a job on an
// IndexedDB job board shared by every tab of the site, whether the network is there or not.
// Each tab runs a conductor that claims jobs only while the browser is online; when the network
// comes back, whichever tabs hold claims drain the queue, each job once. Every tab shows every
// job's state and progress: the board's state from IndexedDB, the running job's progress from the
// tab that runs it, over a BroadcastChannel.
//
// ?db=<name> picks the databases (tests open each run on new ones); ?tab=<name> names the tab's
// conductor (a random name otherwise).
import { IndexedDbBackend, IndexedDbJobBoard } from "taskflow-ts/idb";
import { NonBlockingConductor, type Job } from "taskflow-ts/jobs";
import { offlineFlows, type Submission } from "./flows.js";

const params = new URLSearchParams(location.search);
const db = params.get("db") ?? "offline-uploads";
const tab = params.get("tab") ?? `tab-${crypto.randomUUID().slice(0, 8)}`;

const board = await IndexedDbJobBoard.open(db);
const backend = await IndexedDbBackend.open(`${db}-books`);
/** Every execution of a task in this tab: the test adds up those of all tabs. */
const executed: Array<{ task: string; key: string }> = [];
const conductor = new NonBlockingConductor({
  name: tab, board, backend, flows: offlineFlows((task, key) => executed.push({ task, key })),
  maxJobs: 2, leaseMs: 15_000,
  onEngine: (engine, job) => {
    const parts = new Map<string, number>();
    engine.on("progress", (e) => {
      parts.set(e.name, e.progress);
      tell({ type: "progress", job: job.uuid, progress: ([...parts.values()].reduce((a, b) => a + b, 0)) / 2 });
    });
  },
});

// What the tabs tell each other: a job's progress, or "the board changed: read it again".
type News = { type: "progress"; job: string; progress: number } | { type: "changed" };
const news = new BroadcastChannel(`taskflow-ts/examples/offline/${db}`);
const progress = new Map<string, number>();
function tell(message: News): void {
  news.postMessage(message);
  hear(message); // a channel does not hear its own messages
}
function hear(message: News): void {
  if (message.type === "progress") progress.set(message.job, message.progress);
  void render();
}
news.onmessage = (e: MessageEvent<News>) => hear(e.data);
for (const type of ["claimed", "consumed", "abandoned", "trashed", "lost"] as const) conductor.on(type, () => tell({ type: "changed" }));

// The conductor claims only while the browser is online: one change at a time, in order.
let turn = Promise.resolve();
function follow(): void {
  turn = turn.then(async () => {
    if (navigator.onLine && !conductor.dispatching) void conductor.run();
    if (!navigator.onLine) await conductor.stop(); // running flows suspend; their jobs go back on the board
    document.body.dataset.network = navigator.onLine ? "online" : "offline";
    document.body.dataset.conductor = conductor.dispatching ? "claiming" : "stopped";
    void render();
  });
}
addEventListener("online", follow);
addEventListener("offline", follow);

// The page: a form, and the queue.
function el<K extends keyof HTMLElementTagNameMap>(tag: K, props: Partial<HTMLElementTagNameMap[K]> = {}, ...children: Node[]): HTMLElementTagNameMap[K] {
  const node = Object.assign(document.createElement(tag), props);
  node.append(...children);
  return node;
}
const nameInput = el("input", { id: "name", placeholder: "Your name", autocomplete: "off" });
const messageInput = el("input", { id: "message", placeholder: "Message", autocomplete: "off" });
const form = el("form", { id: "form" }, nameInput, messageInput, el("button", { id: "send", type: "submit", textContent: "Send" }));
const status = el("p", { id: "status" });
const list = el("ol", { id: "jobs" });
document.body.append(el("h1", { textContent: "Submissions, queued offline" }), status, form, list);

form.onsubmit = (e) => {
  e.preventDefault();
  const submission: Submission = { name: nameInput.value, message: messageInput.value };
  form.reset();
  void post(submission);
};

async function post(submission: Submission): Promise<Job> {
  const job = await board.post({ flow: "submit", name: submission.name || "(no name)", store: { submission } });
  tell({ type: "changed" });
  return job;
}

let rendering: Promise<void> | undefined;
let again = false;
/** Draws the queue as the board has it; calls made while it draws make one more draw. */
async function render(): Promise<void> {
  if (rendering) {
    again = true;
    return rendering;
  }
  rendering = (async () => {
    do {
      again = false;
      const jobs = await listJobs();
      list.replaceChildren(...jobs.map((job) => {
        const done = job.state === "COMPLETE" ? 1 : (progress.get(job.uuid) ?? 0);
        return el("li", { className: job.state, textContent: `${job.name}: ${job.state}${job.owner ? ` (${job.owner})` : ""} ` },
          el("progress", { max: 1, value: done }));
      }));
      for (const [i, job] of jobs.entries()) Object.assign((list.children[i] as HTMLElement).dataset, { job: job.uuid, state: job.state });
      const waiting = jobs.filter((j) => j.state !== "COMPLETE" && j.state !== "TRASHED").length;
      status.textContent = `${navigator.onLine ? "Online" : "Offline"} · this tab: ${tab} · ${waiting} waiting, ${jobs.length - waiting} done`;
      document.body.dataset.done = String(jobs.filter((j) => j.state === "COMPLETE").length);
    } while (again);
  })().finally(() => (rendering = undefined));
  return rendering;
}

async function listJobs(): Promise<Job[]> {
  const jobs: Job[] = [];
  for await (const job of board.iterate({ only: "all" })) jobs.push(job);
  return jobs.sort((a, b) => a.createdAt - b.createdAt);
}

// For the e2e test (test/e2e/offline-example.test.ts): what it cannot read off the page.
Object.assign(globalThis, {
  offline: {
    post, executed,
    states: async () => (await listJobs()).map((j) => j.state),
    dispatching: () => conductor.dispatching,
  },
});

follow();
await turn;
document.body.dataset.ready = "true";
