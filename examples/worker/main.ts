// main.ts: starts a report in the worker (or picks it up after a reload), shows its progress,
// and asks for a title when the flow waits for one.
import { connectRunner } from "taskflow-ts/worker";
import type { Flows } from "./flows.worker.js";

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const runner = connectRunner<Flows>(new Worker(new URL("./flows.worker.js", import.meta.url), { type: "module" }));

const saved = localStorage.getItem("report");
const flow = (saved && (await runner.snapshot(saved).catch(() => undefined))) || (await runner.start("report", [2026], { run: false }));
localStorage.setItem("report", flow.uuid); // stored before it runs: a reload finds it
await runner.subscribe({ progress: (e) => ($<HTMLProgressElement>("bar").value = e.progress) }, { flow: flow.uuid });

let now = await runner.run(flow.uuid); // resolves when it ends, or waits for input
while (now.state === "SUSPENDED") {
  $("step").textContent = now.waitingFor[0]?.description ?? "";
  document.body.dataset.ready = "true";
  const title = await new Promise<string>((resolve) => {
    $<HTMLFormElement>("form").onsubmit = (e) => (e.preventDefault(), resolve($<HTMLInputElement>("title").value));
  });
  await runner.provide(flow.uuid, "title", title);
  now = await runner.run(flow.uuid);
}
$("step").textContent = String(now.atoms.find((a) => a.name === "publish")?.result);
document.body.dataset.ready = "true";
