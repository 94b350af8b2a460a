import { InvalidState } from "../errors.js";
import { Task, type TaskOptions } from "./task.js";

/**
 * A task declared by name only, for flows whose tasks exist only on the workers (TaskFlow's
 * worker-based engine names a task class by its path).
 * @example remoteTask({ name: "resize", implementation: "images.resize", requires: ["image"], provides: "thumb" })
 */
export interface RemoteTaskSpec<Args extends object = Record<string, unknown>> extends TaskOptions<Args> {
  name: string;
  /** The name the workers register the implementation under; the atom's name by default. */
  implementation?: string;
}

class RemoteTask<Args extends object, Result> extends Task<Args, Result> {
  declare readonly implementation: string;
  constructor(spec: RemoteTaskSpec<Args>) {
    super(spec);
    Object.defineProperty(this, "implementation", { value: spec.implementation ?? spec.name, enumerable: true });
  }
  execute(): never {
    throw new InvalidState(`task "${this.name}" is declared by name only ("${this.implementation}"): give the engine an executor whose workers register "${this.implementation}" (load(flow, { executor }))`);
  }
}

/**
 * A task whose execute and revert exist only on the workers of the engine's `executor`: it has
 * its requirements and what it provides, not its code. Run without an executor it fails with
 * `InvalidState`, saying so.
 * @example
 * const flow = linearFlow("pipeline", remoteTask({ name: "add", requires: ["x", "y"], provides: "sum" }));
 * await load(flow, { executor: pool, store: { x: 1, y: 2 } }).run();
 */
export function remoteTask<Args extends object = Record<string, unknown>, Result = unknown>(spec: RemoteTaskSpec<Args>): Task<Args, Result> {
  return new RemoteTask<Args, Result>(spec);
}
