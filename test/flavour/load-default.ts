// Loads the embedded default machine once per test file (real Debian arm64 metadata + variant tables).
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { loadMachine, type Loaded } from "../../src/flavour/load.ts";

const root = resolve(import.meta.dirname, "../..");
let cached: Loaded | null = null;

export function readRepo(p: string): string {
  return readFileSync(resolve(root, p), "utf8");
}

export function loadDefault(): Loaded {
  cached ??= loadMachine(readRepo);
  return cached;
}
