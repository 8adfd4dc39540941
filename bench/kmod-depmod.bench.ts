// `kbind depmod` (in-process: src/host/kmod-files.ts runDepmodOnDisk) vs the real `depmod -b` on
// Debian's full 6.1 amd64 module tree (.cache/debian, from scripts/fetch-debian-kernel.sh amd64),
// each on its own copy of the tree, alternating, median of 3 runs; outputs are also compared.
import { execFileSync, spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runDepmodOnDisk } from "../src/host/kmod-files.ts";

const VER = "6.1.0-56-amd64";
const SRC = join(import.meta.dirname, "../.cache/debian/linux-image-6.1.0-56-amd64/root/lib/modules", VER);
if (!existsSync(join(SRC, "kernel"))) {
  console.log(`no Debian module tree at ${SRC}: run scripts/fetch-debian-kernel.sh amd64 first (skipped)`);
  process.exit(0);
}
if (spawnSync("depmod", ["--version"]).status !== 0) {
  console.log("real depmod not installed (skipped)");
  process.exit(0);
}

function tree(): string {
  const base = mkdtempSync(join(tmpdir(), "kbind-depmod-"));
  const d = join(base, "lib/modules", VER);
  mkdirSync(d, { recursive: true });
  cpSync(join(SRC, "kernel"), join(d, "kernel"), { recursive: true });
  for (const f of ["modules.order", "modules.builtin", "modules.builtin.modinfo"]) cpSync(join(SRC, f), join(d, f));
  return base;
}

const kb = tree();
const real = tree();
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const tk: number[] = [];
const tr: number[] = [];
let modules = 0;
for (let i = 0; i < 3; i++) {
  let t = performance.now();
  execFileSync("depmod", ["-b", real, VER]);
  tr.push(performance.now() - t);
  t = performance.now();
  modules = runDepmodOnDisk(kb, VER).order.length;
  tk.push(performance.now() - t);
}
const same = ["modules.dep", "modules.dep.bin", "modules.alias", "modules.alias.bin", "modules.softdep", "modules.symbols", "modules.symbols.bin", "modules.builtin.bin", "modules.builtin.alias.bin", "modules.devname"].filter((f) =>
  readFileSync(join(kb, "lib/modules", VER, f)).equals(readFileSync(join(real, "lib/modules", VER, f))),
).length;
const k = median(tk);
const r = median(tr);
console.log(`depmod on Debian ${VER} (${modules} modules): kbind ${k.toFixed(0)} ms (in-process), real depmod ${r.toFixed(0)} ms → kbind/depmod = ${(k / r).toFixed(2)}× (target ≤0.5×); identical outputs: ${same}/10`);
rmSync(kb, { recursive: true, force: true });
rmSync(real, { recursive: true, force: true });
