// A member of the benchmark's WorkerPool: the Mandelbrot example's band (its pixels transferred)
// and a no-op task, for the overhead of one remote task.
import { serveTasks } from "taskflow-ts/worker";
import { computeBand, type BandArgs } from "../examples/mandelbrot/bands.js";

serveTasks({ band: (args) => computeBand(args as unknown as BandArgs), noop: () => undefined }, { transfer: ["band"] });
