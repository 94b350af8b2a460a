// The classes a stored failure is rebuilt as, by name (Failure.toError): JavaScript's built-in
// errors, ours (each names itself here as it is defined, see `named`) and users'
// (registerErrorClass). Not a public module: users register through registerErrorClass.

/**
 * A class of errors that {@link registerErrorClass} can rebuild from a stored failure: its
 * constructor takes the message first.
 * @example
 * class PaymentDeclined extends Error {}
 * const cls: ErrorClass = PaymentDeclined;
 * registerErrorClass(cls);
 */
export type ErrorClass = new (message: string, ...rest: never[]) => Error;

/** Error classes by name. */
export const errorClasses = new Map<string, ErrorClass>();
for (const cls of [Error, TypeError, RangeError, SyntaxError, ReferenceError, EvalError, URIError, AggregateError]) {
  errorClasses.set(cls.name, cls as ErrorClass);
}

/**
 * Names one of our error classes: its `name` set on the prototype (so it survives minifiers, and
 * a stored failure names its class), and the class registered under it. Called from the class's
 * static block.
 */
export function named(cls: abstract new (...a: never[]) => Error, name: string): void {
  cls.prototype.name = name;
  errorClasses.set(name, cls as unknown as ErrorClass);
}
