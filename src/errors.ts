/**
 * The error tree of taskflow-ts, in TaskFlow's vocabulary.
 *
 * Every class has a stable `name` (set on the prototype, so it survives minifiers) and a
 * `code`, so that an error rebuilt from a stored `Failure` or received from another thread
 * is recognised by name, and `instanceof` works once it is rebuilt by {@link Failure.toError}.
 *
 * @example
 * try { await run(flow) } catch (e) { if (e instanceof MissingDependencies) console.log(e.message) }
 */
export class TaskFlowError extends Error {
  /** A stable machine-readable code, equal to the class name. */
  get code(): string {
    return this.name;
  }
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
  static {
    this.prototype.name = "TaskFlowError";
  }
}

/** A log book could not be read or written (the backend failed, or a record is not ours). */
export class StorageFailure extends TaskFlowError {
  static {
    this.prototype.name = "StorageFailure";
  }
}
/** A conductor failed to run a job. */
export class ConductorFailure extends TaskFlowError {
  static {
    this.prototype.name = "ConductorFailure";
  }
}
/** A job operation failed (for example it was not owned by the caller). */
export class JobFailure extends TaskFlowError {
  static {
    this.prototype.name = "JobFailure";
  }
}
/** A job is already claimed by someone else. */
export class UnclaimableJob extends JobFailure {
  static {
    this.prototype.name = "UnclaimableJob";
  }
}
/** Running something failed in a way the engine could not resolve. */
export class ExecutionFailure extends TaskFlowError {
  static {
    this.prototype.name = "ExecutionFailure";
  }
}
/** A request did not complete in time. */
export class RequestTimeout extends ExecutionFailure {
  static {
    this.prototype.name = "RequestTimeout";
  }
}
/** The flow was cancelled (`engine.cancel()`): what ran was reverted. `cause` holds the reason given. */
export class Cancelled extends ExecutionFailure {
  static {
    this.prototype.name = "Cancelled";
  }
}
/** A state transition that TaskFlow's tables do not allow. */
export class InvalidState extends ExecutionFailure {
  static {
    this.prototype.name = "InvalidState";
  }
}
/** The flow's dependencies cannot be satisfied (a cycle, for example). */
export class DependencyFailure extends TaskFlowError {
  static {
    this.prototype.name = "DependencyFailure";
  }
}
/** Two atoms of one graph flow provide the same name. */
export class AmbiguousDependency extends DependencyFailure {
  static {
    this.prototype.name = "AmbiguousDependency";
  }
}
/** Some atom requires a name that nothing provides and the store does not hold. */
export class MissingDependencies extends DependencyFailure {
  /** `{ atom, symbol }` for each unsatisfied requirement. */
  readonly missing: ReadonlyArray<{ atom: string; symbol: string }>;
  constructor(message: string, missing: ReadonlyArray<{ atom: string; symbol: string }> = [], options?: { cause?: unknown }) {
    super(message, options);
    this.missing = missing;
  }
  static {
    this.prototype.name = "MissingDependencies";
  }
}
/** A flow could not be compiled into an execution graph. */
export class CompilationFailure extends TaskFlowError {
  static {
    this.prototype.name = "CompilationFailure";
  }
}
/** A stored flow was run by a definition that has changed incompatibly since. */
export class IncompatibleVersion extends TaskFlowError {
  /** One line per difference between the stored and the current definition. */
  readonly differences: readonly string[];
  constructor(message: string, differences: readonly string[] = [], options?: { cause?: unknown }) {
    super(message, options);
    this.differences = differences;
  }
  static {
    this.prototype.name = "IncompatibleVersion";
  }
}
/** Two things share a name that must be unique. */
export class Duplicate extends TaskFlowError {
  static {
    this.prototype.name = "Duplicate";
  }
}
/** Something looked up by name or id does not exist. */
export class NotFound extends TaskFlowError {
  static {
    this.prototype.name = "NotFound";
  }
}
/** Something that must not be empty is. */
export class Empty extends TaskFlowError {
  static {
    this.prototype.name = "Empty";
  }
}
/** Several things matched where one was expected. */
export class MultipleChoices extends TaskFlowError {
  static {
    this.prototype.name = "MultipleChoices";
  }
}
/** Data does not have the expected shape (a corrupted or foreign record, a bad value). */
export class InvalidFormat extends TaskFlowError {
  static {
    this.prototype.name = "InvalidFormat";
  }
}
/** An operation is not allowed in the current situation. */
export class DisallowedAccess extends TaskFlowError {
  static {
    this.prototype.name = "DisallowedAccess";
  }
}
