import type { ExecNode } from "./compiler.js";

/**
 * Counts, for every node, how many of its neighbours (predecessors going forward, successors
 * going back) are not done yet, so that finding the next ready atoms costs O(edges touched) and
 * a flow of 10,000 atoms schedules as cheaply per atom as one of 100.
 *
 * A node is done once all its neighbours are done and it passes the order through: flow markers
 * always do; an atom does when its own state says it needs nothing more (going forward: it
 * succeeded; going back: it was reverted, never ran, or stays as it is). So "done" is transitive:
 * an atom that succeeded long ago does not release its successors while an atom before it is
 * being redone (a revision), and a→b(IGNORE)→c reverts c before a.
 */
export class Gates {
  readonly #count: Int32Array;
  readonly #done: Uint8Array;
  readonly #nodes: readonly ExecNode[];
  readonly #forward: boolean;
  /** Nodes in an order where every node comes after its predecessors. */
  readonly #topo: readonly number[];
  readonly #passThrough: (n: ExecNode) => boolean;

  constructor(nodes: readonly ExecNode[], direction: "forward" | "backward", topo: readonly number[], passThrough: (n: ExecNode) => boolean) {
    this.#nodes = nodes;
    this.#forward = direction === "forward";
    this.#topo = topo;
    this.#passThrough = passThrough;
    this.#count = new Int32Array(nodes.length);
    this.#done = new Uint8Array(nodes.length);
  }

  /**
   * Recomputes every count from the states; calls `onOpen` for each node whose neighbours are
   * all done (flow markers included), in dependency order.
   */
  init(onOpen: (n: ExecNode) => void): void {
    const topo = this.#topo;
    const forward = this.#forward;
    this.#done.fill(0);
    const opened: ExecNode[] = [];
    // Index loops: this runs once per run over every node, before the JIT has made it fast, and
    // a for…of there makes an iterator result per step.
    for (let k = 0; k < topo.length; k++) {
      const i = topo[forward ? k : topo.length - 1 - k] as number;
      const n = this.#nodes[i] as ExecNode;
      const neighbours = forward ? n.preds : n.succs;
      let c = 0;
      for (let m = 0; m < neighbours.length; m++) if (!this.#done[neighbours[m] as number]) c++;
      this.#count[i] = c;
      if (c !== 0) continue;
      const through = this.#passThrough(n);
      if (through) this.#done[i] = 1;
      if (!through || !n.atom) opened.push(n);
    }
    // Reported once every count is consistent, since a listener may mark more nodes done.
    for (const n of opened) onOpen(n);
  }

  isOpen(n: ExecNode): boolean {
    return this.#count[n.index] === 0;
  }

  /** Marks a node done (it just finished) and opens whatever that unblocks. */
  markDone(start: ExecNode, onOpen: (n: ExecNode) => void): void {
    if (this.#done[start.index]) return;
    this.#done[start.index] = 1;
    const stack = [start];
    while (stack.length > 0) {
      const n = stack.pop() as ExecNode;
      for (const j of this.#forward ? n.succs : n.preds) {
        const left = (this.#count[j] as number) - 1;
        this.#count[j] = left;
        if (left !== 0 || this.#done[j]) continue;
        const m = this.#nodes[j] as ExecNode;
        const through = this.#passThrough(m);
        if (through) this.#done[j] = 1;
        if (!through || !m.atom) onOpen(m);
        if (through) stack.push(m);
      }
    }
  }

}

/** Kahn's algorithm over the execution graph (compile order breaks ties). */
export function topologicalOrder(nodes: readonly ExecNode[]): number[] {
  const indegree = nodes.map((n) => n.preds.length);
  const queue = nodes.filter((n) => n.preds.length === 0).map((n) => n.index);
  const order: number[] = [];
  for (let k = 0; k < queue.length; k++) {
    const i = queue[k] as number;
    order.push(i);
    for (const j of (nodes[i] as ExecNode).succs) {
      indegree[j] = (indegree[j] as number) - 1;
      if (indegree[j] === 0) queue.push(j);
    }
  }
  return order;
}
