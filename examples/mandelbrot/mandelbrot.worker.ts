// mandelbrot.worker.ts: a member of the page's pool; serves "band", whose pixels move to the
// page (transferred, not copied).
import { serveTasks } from "taskflow-ts/worker";
import { computeBand, type BandArgs } from "./bands.js";

serveTasks({ band: (args) => computeBand(args as unknown as BandArgs) }, { transfer: ["band"] });
