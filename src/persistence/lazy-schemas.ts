/**
 * The record schemas, loaded on the first read. zod is most of the core's weight in a page
 * (about 6 KiB min+gzip); a bundler splits it into its own chunk this way, so a page pays for it
 * when it first reads a log book back, not on load.
 */
let schemas: Promise<typeof import("./schemas.js")> | undefined;

export function loadSchemas(): Promise<typeof import("./schemas.js")> {
  schemas ??= import("./schemas.js");
  return schemas;
}
