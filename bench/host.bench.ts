// Host mode speed, side by side with the real tools' way of doing the same job:
//  1. `kbind host list` (listPciDevices: driver, override, IOMMU group, class, IDs, host modules by
//     fnmatch over modules.alias, libvirt's vfio choice) on THIS machine's real /sys (read only),
//     against driverctl's list-devices loop (driverctl 0.111 `list_devices`: for each
//     /sys/bus/pci/devices/* read driver_override and the driver link — bash, run here with the
//     same loop body), which reads far less.
//  2. A full vfio switch and back (set + unset, each verified) on the simulated kernel and on the
//     temp-dir fake /sys, per round trip.
// Plain hrtime, median of N runs.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { listPciDevices, parseModulesAlias } from "../src/host/inventory.ts";
import { RealSysfs } from "../src/host/sysfs-real.ts";
import { executePlan, planSet, planUnset } from "../src/host/switch.ts";
import { modelRig, rig } from "../test/host/fixtures.ts";

const kver = "6.1.0-56-amd64";
const aliasFile = join(import.meta.dirname, "../data/debian", kver, "lib/modules", kver, "modules.alias");

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}
async function timeMs(n: number, fn: () => unknown): Promise<number> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = process.hrtime.bigint();
    await fn();
    out.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  return median(out);
}

const modules = parseModulesAlias(readFileSync(aliasFile, "latin1"), aliasFile);
const sysfs = new RealSysfs("/");
const rows = await listPciDevices(sysfs, modules);
const kbindList = await timeMs(30, () => listPciDevices(sysfs, modules));
const driverctlLoop =
  'for d in /sys/bus/pci/devices/*; do [ -f "$d/driver_override" ] || continue; o=$(cat "$d/driver_override"); ' +
  'if [ -L "$d/driver" ]; then drv=$(basename "$(readlink "$d/driver")"); else drv="(none)"; fi; echo "${d##*/} $drv $o"; done';
const bashList = await timeMs(30, () => execFileSync("bash", ["-c", driverctlLoop], { stdio: ["ignore", "pipe", "ignore"] }));
console.log(`host list on this machine's /sys (${rows.length} PCI devices, Debian 6.1 modules.alias: ${modules.pciAliases.length} pci: aliases)`);
console.log(`  kbind listPciDevices      ${kbindList.toFixed(2)} ms (median of 30, in-process)`);
console.log(`  driverctl list loop (bash) ${bashList.toFixed(2)} ms (median of 30, process start included)`);
console.log(`  ratio kbind/driverctl: ${(kbindList / bashList).toFixed(2)}x`);

for (const [name, make] of [["simulated kernel", modelRig], ["temp-dir fake /sys", rig]] as const) {
  const r = make();
  const env = r.env();
  const ms = await timeMs(50, async () => {
    const a = await executePlan(env, await planSet(env, "0000:01:00.0"));
    const b = await executePlan(env, await planUnset(env, "0000:01:00.0", { hostDriver: "e1000e" }));
    if (a.status !== "done" || b.status !== "done") throw new Error(`round trip failed: ${a.status}/${b.status}`);
  });
  console.log(`vfio switch + back (verified, journalled) on the ${name}: ${ms.toFixed(2)} ms per round trip (median of 50)`);
  r.dispose();
}
