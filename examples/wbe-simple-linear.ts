// TaskFlow's wbe_simple_linear, ported: a linear flow of two tasks that exist only on the
// workers, run by an engine whose executor is a WorkerPool. TaskFlow starts two workers in
// threads on an in-memory message exchange; here each worker is `serveTasks` on one end of a
// MessageChannel, which is what a Web Worker gives a page (in a browser, add `new Worker(…)`s).
// Run it: npx tsx examples/wbe-simple-linear.ts
import { fileURLToPath } from "node:url";
import { linearFlow, load, MemoryBackend, remoteTask } from "taskflow-ts";
import { serveTasks, WorkerPool, type TaskImplementation } from "taskflow-ts/worker";

/** The two task implementations of TaskFlow's test utilities the example uses. */
const tasks: Record<string, TaskImplementation> = {
  "one-arg-one-return": () => 1,
  "multi-arg-one-return": ({ x, y, z }) => (x as number) + (y as number) + (z as number),
};

export async function main(log: (line: string) => void = console.log): Promise<{ results: Record<string, unknown>; ranOn: Record<string, string | undefined> }> {
  const pool = new WorkerPool();
  try {
    for (const name of ["worker-1", "worker-2"]) {
      const { port1, port2 } = new MessageChannel();
      serveTasks(tasks, { scope: port1 });
      await pool.add(port2, { name, terminate: () => port1.close() });
    }
    log(`Running ${pool.workers().length} workers.`);
    const flow = linearFlow("simple-linear",
      remoteTask({ name: "task-1", implementation: "one-arg-one-return", requires: ["x"], provides: "result1" }),
      remoteTask({ name: "task-2", implementation: "multi-arg-one-return", requires: ["x", "y", "z"], provides: "result2" }),
    );
    const backend = new MemoryBackend();
    const engine = load(flow, { backend, executor: pool, store: { x: 111, y: 222, z: 333 } });
    log("Executing some work.");
    await engine.run();
    log("Execution finished.");
    const results = engine.storage.fetchAll();
    log(JSON.stringify(results, null, 4));
    const details = await backend.getAtomDetails(engine.flowDetailId);
    const ranOn = Object.fromEntries(details.map((d) => [d.name, d.workers?.[0]?.worker]));
    return { results, ranOn };
  } finally {
    pool.close();
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await main();
