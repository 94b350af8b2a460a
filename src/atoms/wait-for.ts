import { waitAction, type WaitAction } from "../engine/actions/wait.js";
import { Atom, type AtomOptions, type ProvidesSpec } from "./atom.js";
import type { Needs, OpenBy, ProvidedBy, ResultNamed } from "../typing.js";
import { duration, type Duration } from "../duration.js";

/**
 * The part of the Standard Schema interface (which zod, zod/mini, valibot and arktype
 * implement) that a wait needs: validate a value, and say what is wrong. Any of those libraries'
 * schemas fits; so does a hand-written one.
 * @example
 * const even: InputSchema<number> = { "~standard": { validate: (v) =>
 *   typeof v === "number" && v % 2 === 0 ? { value: v } : { issues: [{ message: "expected an even number" }] } } };
 */
export interface InputSchema<T = unknown> {
  readonly "~standard": {
    readonly validate: (value: unknown) =>
      | { readonly value: T; readonly issues?: undefined }
      | { readonly issues: ReadonlyArray<{ readonly message: string; readonly path?: ReadonlyArray<PropertyKey | { key: PropertyKey }> }> }
      | Promise<{ readonly value: T; readonly issues?: undefined } | { readonly issues: ReadonlyArray<{ readonly message: string; readonly path?: ReadonlyArray<PropertyKey | { key: PropertyKey }> }> }>;
  };
  readonly description?: string;
}

/**
 * Options of {@link waitFor}.
 * @example waitFor("code", { description: "the 6-digit code we emailed", timeoutMs: 10 * 60_000, provides: "verificationCode" })
 */
export interface WaitForOptions<T, P extends ProvidesSpec | undefined = ProvidesSpec | undefined> extends Omit<AtomOptions<Record<string, never>>, "requires" | "optional" | "rebind" | "inject" | "provides"> {
  /** Where the value is provided: under the input's name by default. */
  provides?: P;
  /** Checks a provided value; a value it refuses is rejected and nothing changes. */
  schema?: InputSchema<T>;
  /** Shown to a host asking what the flow waits for (defaults to the schema's description). */
  description?: string;
  /** Fails the wait (so its flow's retry or revert applies) when no value came in time. */
  timeoutMs?: Duration;
}

/**
 * An atom that waits for a person (or any outside party) to provide a value. When the engine
 * reaches it without the value, it stores that the flow waits (the name, the description, the
 * deadline) and ends the run SUSPENDED; `provide(engine, name, value)` validates the value, stores
 * it in the log book and goes on. A value provided early is kept until the wait starts.
 * Provides the value under `name` unless `provides` says otherwise; its type is the schema's
 * output (`unknown` without a schema), so a flow holding the wait types it.
 *
 * @example linearFlow("signup", waitFor("email", { schema: z.email() }), sendCode, waitFor("code"), verify)
 */
export class WaitFor<T = unknown, Provides extends object = {}, Results extends object = {}, N extends Needs = Needs> extends Atom<Record<string, never>, Provides, Results, N> {
  readonly kind = "task" as const;
  readonly action: WaitAction = waitAction;
  declare readonly schema: InputSchema<T> | undefined;
  declare readonly description: string | undefined;
  declare readonly timeoutMs: number | undefined;

  constructor(
    /** The input's name: what `provide` and `revise` are called with. */
    readonly input: string,
    options: WaitForOptions<T> = {},
  ) {
    const { schema, description, timeoutMs, ...rest } = options;
    super({ name: `wait:${input}`, provides: input, ...rest });
    this.schema = schema;
    this.timeoutMs = duration(`wait "${this.name}"`, "timeoutMs", timeoutMs);
    this.description = description ?? schema?.description;
  }
}

/**
 * A {@link WaitFor}, typed: it provides the schema's output under the input's name (or `provides`),
 * and its atom `wait:<input>` has that value as its result.
 * @example waitFor("address", { schema: addressSchema, timeoutMs: 15 * 60_000 }) // provides { address: the schema's output }
 */
export function waitFor<T = unknown, const N extends string = string, const P extends ProvidesSpec | undefined = undefined>(
  input: N,
  options: WaitForOptions<T, P> = {},
): WaitFor<T, [P] extends [undefined] ? ResultNamed<N, T> : ProvidedBy<P, T>, ResultNamed<`wait:${N}`, T>, Needs<never, [P] extends [undefined] ? (string extends N ? boolean : false) : OpenBy<P>>> {
  return new WaitFor(input, options);
}
