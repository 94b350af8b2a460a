// Type tests: checked by `npm test` (tsc -p tsconfig.test.json), never run.
// The model types of the log book (src/persistence/models.ts) are what the zod schemas of
// `taskflow-ts/schemas` parse to: a field added to one and not the other fails here.
import { expectTypeOf } from "vitest";
import type * as z from "zod/mini";
import type { AtomDetail, FailureData, FlowDetail, LogBook, SCHEMA_VERSION } from "../../src/index.js";
import type { atomDetailSchema, failureDataSchema, flowDetailSchema, logBookSchema } from "../../src/schemas.js";

/** A record type without its index signature: the schemas are loose (they keep unknown top-level fields), the models name their fields. */
type Known<T> = { [K in keyof T as string extends K ? never : K]: T[K] };

expectTypeOf<Known<z.output<typeof logBookSchema>>>().toEqualTypeOf<LogBook>();
expectTypeOf<Known<z.output<typeof flowDetailSchema>>>().toEqualTypeOf<FlowDetail>();
expectTypeOf<Known<z.output<typeof atomDetailSchema>>>().toEqualTypeOf<AtomDetail>();
expectTypeOf<z.output<typeof failureDataSchema>>().toEqualTypeOf<FailureData>();

// A parsed record is usable as the model type, and keeps a field it does not know.
expectTypeOf<z.output<typeof atomDetailSchema>>().toExtend<AtomDetail>();
expectTypeOf<z.output<typeof atomDetailSchema>["later"]>().toEqualTypeOf<unknown>();

// One schema version everywhere: the records carry the constant's type.
expectTypeOf<LogBook["schemaVersion"]>().toEqualTypeOf<typeof SCHEMA_VERSION>();
expectTypeOf<FlowDetail["schemaVersion"]>().toEqualTypeOf<2>();
expectTypeOf<AtomDetail["schemaVersion"]>().toEqualTypeOf<typeof SCHEMA_VERSION>();

// The user's meta is theirs; the engine's fields are typed.
expectTypeOf<AtomDetail["meta"]>().toEqualTypeOf<Record<string, unknown>>();
expectTypeOf<FlowDetail["meta"]>().toEqualTypeOf<Record<string, unknown>>();
expectTypeOf<AtomDetail["wakeAt"]>().toEqualTypeOf<number | undefined>();
expectTypeOf<FlowDetail["waitingFor"]>().toEqualTypeOf<Array<{ name: string; description?: string | undefined; deadline?: number | undefined }> | undefined>();
