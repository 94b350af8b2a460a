import { named } from "./error-classes.js";

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
    named(this, "TaskFlowError");
  }
}

/**
 * A log book could not be read or written (the backend failed, or a record is not ours). Running
 * the flow again reloads the log book and goes on from what was stored.
 * @example try { await engine.run() } catch (e) { if (e instanceof StorageFailure) console.warn("not saved; try again later", e.cause) }
 */
export class StorageFailure extends TaskFlowError {
  static {
    named(this, "StorageFailure");
  }
}
/**
 * A conductor was misused or could not go on (TaskFlow's name): `run()` while it runs, a bad
 * name or `maxJobs` (taskflow-ts/jobs).
 * @example if (e instanceof ConductorFailure) console.error(e.code, e.message)
 */
export class ConductorFailure extends TaskFlowError {
  static {
    named(this, "ConductorFailure");
  }
}
/**
 * A job operation failed (TaskFlow's name): the job is held by someone else than the caller, or
 * the board is closed (taskflow-ts/jobs).
 * @example if (e instanceof JobFailure) console.error(e.code, e.message) // UnclaimableJob included
 */
export class JobFailure extends TaskFlowError {
  static {
    named(this, "JobFailure");
  }
}
/**
 * A job cannot be claimed (TaskFlow's name): it is claimed already (even by the caller), complete
 * or trashed (taskflow-ts/jobs).
 * @example throw new UnclaimableJob(`job "${id}" is claimed by ${owner}; try another job`)
 */
export class UnclaimableJob extends JobFailure {
  static {
    named(this, "UnclaimableJob");
  }
}
/**
 * Running something failed in a way the engine could not resolve; the base of `RequestTimeout`,
 * `Cancelled` and `InvalidState`.
 * @example engine.storage // throws ExecutionFailure until engine.prepare() (or a run) has loaded the flow detail
 */
export class ExecutionFailure extends TaskFlowError {
  static {
    named(this, "ExecutionFailure");
  }
}
/**
 * A request did not complete in time: a task's `timeoutMs`, or a wait's `timeoutMs` with no value.
 * @example task({ name: "call", timeoutMs: "5s", execute: callApi }) // fails with RequestTimeout after 5 s
 */
export class RequestTimeout extends ExecutionFailure {
  static {
    named(this, "RequestTimeout");
  }
}
/**
 * The flow was cancelled (`engine.cancel()`): what ran was reverted. The message names the reason
 * given (it is not set as `cause`).
 * @example engine.run().catch((e) => { if (e instanceof Cancelled) showCancelled(e.message) }); await engine.cancel("user left")
 */
export class Cancelled extends ExecutionFailure {
  static {
    named(this, "Cancelled");
  }
}
/**
 * A state transition that TaskFlow's tables do not allow.
 * @example checkFlowTransition("SUCCESS", "REVERTED") // throws InvalidState
 */
export class InvalidState extends ExecutionFailure {
  static {
    named(this, "InvalidState");
  }
}
/**
 * The flow's dependencies cannot be satisfied (a cycle, for example); the change that made it is
 * discarded.
 * @example graphFlow("g", a, b).link(b, a) // throws DependencyFailure when b already runs after a (it requires what a provides)
 */
export class DependencyFailure extends TaskFlowError {
  static {
    named(this, "DependencyFailure");
  }
}
/**
 * An atom of a graph flow requires a name that two others of it provide, so its order is unclear.
 * @example graphFlow("g", a, b, c) // throws AmbiguousDependency when a and b provide "x" and c requires it
 */
export class AmbiguousDependency extends DependencyFailure {
  static {
    named(this, "AmbiguousDependency");
  }
}
/**
 * Some atom requires a name that nothing provides and the store does not hold.
 * @example if (e instanceof MissingDependencies) for (const { atom, symbol } of e.missing) console.log(`${atom} needs ${symbol}`)
 */
