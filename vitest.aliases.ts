import { fileURLToPath } from "node:url";
import ts from "typescript";

// The package's names (`taskflow-ts` and its subpaths), pointed at the sources as tsconfig.json's
// `paths` point them for the type checker: examples, tests and the adapters import the package by
// its name, as users do, and nothing needs building first. One list for every vitest project (a
// project does not inherit the root's aliases). Exact matches: "taskflow-ts" must not swallow
// "taskflow-ts/backend".
// Read as TypeScript reads it (comments and trailing commas allowed).
const { config } = ts.readConfigFile(fileURLToPath(new URL("./tsconfig.json", import.meta.url)), ts.sys.readFile);
const { compilerOptions } = config as { compilerOptions: { paths: Record<string, [string]> } };

export const packageAliases = Object.entries(compilerOptions.paths).map(([name, [target]]) => ({
  find: new RegExp(`^${name.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}$`),
  replacement: fileURLToPath(new URL(target, import.meta.url)),
}));
