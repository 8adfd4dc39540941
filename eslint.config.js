// Typed lint (typescript-eslint strictTypeChecked). The pure core (model, kernel, kmod, sim, flavour)
// may not import node: modules or the I/O layer: everything that touches files, processes or /sys
// lives in src/host (and the CLI/test/bench edges).
import js from "@eslint/js";
import tseslint from "typescript-eslint";

const pureCore = ["src/model/**", "src/kernel/**", "src/kmod/**", "src/sim/**", "src/flavour/**"];

export default tseslint.config(
  { ignores: ["dist/**", "node_modules/**", "data/**", ".cache/**", "coverage/**", "bin/**"] },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      "@typescript-eslint/restrict-template-expressions": ["error", { allowNumber: true, allowBoolean: true }],
      "@typescript-eslint/no-unnecessary-condition": "off",
      "@typescript-eslint/no-non-null-assertion": "off",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "no-control-regex": "off",
      "@typescript-eslint/no-confusing-void-expression": "off",
      "@typescript-eslint/restrict-plus-operands": ["error", { allowNumberAndString: true }],
    },
  },
  {
    files: pureCore,
    rules: {
      "no-restricted-imports": ["error", {
        patterns: [
          { group: ["node:*", "fs", "path", "child_process", "os"], message: "The pure core does no I/O: go through a port in src/host." },
          { group: ["**/host/**", "**/cli/**"], message: "The pure core may not depend on the I/O layer or the CLI." },
        ],
      }],
    },
  },
  {
    files: ["src/kmod/decompress.ts"],
    rules: { "no-restricted-imports": "off" },
  },
  {
    files: ["eslint.config.js"],
    ...tseslint.configs.disableTypeChecked,
  },
);