export class MissingDependencies extends DependencyFailure {
  /** `{ atom, symbol }` for each unsatisfied requirement. */
  declare readonly missing: ReadonlyArray<{ atom: string; symbol: string }>;
  constructor(message: string, missing: ReadonlyArray<{ atom: string; symbol: string }> = [], options?: { cause?: unknown }) {
    super(message, options);
    this.missing = missing;
  }
  static {
    named(this, "MissingDependencies");
  }
}
/**
 * A flow or an atom is built wrongly (a misplaced retry, a bad version, rebind or backoff, a
 * duration that is not a finite number ≥ 0).
 * @example new Times(-1) // throws CompilationFailure: attempts must be a whole number ≥ 0
 */
export class CompilationFailure extends TaskFlowError {
  static {
    named(this, "CompilationFailure");
  }
}
/**
 * A stored flow was run by a definition that has changed incompatibly since (an atom removed or
 * renamed, its kind, requires or provides changed, a major version bumped; the flow renamed, a
 * flow's kind, items, order or links changed); `engine.prepare()` and `engine.run()` throw it before anything runs.
 * @example if (e instanceof IncompatibleVersion) console.log(e.differences.join("\n"))
 */
export class IncompatibleVersion extends TaskFlowError {
  /** One line per difference between the stored and the current definition. */
  declare readonly differences: readonly string[];
  constructor(message: string, differences: readonly string[] = [], options?: { cause?: unknown }) {
    super(message, options);
    this.differences = differences;
  }
  static {
    named(this, "IncompatibleVersion");
  }
}
/**
 * Two things share a name that must be unique (atoms of a flow, flow factories), or one item is
 * added twice.
 * @example linearFlow("f", a, a) // throws Duplicate: "a" was already added to it
 */
export class Duplicate extends TaskFlowError {
  static {
    named(this, "Duplicate");
  }
}
/**
 * Something looked up by name or id does not exist (a log book, a flow factory, a wait's input).
 * @example new FlowRegistry().get("checkout") // throws NotFound: no flow factory named "checkout"
 */
export class NotFound extends TaskFlowError {
  static {
    named(this, "NotFound");
  }
}
/**
 * Several things matched where one was expected (TaskFlow's name): a conductor finds several flow
 * details in a job's log book and the job does not say which to run.
 * @example if (found.length > 1) throw new MultipleChoices(`${found.length} carts are open; pass a cart id`)
 */
export class MultipleChoices extends TaskFlowError {
  static {
    named(this, "MultipleChoices");
  }
}
/**
 * Data does not have the expected shape (a corrupted or foreign record, a value a wait's schema
 * refuses, a result the log book cannot store, an argument of the wrong kind from plain JavaScript).
 * @example await provide(engine, "email", 42) // throws InvalidFormat when the wait's schema refuses it; nothing changes
 */
export class InvalidFormat extends TaskFlowError {
  static {
    named(this, "InvalidFormat");
  }
}
/**
 * An operation is not allowed in the current situation.
 * @example await provide(engine, "email", "b@example.org") // throws DisallowedAccess once the wait took its value: use revise
 */
export class DisallowedAccess extends TaskFlowError {
  static {
    named(this, "DisallowedAccess");
  }
}
/**
 * Another runner holds the flow (its lock), and the run was asked not to wait for it
 * (`waitForLock: false`). Nothing was written.
 * @example try { await engine.run() } catch (e) { if (e instanceof LockHeld) showBanner("this order is being processed in another tab") }
 */
export class LockHeld extends TaskFlowError {
  static {
    named(this, "LockHeld");
  }
}
/**
 * This runner lost its flow to another one (its lease was broken or stolen, or it was frozen
 * while another took over): its write was refused by the backend in the same transaction, so
 * nothing of it is stored, and it executes nothing more. The other runner goes on with the flow.
 * @example try { await engine.run() } catch (e) { if (e instanceof LockLost) console.info("another tab took this flow over") }
 */
export class LockLost extends TaskFlowError {
  static {
    named(this, "LockLost");
  }
}
