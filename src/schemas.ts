/**
 * taskflow-ts/schemas: the zod (zod/mini) schemas of log book records, for adapters and tools
 * that read records themselves. The backends check the same rules on read, by hand so that an app
 * does not bundle zod (src/persistence/validate.ts; a test keeps the two in step).
 * @module taskflow-ts/schemas
 */
export { logBookSchema, flowDetailSchema, atomDetailSchema, failureDataSchema, parseRecord } from "./persistence/schemas.js";
