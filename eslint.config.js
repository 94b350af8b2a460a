// Async mistakes are errors here: a forgotten await in an engine is a lost revert.
import tseslint from "typescript-eslint";

const rules = {
  "@typescript-eslint/no-floating-promises": "error",
  "@typescript-eslint/no-misused-promises": "error",
  "@typescript-eslint/await-thenable": "error",
  "@typescript-eslint/consistent-type-imports": ["error", { fixStyle: "inline-type-imports" }],
  "@typescript-eslint/no-import-type-side-effects": "error",
};
// Code that runs in workerd is type-checked against the Workers types, each by its own tsconfig.
const workerd = [
  { files: ["adapters/durable-object/**/*.ts", "test/workerd/**/*.ts"], project: "./test/workerd/tsconfig.json" },
  { files: ["bench/durable-object/**/*.ts"], project: "./bench/durable-object/tsconfig.json" },
  { files: ["examples/edge-jobs/**/*.ts"], project: "./examples/edge-jobs/tsconfig.json" },
  { files: ["examples/edge-board/**/*.ts"], project: "./examples/edge-board/tsconfig.json" },
  { files: ["examples/edge-executor/**/*.ts"], project: "./examples/edge-executor/tsconfig.json" },
];

// Adapters are built like a user's code, against the package's public API: `taskflow-ts` and
// its subpaths (taskflow-ts/backend for what a backend needs), never a path into src/.
const adapterImports = {
  files: ["adapters/**/*.ts"],
  rules: {
    "no-restricted-imports": [
      "error",
      {
        patterns: [
          {
            regex: "^(\\.\\./)+src(/|$)",
            message: "Adapters import taskflow-ts and its public subpaths only (taskflow-ts/backend, …); export what is missing from one of them and document it.",
          },
        ],
      },
    ],
  },
};

export default tseslint.config(
  { ignores: ["dist/", "node_modules/", "scratch/", ".build-test-*/", "bench/durable-object/vitest.config.ts"] },
  {
    files: ["src/**/*.ts", "adapters/idb/**/*.ts", "adapters/worker/**/*.ts", "adapters/viewer/**/*.ts", "test/**/*.ts", "bench/**/*.ts", "examples/**/*.ts"],
    ignores: workerd.flatMap((w) => w.files),
    languageOptions: {
      parser: tseslint.parser,
      parserOptions: { project: "./tsconfig.test.json", tsconfigRootDir: import.meta.dirname },
    },
    plugins: { "@typescript-eslint": tseslint.plugin },
    rules,
  },
  ...workerd.map(({ files, project }) => ({
    files,
    languageOptions: { parser: tseslint.parser, parserOptions: { project, tsconfigRootDir: import.meta.dirname } },
    plugins: { "@typescript-eslint": tseslint.plugin },
    rules,
  })),
  adapterImports,
);
