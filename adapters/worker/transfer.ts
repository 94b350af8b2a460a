// Errors across the Worker boundary with their class. Comlink's own "throw" handler sends an
// error's message, name and stack and rebuilds a plain `Error` (comlink issue #594:
// https://github.com/GoogleChromeLabs/comlink/issues/594), so `e instanceof Cancelled` fails in
// the page. Here the thrown value goes through the same serializer as the log book (`Failure`:
// class chain, message, stack, cause chain, `extra`) and is rebuilt by name on the other side,
// with the error's own plain-data fields (`MissingDependencies.missing`, a user's `code`…).
import { transferHandlers, type TransferHandler } from "comlink";
import { checkStorable, Failure, WrappedFailure, type FailureData } from "taskflow-ts";

/** An error as it crosses: its Failure data, and its own fields that are plain data. */
export interface ThrownWire {
  failure: FailureData;
  fields: Record<string, unknown>;
  /** A WrappedFailure's failures (they are Failures, not plain data). */
  failures?: FailureData[];
}

/** Fields every error has, carried by the Failure itself. */
const CARRIED = new Set(["message", "stack", "cause", "name", "extra"]);

/** What is sent for `thrown`: never throws, whatever was thrown. */
export function thrownToWire(thrown: unknown): ThrownWire {
  const failure = Failure.fromError(thrown);
  const wire: ThrownWire = { failure: failure.toJSON(), fields: {} };
  if (thrown instanceof WrappedFailure) wire.failures = thrown.failures.map((f) => f.toJSON());
  if (typeof thrown === "object" && thrown !== null && !(thrown instanceof WrappedFailure)) {
    try {
      for (const [key, value] of Object.entries(thrown)) {
        if (CARRIED.has(key)) continue;
        try {
          wire.fields[key] = checkStorable(value, key, key);
        } catch {
          // not plain data: left out (the Failure says what the error was)
        }
      }
    } catch {
      // a hostile object: its fields are left out
    }
  }
  return wire;
}

/** The error `wire` describes, of its original class when that class is registered here. */
export function thrownFromWire(wire: ThrownWire): Error {
  const error = Failure.fromJSON(wire.failure).toError();
  const define = (key: string, value: unknown) => Object.defineProperty(error, key, { value, writable: true, configurable: true, enumerable: true });
  for (const [key, value] of Object.entries(wire.fields)) define(key, value);
  if (wire.failures) define("failures", wire.failures.map((f) => Failure.fromJSON(f)));
  return error;
}

/** The name our handler for Failure values is registered under. */
const FAILURE_HANDLER = "taskflow-ts:failure";
let installed = false;

/**
 * Makes Comlink carry errors with their class, and `Failure` values as Failures, in this realm.
 * Both sides call it (exposeRunner and connectRunner do). Idempotent. It replaces Comlink's
 * "throw" handler in place (the same check of what was thrown, another encoding), so other
 * Comlink calls of the app keep their errors' classes too.
 * @example
 * installTransferHandlers(); // in the worker and in the page, for your own Comlink.expose / wrap
 * await remote.charge(); // rejects with a PaymentDeclined (registerErrorClass(PaymentDeclined) on both sides)
 */
export function installTransferHandlers(): void {
  if (installed) return;
  installed = true;
  const original = transferHandlers.get("throw");
  if (!original) throw new Error('comlink has no "throw" transfer handler; this version of comlink is not supported (use 4.4.x)');
  const thrown: TransferHandler<{ value: unknown }, ThrownWire> = {
    canHandle: (value): value is { value: unknown } => original.canHandle(value),
    serialize: ({ value }) => [thrownToWire(value), []],
    deserialize: (wire) => {
      throw thrownFromWire(wire);
    },
  };
  transferHandlers.set("throw", thrown as TransferHandler<unknown, unknown>);
  const failure: TransferHandler<Failure, FailureData> = {
    canHandle: (value): value is Failure => value instanceof Failure,
    serialize: (f) => [f.toJSON(), []],
    deserialize: (data) => Failure.fromJSON(data),
  };
  transferHandlers.set(FAILURE_HANDLER, failure as TransferHandler<unknown, unknown>);
}
