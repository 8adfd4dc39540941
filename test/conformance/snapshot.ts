// The machine state a case must leave as it found it: every PCI and virtio device's driver and
// driver_override, drivers_autoprobe, the PCI drivers present and the loaded modules.
import { SysfsError } from "../../src/ports.ts";
import type { Target } from "./target.ts";

async function driverOf(t: Target, devdir: string): Promise<string> {
  const l = await t.sysfs.readlink(`${devdir}/driver`).catch((e: unknown) => {
    if (e instanceof SysfsError && e.errno === "ENOENT") return null;
    throw e;
  });
  return l === null ? "-" : l.slice(l.lastIndexOf("/") + 1);
}

export async function snapshot(t: Target): Promise<string[]> {
  const out: string[] = [];
  for (const bus of ["pci", "virtio"]) {
    for (const d of await t.sysfs.list(`/sys/bus/${bus}/devices`)) {
      const dir = `/sys/bus/${bus}/devices/${d}`;
      let ov = "";
      if (bus === "pci") ov = (await t.sysfs.read(`${dir}/driver_override`)).trim();
      out.push(`${bus} ${d} driver=${await driverOf(t, dir)}${bus === "pci" ? ` override=${ov}` : ""}`);
    }
  }
  out.push(`drivers_autoprobe=${(await t.sysfs.read("/sys/bus/pci/drivers_autoprobe")).trim()}`);
  out.push(`pci drivers: ${(await t.sysfs.list("/sys/bus/pci/drivers")).join(" ")}`);
  out.push(`modules: ${(await t.loadedModules()).sort().join(" ")}`);
  return out;
}

/** Lines of `b` that differ from `a`, as "- old / + new". */
export function snapshotDiff(a: readonly string[], b: readonly string[]): string[] {
  const sa = new Set(a), sb = new Set(b);
  return [...a.filter((l) => !sb.has(l)).map((l) => `- ${l}`), ...b.filter((l) => !sa.has(l)).map((l) => `+ ${l}`)];
}
