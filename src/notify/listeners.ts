import type { Engine } from "../engine/engine.js";
import type { AtomEvent, FlowEvent, ProgressEvent } from "./notifier.js";

/**
 * TaskFlow's notation for a transition: `"name.t SUCCESS(5)"`, `"flow.f RUNNING"`.
 * @example engine.on("atom", (e) => console.log(formatEvent(e))) // "charge.t SUCCESS(paid 90)"
 */
export function formatEvent(e: FlowEvent | AtomEvent): string {
  if (e.type === "flow") return `${e.flowName}.f ${e.state}`;
  const tag = `${e.name}.${e.kind === "retry" ? "r" : "t"} ${e.state}`;
  if (e.state === "SUCCESS" || e.state === "REVERTED") return `${tag}(${show(e.result)})`;
  if (e.failure) return `${tag}(${e.failure.toString()})`;
  return tag;
}

function show(v: unknown): string {
  if (v === undefined || v === null) return "None";
  try {
    return typeof v === "string" ? v : JSON.stringify(v);
  } catch {
    return String(v);
  }
}

/**
 * Records transitions in TaskFlow's notation, for tests.
 * @example const capture = captureListener(engine); await engine.run(); capture.values // ["a.t RUNNING", …]
 */
export function captureListener(
  engine: Engine,
  options: { flow?: boolean; atoms?: boolean; skip?: readonly string[] } = {},
): { values: string[]; detach(): void } {
  const values: string[] = [];
  const skip = new Set(options.skip ?? []);
  const offs = [
    options.flow !== false ? engine.on("flow", (e) => values.push(formatEvent(e))) : () => {},
    options.atoms !== false ? engine.on("atom", (e) => { if (!skip.has(e.name)) values.push(formatEvent(e)); }) : () => {},
  ];
  return { values, detach: () => offs.forEach((off) => off()) };
}

/**
 * Writes each transition and progress report as a line, with elapsed time.
 * @example printingListener(engine, console.log)
 */
export function printingListener(engine: Engine, write: (line: string) => void, now: () => number = () => engine.clock.now()): () => void {
  const start = now();
  const stamp = () => `+${String(now() - start).padStart(5)}ms`;
  const offs = [
    engine.on("flow", (e) => write(`${stamp()} ${formatEvent(e)}`)),
    engine.on("atom", (e) => write(`${stamp()} ${formatEvent(e)}`)),
    engine.on("progress", (e: ProgressEvent) => {
      if (e.progress > 0 && e.progress < 1) write(`${stamp()} ${e.name} progress ${Math.round(e.progress * 100)}%`);
    }),
  ];
  return () => offs.forEach((off) => off());
}

/**
 * Writes how long each execute and revert took (in seconds) into the atom's `meta.duration`,
 * in the same batch as the transition that ends it. Returns the unsubscribe function.
 * @example durationListener(engine); await engine.run(); engine.storage.detail("charge").meta.duration // seconds
 */
export function durationListener(engine: Engine, now: () => number = () => engine.clock.now()): () => void {
  const started = new Map<string, number>();
  return engine.on("atom", (e) => {
    if (e.state === "RUNNING" || e.state === "REVERTING") started.set(e.name, now());
    else if (started.has(e.name)) {
      const seconds = (now() - (started.get(e.name) as number)) / 1000;
      started.delete(e.name);
      e.annotate({ duration: seconds });
    }
  });
}
