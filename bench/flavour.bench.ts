// Flavour benchmarks. (1) Resolving a device's vfio_pci: alias on Debian 6.1 arm64's real metadata:
// the real kmod 30 `modprobe -R` (modules.alias.bin made by real depmod, process spawn included) against
// kbind's path in the kernel backend: depmod from modinfo over the catalogue (Debian modules + the
// variant modules; once per process), then src/kmod's lookup (first on a fresh context, then repeated).
// (2) libvirt's fewest-wildcards search over the depmod-written modules.alias text. (3) The demo's
// 4 designs x 7 faults matrix on the kernel backend, absolute (no real counterpart).
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { libvirtBestVariant } from "../src/flavour/designs/c-userspace-libvirt.ts";
import { FAULTS, runScenario } from "../src/flavour/compare.ts";
import { DESIGNS } from "../src/flavour/designs/index.ts";
import { catalogueModuleDir } from "../src/flavour/kernel-backend.ts";
import { loadMachine } from "../src/flavour/load.ts";
import { createKmodContext } from "../src/kmod/context.ts";
import { lookup } from "../src/kmod/lookup.ts";
import type { KmodKernelPort } from "../src/kmod/kernel-port.ts";

const root = resolve(import.meta.dirname, "..");
const read = (p: string): string => readFileSync(resolve(root, p), "utf8");
const tree = resolve(root, "data/debian/6.1.0-56-arm64");
const kver = "6.1.0-56-arm64";
const MODALIAS = "pci:v000015B3d0000101Esv000015B3sd00000016bc02sc00i00";
const ALIAS = `vfio_pci:${MODALIAS.slice(4)}`;

function ms(fn: () => void, rounds: number): number {
  fn();
  const t = process.hrtime.bigint();
  for (let i = 0; i < rounds; i++) fn();
  return Number(process.hrtime.bigint() - t) / 1e6 / rounds;
}
const since = (t: bigint): number => Number(process.hrtime.bigint() - t) / 1e6;

let modprobeOut = "";
const real = ms(() => {
  modprobeOut = execFileSync("modprobe", ["-d", tree, "-S", kver, "-R", ALIAS], { encoding: "utf8" });
}, 20);

const t1 = process.hrtime.bigint();
const { cat, machine } = loadMachine(read);
const catMs = since(t1);
const t2 = process.hrtime.bigint();
const dir = catalogueModuleDir(cat, [], new Set());
const depmodMs = since(t2);
const kernel: KmodKernelPort = { moduleInitstate: () => null, insertModule: () => 0, deleteModule: () => 0, runCommand: () => 0, kernelCmdline: () => "" };
const ctx = () => createKmodContext({ moduleDir: dir, dirname: `/lib/modules/${kver}`, configFiles: [], kernel, checkModuleFiles: false });
let kbindOut: string[] = [];
const first = ms(() => {
  kbindOut = lookup(ctx(), ALIAS).map((m) => m.name); // a fresh context each time, as each modprobe process
}, 20);
const c = ctx();
const repeated = ms(() => {
  kbindOut = lookup(c, ALIAS).map((m) => m.name);
}, 2000);
const text = dir.text("modules.alias") ?? "";
let pick: string | null = null;
const lv = ms(() => {
  pick = libvirtBestVariant(MODALIAS, text);
}, 50);

process.stdout.write(
  `alias ${ALIAS}\n` +
    `  real modprobe -R (kmod 30, .bin index, process spawn): ${real.toFixed(2)} ms/lookup -> ${modprobeOut.trim().split("\n").join(" ")} (Debian metadata only)\n` +
    `  kbind, catalogue (YAML + Debian modules.alias/dep/softdep): ${catMs.toFixed(0)} ms; depmod from modinfo (${cat.modules.size} modules): ${depmodMs.toFixed(0)} ms (once per process)\n` +
    `  kbind lookup, fresh kmod context (index parsed once per dir): ${first.toFixed(3)} ms (ratio ${(first / real).toFixed(4)}x of modprobe) -> ${kbindOut.join(" ")} (with variants)\n` +
    `  kbind lookup, same context:        ${(repeated * 1000).toFixed(2)} us (ratio ${(repeated / real).toFixed(5)}x)\n` +
    `  libvirt fewest-wildcards scan of the modules.alias text: ${lv.toFixed(2)} ms -> ${String(pick)}\n`,
);

const t0 = process.hrtime.bigint();
let runs = 0;
for (const f of FAULTS)
  for (const d of DESIGNS) {
    runScenario(cat, machine, d, f);
    runs++;
  }
process.stdout.write(`demo matrix on the kernel backend: ${runs} runs (4 designs x ${FAULTS.length} faults) in ${since(t0).toFixed(0)} ms (incl. the depmod runs for design b's softdep and the missing variant)\n`);
