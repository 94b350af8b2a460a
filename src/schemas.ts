/**
 * taskflow-ts/schemas: the zod (zod/mini) schemas of log book records, for adapters and tools
 * that read records themselves. Every backend validates with these on read.
 */
export { logBookSchema, flowDetailSchema, atomDetailSchema, failureDataSchema, parseRecord, decodeRecord, type RecordKind } from "./persistence/schemas.js";
