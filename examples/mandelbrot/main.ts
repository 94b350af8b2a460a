// main.ts: runs the Mandelbrot flow in the page, its bands on a pool of Web Workers, its log book
// in IndexedDB. Each band is drawn as it arrives; after a reload the stored bands are drawn at
// once and only the others are computed. The slider sets the pool's size, live.
import { Executor, load } from "taskflow-ts";
import { IndexedDbBackend } from "taskflow-ts/idb";
import { WorkerPool } from "taskflow-ts/worker";
import { bandNames, IMAGE, mandelbrotFlow } from "./bands.js";

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const canvas = $<HTMLCanvasElement>("image");
canvas.width = IMAGE.width;
canvas.height = IMAGE.height;
const rowsPerBand = Math.ceil(IMAGE.height / IMAGE.bands);
const draw = (name: string, pixels: Uint8ClampedArray) => {
  const band = new ImageData(new Uint8ClampedArray(pixels), IMAGE.width, pixels.length / 4 / IMAGE.width);
  canvas.getContext("2d")?.putImageData(band, 0, Number(name.slice("band-".length)) * rowsPerBand);
};

// The pool: as many workers as the slider says, up to the machine's cores.
const pool = new WorkerPool();
const size = $<HTMLInputElement>("size");
size.max = String(Math.max(2, navigator.hardwareConcurrency || 4));
const wanted = Number(new URLSearchParams(location.search).get("workers") ?? localStorage.getItem("mandelbrot-workers") ?? 2);
size.value = String(wanted);
async function resize(n: number): Promise<void> {
  $("size-out").textContent = String(n);
  localStorage.setItem("mandelbrot-workers", String(n));
  while (pool.workers().length < n) await pool.add(new Worker(new URL("./mandelbrot.worker.js", import.meta.url), { type: "module" }));
  // Shrinking drops the least busy workers first; a band one was computing runs again elsewhere (its retry).
  for (const w of pool.workers().sort((a, b) => a.running - b.running).slice(0, Math.max(0, pool.workers().length - n))) pool.lose(w.name, "the pool was made smaller");
}
size.oninput = () => void resize(Number(size.value));
$("again").onclick = () => {
  localStorage.removeItem("mandelbrot-flow");
  location.reload();
};
await resize(wanted);

// The flow: the stored one after a reload, else a new one, stored before it runs.
const backend = await IndexedDbBackend.open("mandelbrot-example");
const stored = localStorage.getItem("mandelbrot-flow");
// Which bands this page load sends to the workers (the end-to-end test reads it: after a reload, only the missing ones).
const executed: string[] = [];
const counted = Executor.from({
  execute: (request, context) => {
    if (request.action === "execute") {
      executed.push(request.atom);
      document.body.dataset.executed = executed.join(" ");
    }
    return pool.execute(request, context);
  },
});
const engine = load(mandelbrotFlow(), { backend, executor: counted, engine: "parallel", maxConcurrency: 8, ...(stored ? { flowDetailId: stored } : {}) });
await engine.prepare();
await engine.save();
localStorage.setItem("mandelbrot-flow", engine.flowDetailId);

const names = bandNames();
const storedDone = names.filter((n) => engine.storage.getAtomState(n) === "SUCCESS");
document.body.dataset.stored = storedDone.join(" ");
let done = storedDone.length;
const show = () => {
  $<HTMLProgressElement>("bar").value = done / names.length;
  $("status").textContent = `${done} of ${names.length} bands`;
  document.body.dataset.done = String(done);
};
for (const n of storedDone) draw(n, engine.storage.fetch(n) as Uint8ClampedArray);
show();
engine.on("atom", (e) => {
  if (!names.includes(e.name)) return;
  if (e.state === "SUCCESS") {
    draw(e.name, engine.storage.fetch(e.name) as Uint8ClampedArray);
    done++;
    show();
  }
});
const t0 = performance.now();
await engine.run();
$("status").textContent = `${names.length} bands, ${executed.length} computed in this page load in ${Math.round(performance.now() - t0)} ms on ${pool.workers().length} worker(s)`;
document.body.dataset.state = engine.state;
