// Type tests of taskflow-ts/worker's client: checked by `npm test` (tsc -p tsconfig.test.json), never run.
import { expectTypeOf } from "vitest";
import type { Failure, FlowSnapshot } from "../../src/index.js";
import { connectRunner, type FlowLog, type ResumedOrStarted, type RunnerStats } from "../../adapters/worker/index.js";
import type { Flows } from "../fixtures/worker-flows.js";

declare const worker: Worker;
const runner = connectRunner<Flows>(worker);

// Flow names and each factory's arguments come from the worker's flows.
expectTypeOf(runner.start("greet", ["ada"])).toEqualTypeOf<Promise<FlowSnapshot>>();
void runner.start("signup"); // a factory without arguments needs none
void runner.start("signup", [], { store: { email: "a@b.c" }, run: false });
void runner.start("linear", [1000]);
// @ts-expect-error "greet" takes a string
void runner.start("greet", [42]);
// @ts-expect-error "greet" needs its argument
void runner.start("greet");
// @ts-expect-error no flow of that name
void runner.start("nope", []);

// resumeOrStart: a key, then the flow's name and arguments as for start, and what to do with a
// finished flow or a key whose flow is gone.
expectTypeOf(runner.resumeOrStart("greet:ada", "greet", ["ada"])).toEqualTypeOf<Promise<ResumedOrStarted>>();
void runner.resumeOrStart("signup:ada", "signup");
void runner.resumeOrStart("signup:ada", "signup", [], { ifFinished: "start", ifMissing: "throw", run: false, store: { email: "a@b.c" } });
expectTypeOf<ResumedOrStarted["outcome"]>().toEqualTypeOf<"started" | "resumed" | "finished">();
// @ts-expect-error "greet" needs its argument
void runner.resumeOrStart("greet:ada", "greet");
// @ts-expect-error no flow of that name
void runner.resumeOrStart("k", "nope");
// @ts-expect-error ifFinished is "return" or "start"
void runner.resumeOrStart("k", "signup", [], { ifFinished: "restart" });

expectTypeOf(runner.run("id")).toEqualTypeOf<Promise<FlowSnapshot>>();
expectTypeOf(runner.logBook("id")).toEqualTypeOf<Promise<FlowLog>>();
expectTypeOf(runner.stats()).toEqualTypeOf<Promise<RunnerStats>>();

// Events are typed by their kind; an atom's failure is a Failure again, and there is no annotate.
void runner.subscribe({
  atom: (e) => {
    expectTypeOf(e.failure).toEqualTypeOf<Failure | undefined>();
    expectTypeOf(e.state).toEqualTypeOf<FlowSnapshot["atoms"][number]["state"]>();
    // @ts-expect-error only a listener in the worker can annotate
    e.annotate({});
  },
  progress: (e) => expectTypeOf(e.progress).toEqualTypeOf<number>(),
  flow: (e) => expectTypeOf(e.flowUuid).toEqualTypeOf<string>(),
});
expectTypeOf(runner.subscribe({}, { flow: "id" })).toEqualTypeOf<Promise<() => Promise<void>>>();

// Untyped (a FlowRegistry in the worker): any name, any arguments.
const loose = connectRunner(worker);
void loose.start("anything", [1, "two"]);
