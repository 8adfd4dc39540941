// Alias lookup over Debian 6.1 amd64's full index: kbind's lookup() (kmod_module_new_from_lookup,
// src/kmod/lookup.ts) vs libkmod's kmod_module_new_from_lookup called in-process by a small C
// harness built here against libkmod-dev (same keys, same index, no config, after
// kmod_load_resources). Two key sets, reported apart:
//   PCI-only: real-looking device modaliases (QEMU q35 devices + the alias table's own IDs),
//   OF-heavy: OF modaliases of Debian's arm64 device trees (test/kmod/data/of-modaliases-arm64.txt).
// Per-lookup time is the median of several rounds over the whole set; ratio = libkmod / kbind.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readModuleDir } from "../src/host/kmod-files.ts";
import { createKmodContext } from "../src/kmod/context.ts";
import { lookup } from "../src/kmod/lookup.ts";
import { parseAliasFile } from "../src/kmod/text-files.ts";

const ROOT = join(import.meta.dirname, "..");
const DIR = join(ROOT, "data/debian/6.1.0-56-amd64/lib/modules/6.1.0-56-amd64");

const C_HARNESS = String.raw`
#include <libkmod.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec * 1e9 + t.tv_nsec; }
int main(int argc, char **argv) {
  const char *null_config = NULL;
  struct kmod_ctx *ctx = kmod_new(argv[1], &null_config);
  if (!ctx || kmod_load_resources(ctx) < 0) { fprintf(stderr, "kmod_new/load_resources failed\n"); return 1; }
  FILE *f = fopen(argv[2], "r"); int rounds = atoi(argv[3]);
  static char *keys[200000]; int n = 0; char line[4096];
  while (n < 200000 && fgets(line, sizeof line, f)) { line[strcspn(line, "\n")] = 0; keys[n++] = strdup(line); }
  long matches = 0;
  for (int r = 0; r < rounds; r++) {
    double t0 = now();
    for (int i = 0; i < n; i++) {
      struct kmod_list *list = NULL, *l;
      kmod_module_new_from_lookup(ctx, keys[i], &list);
      kmod_list_foreach(l, list) matches++;
      kmod_module_unref_list(list);
    }
    printf("%.1f\n", (now() - t0) / n);
  }
  fprintf(stderr, "%ld\n", matches / rounds);
  kmod_unref(ctx);
  return 0;
}
`;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function pciKeys(): string[] {
  const aliases = parseAliasFile(readFileSync(join(DIR, "modules.alias"), "latin1"));
  const keys: string[] = [];
  let seed = 1;
  const r = (): number => ((seed = (seed * 1103515245 + 12345) >>> 0) / 4294967296);
  const hex = (n: number): string =>
    Math.floor(r() * 16 ** n)
      .toString(16)
      .toUpperCase()
      .padStart(n, "0");
  for (const a of aliases) {
    // A device's modalias has every field in hex and nothing after i%02X: the pattern's trailing
    // `*` (file2alias adds one after a partial interface byte) is not part of a key.
    const m = /^pci:v([0-9A-F]{8}|\*)d([0-9A-F]{8}|\*)sv([0-9A-F]{8}|\*)sd([0-9A-F]{8}|\*)bc([0-9A-F]{2}|\*)sc([0-9A-F]{2}|\*)i([0-9A-F]{2}|\*)\*?$/.exec(a.pattern);
    if (!m) continue;
    const f = (v: string, n: number): string => (v === "*" ? hex(n) : v);
    keys.push(`pci:v${f(m[1]!, 8)}d${f(m[2]!, 8)}sv${f(m[3]!, 8)}sd${f(m[4]!, 8)}bc${f(m[5]!, 2)}sc${f(m[6]!, 2)}i${f(m[7]!, 2)}`);
  }
  return keys.filter((_, i) => i % 4 === 0);
}

function ofKeys(): string[] {
  return readFileSync(join(ROOT, "test/kmod/data/of-modaliases-arm64.txt"), "latin1")
    .split("\n")
    .filter((l) => l !== "" && !l.startsWith("#"));
}

const work = mkdtempSync(join(tmpdir(), "kbind-bench-"));
const exe = join(work, "kmod-lookup");
writeFileSync(join(work, "h.c"), C_HARNESS);
const flags =
  spawnSync("pkg-config", ["--exists", "libkmod"]).status === 0
    ? execFileSync("pkg-config", ["--cflags", "--libs", "libkmod"], { encoding: "utf8" }).trim().split(/\s+/).filter(Boolean)
    : ["-lkmod"];
const haveC = spawnSync("gcc", ["-O2", "-o", exe, join(work, "h.c"), ...flags], { stdio: "inherit" }).status === 0;
if (!haveC) console.log("libkmod-dev/gcc not available: only kbind figures are printed (no ratio)");

const ctx = createKmodContext({
  moduleDir: readModuleDir(DIR),
  dirname: DIR,
  configFiles: [],
  kernel: { moduleInitstate: () => null, insertModule: () => -1, deleteModule: () => -1, runCommand: () => -1, kernelCmdline: () => "" },
});
const t0 = performance.now();
lookup(ctx, "pci:v00008086d00001572sv00008086sd00000001bc02sc00i00");
console.log(`kbind first lookup (index parse + matcher build): ${(performance.now() - t0).toFixed(0)} ms`);

// Rounds alternate kbind / libkmod so that both see the same machine (this 2-core VM's speed
// swings by up to 2× between seconds); the ratio reported is the median of per-round ratios.
const ROUNDS = 9;
for (const [name, made] of [
  ["PCI-only", pciKeys()],
  ["OF-heavy", ofKeys()],
] as const) {
  // Both sides read their keys from the same file, one per line, as a tool given modaliases would.
  const kf = join(work, `${name}.keys`);
  writeFileSync(kf, made.join("\n") + "\n");
  const keys = readFileSync(kf, "latin1").split("\n").slice(0, -1);
  let kbMatches = 0;
  for (const k of keys) kbMatches += lookup(ctx, k).length;
  // Warm-up until the JIT has settled (libkmod is compiled ahead of time): about half a second.
  for (const t0 = performance.now(); performance.now() - t0 < 500; ) for (const k of keys) lookup(ctx, k);
  const kb: number[] = [];
  const c: number[] = [];
  const ratios: number[] = [];
  let cMatches = -1;
  for (let r = 0; r < ROUNDS; r++) {
    const t = performance.now();
    for (const k of keys) lookup(ctx, k);
    const kbUs = ((performance.now() - t) * 1000) / keys.length;
    kb.push(kbUs);
    if (!haveC) continue;
    // One timed pass per process (the harness loads the index before its clock starts).
    const out = spawnSync(exe, [DIR, kf, "1"], { encoding: "utf8" });
    const cUs = Number(out.stdout.trim()) / 1000;
    cMatches = Number(out.stderr.trim());
    c.push(cUs);
    ratios.push(cUs / kbUs);
  }
  let line = `${name}: ${keys.length} keys, kbind ${median(kb).toFixed(2)} µs/lookup`;
  if (haveC) {
    line += `, libkmod ${median(c).toFixed(2)} µs/lookup → kbind is ${median(ratios).toFixed(1)}× faster (median of ${ROUNDS} paired rounds, range ${Math.min(...ratios).toFixed(1)}–${Math.max(...ratios).toFixed(1)}; target ≥10×); matches kbind ${kbMatches} / libkmod ${cMatches}`;
  }
  console.log(line);
}
