// The flow of the Web Worker benchmark, built the same way in the page and in the worker.
import { linearFlow, task } from "taskflow-ts";

export const benchFlows = {
  /** `n` no-op tasks, one after another (one commit each on IndexedDB). */
  linear: (n: number) => linearFlow("linear", Array.from({ length: n }, (_, i) => task({ name: `t${i}`, execute: () => 1 }))),
};
