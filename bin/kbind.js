#!/usr/bin/env node
// Thin shim: run the built CLI if present, else the TypeScript sources through tsx.
import { existsSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";
import { dirname, join } from "node:path";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const built = join(root, "dist", "cli", "main.js");
let mod;
if (existsSync(built)) {
  mod = await import(pathToFileURL(built).href);
} else {
  const { register } = await import("tsx/esm/api");
  register();
  mod = await import(pathToFileURL(join(root, "src", "cli", "main.ts")).href);
}
const { processIo } = await import(pathToFileURL(join(root, existsSync(built) ? "dist" : "src", "cli", existsSync(built) ? "io.js" : "io.ts")).href);
process.exitCode = await mod.runCli(process.argv.slice(2), processIo());
