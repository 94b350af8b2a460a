// bands.ts: the Mandelbrot image as a flow of row bands (TaskFlow's wbe_mandelbrot). Each band
// is a task the workers serve as "band"; the page draws each band's pixels as its result arrives.
import { linearFlow, remoteTask, task, Times, unorderedFlow, type Flow } from "taskflow-ts";

/** The image every page and benchmark computes: its size, how many bands, how many iterations. */
export const IMAGE = { width: 600, height: 400, bands: 20, maxIter: 600 } as const;

/** What one band's task takes: its first row and how many rows, of the whole image. */
export interface BandArgs {
  top: number;
  rows: number;
  width: number;
  height: number;
  maxIter: number;
}

/** The RGBA pixels of rows top…top+rows−1: escape time of each point, coloured. */
export function computeBand({ top, rows, width, height, maxIter }: BandArgs): Uint8ClampedArray {
  const pixels = new Uint8ClampedArray(width * rows * 4);
  const scale = 3 / width;
  for (let y = 0; y < rows; y++) {
    const ci = (top + y - height / 2) * scale;
    for (let x = 0; x < width; x++) {
      const cr = (x - width * 0.65) * scale;
      let zr = 0, zi = 0, n = 0;
      while (n < maxIter && zr * zr + zi * zi <= 4) {
        const t = zr * zr - zi * zi + cr;
        zi = 2 * zr * zi + ci;
        zr = t;
        n++;
      }
      const at = (y * width + x) * 4;
      const shade = n === maxIter ? 0 : Math.sqrt(n / maxIter);
      pixels[at] = 255 * shade;
      pixels[at + 1] = 180 * shade * shade;
      pixels[at + 2] = 90 + 165 * shade;
      pixels[at + 3] = 255;
    }
  }
  return pixels;
}

/** The atom names of the bands, top to bottom. */
export const bandNames = (bands: number = IMAGE.bands): string[] => Array.from({ length: bands }, (_, i) => `band-${i}`);

/**
 * The flow: one task a band, run in any order, each retried up to 3 times on its own (a worker
 * lost while the pool shrinks costs that band one attempt). `remote`: the tasks run on the
 * engine's executor (a WorkerPool); otherwise here, in this thread (the benchmark's baseline).
 */
export function mandelbrotFlow(image: { width: number; height: number; bands: number; maxIter: number } = IMAGE, remote = true): Flow {
  const rows = Math.ceil(image.height / image.bands);
  return unorderedFlow("mandelbrot", ...bandNames(image.bands).map((name, i) => {
    const inject = { top: i * rows, rows: Math.min(rows, image.height - i * rows), width: image.width, height: image.height, maxIter: image.maxIter };
    const spec = { name, requires: ["top", "rows", "width", "height", "maxIter"] as const, inject, provides: name };
    const band = remote ? remoteTask({ ...spec, implementation: "band" }) : task({ ...spec, execute: (args: BandArgs) => computeBand(args) });
    return linearFlow(`rows-${i}`, { retry: new Times(3) }, band);
  }));
}
