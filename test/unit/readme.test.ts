// Every ```ts block of the README type-checks under `strict` (issue 15, item 1): a user copies
// them first. One program over all blocks, each block its own module; the names a block uses
// without defining them (the `flow`, `backend` or `engine` of the text around it) are declared in
// CONTEXT below, with the types the text gives them, so a wrong call or a result used as the
// wrong type is still an error. A block that starts with `// name.ts` is that file (another block
// may import it).
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const DIR = `${ROOT}test/readme-blocks/`; // not on disk: served by the compiler host below

interface Block {
  line: number;
  file: string;
  code: string;
}

/** The README's ```ts blocks, with the line each starts on. */
function blocks(markdown: string): Block[] {
  const out: Block[] = [];
  const lines = markdown.split("\n");
  for (let i = 0; i < lines.length; i++) {
    if (lines[i]?.trim() !== "```ts") continue;
    const start = i + 1;
    let end = start;
    while (end < lines.length && lines[end]?.trim() !== "```") end++;
    const code = lines.slice(start, end).join("\n");
    const named = /^\/\/ ([\w.-]+\.ts)\b/.exec(code);
    out.push({ line: start + 1, file: `${DIR}${named?.[1] ?? `line-${start + 1}.ts`}`, code });
    i = end;
  }
  return out;
}

// What the README's prose defines around its snippets. Types only: nothing here runs.
const CONTEXT = `
declare global {
  const flow: import("taskflow-ts").Flow;
  const backend: import("taskflow-ts").Backend;
  const flowDetailId: string;
  const store: Record<string, unknown>;
  const engine: import("taskflow-ts").Engine;
  const cart: { items: string[] };
  // Atoms of the README's example flows.
  const validate: import("taskflow-ts").Task, reserve: import("taskflow-ts").Task, quote: import("taskflow-ts").Task, charge: import("taskflow-ts").Task;
  const link: import("taskflow-ts").Task, compile: import("taskflow-ts").Task, test: import("taskflow-ts").Task;
  const a: import("taskflow-ts").Task, b: import("taskflow-ts").Task;
  const callApi: import("taskflow-ts").Task, dial: import("taskflow-ts").Task, sendEmail: import("taskflow-ts").Task, sendReminder: import("taskflow-ts").Task;
  const rows: Array<{ id: string }>;
  function importRow(row: { id: string }): import("taskflow-ts").Task;
  function execute(args: { amount: number }): Promise<string>;
  function revert(args: { amount: number }): Promise<void>;
  function reserveRoom(args: { price: number }): Promise<string>;
  function releaseRoom(args: { price: number }): Promise<void>;
  function checkout(): import("taskflow-ts").Flow;
  function checkoutFlow(): import("taskflow-ts").Flow;
  const bookingFlow: import("taskflow-ts").Flow;
  function render(t: import("taskflow-ts/idb").TabTransition): void;
  const registry: import("taskflow-ts").FlowRegistry;
  interface Env {
    LOCKS: DurableObjectNamespace<import("taskflow-ts/durable-object").LockObject>;
    JOB_BOARD: DurableObjectNamespace<import("taskflow-ts/durable-object").JobBoardObject>;
    JOB_BOARD_SECRET: string;
  }
  const env: Env;
}
export {};
`;

const markdown = readFileSync(`${ROOT}README.md`, "utf8");
const found = blocks(markdown);

function check(): string[] {
  const config = ts.getParsedCommandLineOfConfigFile(`${ROOT}tsconfig.json`, {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} });
  if (!config) throw new Error("tsconfig.json does not parse");
  const options: ts.CompilerOptions = {
    ...config.options,
    noEmit: true,
    moduleDetection: ts.ModuleDetectionKind.Force, // every block its own module, with top-level await
    // Pages and Workers: a block for one runs with its platform's globals. The two libraries
    // declare a few globals differently; skipLibCheck leaves that to their declaration files.
    lib: ["lib.es2022.d.ts", "lib.dom.d.ts", "lib.dom.iterable.d.ts"],
    types: ["@cloudflare/workers-types"],
  };
  const files = new Map<string, string>([[`${DIR}context.ts`, CONTEXT], ...found.map((b) => [b.file, b.code] as const)]);
  const host = ts.createCompilerHost(options);
  const { getSourceFile, fileExists, readFile, directoryExists } = host;
  host.directoryExists = (d) => `${d}/` === DIR || d === DIR || (directoryExists?.call(host, d) ?? true);
  host.fileExists = (f) => files.has(f) || fileExists.call(host, f);
  host.readFile = (f) => files.get(f) ?? readFile.call(host, f);
  host.getSourceFile = (f, version, ...rest) => {
    const text = files.get(f);
    return text === undefined ? getSourceFile.call(host, f, version, ...rest) : ts.createSourceFile(f, text, version);
  };
  const program = ts.createProgram([...files.keys()], options, host);
  const problems: string[] = [];
  for (const block of found) {
    const source = program.getSourceFile(block.file);
    if (!source) throw new Error(`${block.file} was not compiled`);
    for (const d of [...program.getSyntacticDiagnostics(source), ...program.getSemanticDiagnostics(source)]) {
      const at = d.start === undefined ? 0 : source.getLineAndCharacterOfPosition(d.start).line;
      problems.push(`README.md:${block.line + at}: ${ts.flattenDiagnosticMessageText(d.messageText, "\n")}`);
    }
  }
  return problems;
}

describe("the README's TypeScript", () => {
  it("has blocks to check, each a name of its own", () => {
    expect(found.length).toBeGreaterThan(10);
    expect(new Set(found.map((b) => b.file)).size).toBe(found.length);
  });

  it("type-checks under strict, every ```ts block", () => {
    expect(check()).toEqual([]);
  }, 60_000);
});
