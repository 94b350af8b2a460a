import type * as Schemas from "./schemas.js";

/**
 * The record schemas, loaded on the first read. zod is most of the core's weight in a page
 * (about 6 KiB min+gzip); a bundler splits it into its own chunk this way, so a page pays for it
 * when it first reads a log book back, not on load.
 */
let schemas: Promise<typeof Schemas> | undefined;

export function loadSchemas(): Promise<typeof Schemas> {
  schemas ??= import("./schemas.js");
  return schemas;
}
