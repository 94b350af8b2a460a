import type { ExecNode } from "./compiler.js";

/**
 * Atoms ready to start: higher priority first, then compile order (reverse compile order when
 * reverting, so that the later of two independent atoms is undone first). A binary heap, so a
 * wide fan-out costs O(log n) per atom.
 */
export class ReadyQueue {
  #heap: ExecNode[] = [];
  readonly #reverse: boolean;

  constructor(reverse = false) {
    this.#reverse = reverse;
  }

  get size(): number {
    return this.#heap.length;
  }

  push(n: ExecNode): void {
    const h = this.#heap;
    h.push(n);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.#before(h[i] as ExecNode, h[p] as ExecNode)) break;
      [h[i], h[p]] = [h[p] as ExecNode, h[i] as ExecNode];
      i = p;
    }
  }

  pop(): ExecNode | undefined {
    const h = this.#heap;
    const top = h[0];
    const last = h.pop();
    if (h.length > 0 && last) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && this.#before(h[l] as ExecNode, h[m] as ExecNode)) m = l;
        if (r < h.length && this.#before(h[r] as ExecNode, h[m] as ExecNode)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m] as ExecNode, h[i] as ExecNode];
        i = m;
      }
    }
    return top;
  }

  #before(a: ExecNode, b: ExecNode): boolean {
    const pa = a.atom?.priority ?? 0;
    const pb = b.atom?.priority ?? 0;
    if (pa !== pb) return pa > pb;
    return this.#reverse ? a.index > b.index : a.index < b.index;
  }
}
