// TaskFlow's wbe_simple_linear example at the edge: a linear flow of two tasks whose code exists
// only on the workers, run by a FlowRunner that sends each task to another Worker over a service
// binding (TaskFlow: a worker-based engine and workers listening on a message bus).
//
// The flow's store is x = 111, y = 222, z = 333; "TaskOneArgOneReturn" takes x and returns 1,
// "TaskMultiArgOneReturn" takes x, y and z and returns their sum, so the flow ends with
// result1 = 1 and result2 = 666, as TaskFlow's example prints. Wire it up in wrangler's config:
//
//   "durable_objects": { "bindings": [{ "name": "SIMPLE_LINEAR", "class_name": "SimpleLinear" }] },
//   "services": [{ "binding": "SIMPLE_TASKS", "service": "<the tasks Worker>", "entrypoint": "SimpleLinearTasks" }]
//
// then `await env.SIMPLE_LINEAR.getByName("wbe").start("run-1", "simple-linear", [], SIMPLE_LINEAR_STORE)`.
// test/workerd/edge-executor.test.ts runs it in workerd.
import { FlowRegistry, linearFlow, remoteTask } from "taskflow-ts";
import { EdgeExecutor, FlowRunner, TaskEntrypoint, type EdgeTaskImplementation, type FlowRunnerOptions, type TaskService } from "taskflow-ts/durable-object";

/** The example's store, as TaskFlow's. */
export const SIMPLE_LINEAR_STORE = { x: 111, y: 222, z: 333 };

/** The flow: tasks by name only (`remoteTask`), each saying what it needs and what it provides. */
export const simpleLinear = () =>
  linearFlow(
    "simple-linear",
    remoteTask({ name: "one-arg", implementation: "TaskOneArgOneReturn", requires: ["x"], provides: "result1" }),
    remoteTask({ name: "multi-arg", implementation: "TaskMultiArgOneReturn", requires: ["x", "y", "z"], provides: "result2" }),
  );

/** The tasks Worker: the implementations, by the names the flow gives. */
export class SimpleLinearTasks extends TaskEntrypoint<unknown> {
  protected readonly tasks: Record<string, EdgeTaskImplementation> = {
    TaskOneArgOneReturn: () => 1,
    TaskMultiArgOneReturn: ({ x, y, z }) => (x as number) + (y as number) + (z as number),
  };
}

/** The runner: every task of its flows goes to the tasks Worker. */
export class SimpleLinear extends FlowRunner<{ SIMPLE_TASKS: TaskService }> {
  protected readonly flows = new FlowRegistry().register("simple-linear", simpleLinear);
  protected override readonly options: FlowRunnerOptions = { executor: EdgeExecutor.service(this.env.SIMPLE_TASKS, { name: "simple-tasks" }) };
}
