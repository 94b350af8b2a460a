// Type tests of readable durations (issue 15, item 8): checked by tsc -p tsconfig.test.json, never run.
import { expectTypeOf } from "vitest";
import { parseDuration, sleep, task, Times, waitFor, type Duration } from "../../src/index.js";
import { MemoryJobBoard } from "../../src/jobs/index.js";

sleep("a", 250);
sleep("b", "250ms");
sleep("c", "1 day");
sleep("d", "3days");
sleep("e", "1.5h");
// @ts-expect-error a misspelt unit is refused by the type
sleep("f", "1 dya");
// @ts-expect-error a unit alone is not a duration
sleep("g", "day");
waitFor("code", { timeoutMs: "10 minutes" });
task({ name: "call", timeoutMs: "30s", execute: () => 1 });
task({ name: "call", timeoutMs: 30_000, execute: () => 1 });
// @ts-expect-error a misspelt unit is refused by the type
task({ name: "call", timeoutMs: "30 secs", execute: () => 1 });
new Times(3, { backoff: { initialMs: "500ms", maxMs: "30s" } });
new MemoryJobBoard({ leaseMs: "30s" });
expectTypeOf(parseDuration("2h")).toEqualTypeOf<number>();
expectTypeOf<"5 weeks">().toMatchTypeOf<Duration>();
