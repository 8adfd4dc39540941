// Running the real kmod 30 tools as an oracle, safely: depmod only with -b on a temp tree, modprobe
// only with -R / --show-depends / -n / -c and always with -d <temp tree>. Many modprobe runs go
// through one shell process (a batch), so 20,000 lookups cost ~2 ms each.
import { execFile, execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { readConfigPath, readModuleDir, readOnlyHostKernel } from "../../../src/host/kmod-files.ts";
import type { KmodKernelPort } from "../../../src/kmod/kernel-port.ts";
import type { ModuleDir } from "../../../src/kmod/module-dir.ts";
import { modprobe, type ModprobeEnv, type ModprobeResult } from "../../../src/kmod/modprobe.ts";

export function haveRealKmod(): boolean {
  return spawnSync("modprobe", ["--version"]).status === 0 && spawnSync("depmod", ["--version"]).status === 0;
}

/** Safe subset of modprobe flags the oracle may be run with. */
const SAFE = new Set(["-R", "--resolve-alias", "-D", "--show-depends", "-n", "--dry-run", "-c", "--showconfig", "--show-config"]);

export function assertSafeModprobeArgs(args: string[]): void {
  if (!args.some((a) => SAFE.has(a))) throw new Error(`refusing to run real modprobe without a safe flag: ${args.join(" ")}`);
  // -r only as a dry run (rmmod_do_remove_module and command_do return before delete_module /
  // system() when dry_run is set; -D sets dry_run too).
  const dry = args.some((a) => a === "-n" || a === "--dry-run" || a === "-D" || a === "--show-depends");
  if ((args.includes("-r") || args.includes("--remove")) && !dry) throw new Error("refusing modprobe -r without -n/-D");
  if (args.some((a) => /^-[^-]*r/.test(a) && a !== "-r")) throw new Error(`refusing combined short options with r: ${args.join(" ")}`);
}

export function tempRoot(prefix = "kbind-kmod-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function writeFiles(root: string, files: Record<string, string | Uint8Array>): void {
  for (const [rel, data] of Object.entries(files)) {
    const p = join(root, rel);
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, typeof data === "string" ? Buffer.from(data, "latin1") : data);
  }
}

/** Real `depmod -b root ver` (writes only under root). Returns stderr. */
export function realDepmod(root: string, ver: string): string {
  const r = spawnSync("depmod", ["-b", root, ver], { encoding: "latin1" });
  if (r.status !== 0) throw new Error(`depmod failed (${r.status}): ${r.stderr}`);
  return r.stderr;
}

const MARK = "\u0001KBIND\u0001";

function batchScript(root: string, ver: string, conf: string, runs: string[][], shard: string): string {
  const q = (s: string): string => `'${s.replaceAll("'", `'\\''`)}'`;
  const lines = ["#!/bin/sh", "unset MODPROBE_OPTIONS"];
  runs.forEach((a, i) => {
    const err = join(root, `.kbind-err-${shard}-${i}`);
    lines.push(`printf '${MARK}O\\n'; modprobe -d ${q(root)} -S ${q(ver)} -C ${q(conf)} ${a.map(q).join(" ")} 2>${q(err)}; printf '${MARK}R%s\\n' "$?"`);
  });
  return lines.join("\n") + "\n";
}

function parseBatch(out: string, root: string, shard: string, n: number): ModprobeResult[] {
  const res: ModprobeResult[] = [];
  const parts = out.split(`${MARK}O\n`).slice(1);
  parts.forEach((p, i) => {
    const r = p.lastIndexOf(MARK + "R");
    const code = Number(p.slice(r + MARK.length + 1).trim());
    const errPath = join(root, `.kbind-err-${shard}-${i}`);
    res.push({ code, stdout: p.slice(0, r), stderr: readFileSync(errPath, "latin1") });
    rmSync(errPath);
  });
  if (res.length !== n) throw new Error(`batch returned ${res.length} results for ${n} runs`);
  return res;
}

/** Runs `modprobe -d root -S ver -C conf <args>` for every args list, in one shell. */
export function realModprobeBatch(root: string, ver: string, conf: string, runs: string[][]): ModprobeResult[] {
  for (const a of runs) assertSafeModprobeArgs(a);
  const script = join(root, ".kbind-batch.sh");
  writeFileSync(script, batchScript(root, ver, conf, runs, "s"));
  const out = execFileSync("sh", [script], { encoding: "latin1", maxBuffer: 1 << 30 });
  return parseBatch(out, root, "s", runs.length);
}

/** The same, split over `shards` shell processes running concurrently (2 cores → ~2× faster). */
export async function realModprobeBatchParallel(root: string, ver: string, conf: string, runs: string[][], shards = 2): Promise<ModprobeResult[]> {
  for (const a of runs) assertSafeModprobeArgs(a);
  const size = Math.ceil(runs.length / shards);
  const parts = await Promise.all(
    Array.from({ length: shards }, async (_, k) => {
      const slice = runs.slice(k * size, (k + 1) * size);
      if (slice.length === 0) return [];
      const script = join(root, `.kbind-batch-${k}.sh`);
      writeFileSync(script, batchScript(root, ver, conf, slice, String(k)));
      const out = await new Promise<string>((resolve, reject) => {
        execFile("sh", [script], { encoding: "latin1", maxBuffer: 1 << 30 }, (e, stdout) => (e ? reject(new Error(e.message)) : resolve(stdout)));
      });
      return parseBatch(out, root, String(k), slice.length);
    }),
  );
  return parts.flat();
}

/** kbind's modprobe against the same tree, reading the host's /sys/module and /proc/cmdline like the real one. */
export function kbindModprobeEnv(kernel: KmodKernelPort = readOnlyHostKernel()): ModprobeEnv {
  const dirs = new Map<string, ModuleDir>();
  return {
    kernel,
    unameRelease: "0.0.0-kbind",
    env: {},
    openModuleDir: (d) => {
      let m = dirs.get(d);
      if (!m) {
        m = readModuleDir(d);
        dirs.set(d, m);
      }
      return m;
    },
    readConfigPath,
    cwd: process.cwd(),
  };
}

export function kbindModprobe(env: ModprobeEnv, root: string, ver: string, conf: string, args: string[]): ModprobeResult {
  return modprobe(["-d", root, "-S", ver, "-C", conf, ...args], env);
}

export function hostCmdline(): string {
  return existsSync("/proc/cmdline") ? readFileSync("/proc/cmdline", "latin1") : "";
}
