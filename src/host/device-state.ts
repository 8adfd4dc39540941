// Reading a device's binding state through a SysfsPort, with the kernel's formats:
// <dev>/driver is a symlink to the driver dir (driver_sysfs_add, dd.c); driver_override shows
// "%s\n" of the override or "(null)\n" when unset (driver_set_override, drivers/base/driver.c; SPI
// and s390 AP print "\n"); <dev>/iommu_group links to /sys/kernel/iommu_groups/<n> (iommu.c).
import type { SysfsPort } from "../ports.ts";
import { SysfsError } from "../ports.ts";

export interface BindState {
  /** struct device_driver.name of the bound driver, null when unbound. */
  driver: string | null;
  /** dev->driver_override, null when unset. */
  override: string | null;
}

export function devicePath(bus: string, device: string): string {
  return `/sys/bus/${bus}/devices/${device}`;
}

export function lastComponent(link: string): string {
  const parts = link.split("/").filter((p) => p !== "");
  return parts[parts.length - 1] ?? "";
}

/** readlink that treats "missing" as "not a link" whatever the port does with ENOENT. */
export async function readlinkOrNull(sysfs: SysfsPort, path: string): Promise<string | null> {
  try {
    return await sysfs.readlink(path);
  } catch (e) {
    if (e instanceof SysfsError && (e.errno === "ENOENT" || e.errno === "EINVAL")) return null;
    throw e;
  }
}

export async function readAttrOrNull(sysfs: SysfsPort, path: string): Promise<string | null> {
  try {
    return await sysfs.read(path);
  } catch (e) {
    if (e instanceof SysfsError && (e.errno === "ENOENT" || e.errno === "ENODEV" || e.errno === "EIO")) return null;
    throw e;
  }
}

/** The override as shown by driver_override's show(): "(null)\n" or "\n" = unset. */
export function parseOverride(shown: string): string | null {
  const v = shown.endsWith("\n") ? shown.slice(0, -1) : shown;
  return v === "(null)" || v === "" ? null : v;
}

export async function readBindState(sysfs: SysfsPort, bus: string, device: string): Promise<BindState> {
  const dp = devicePath(bus, device);
  const link = await readlinkOrNull(sysfs, `${dp}/driver`);
  const shown = await readAttrOrNull(sysfs, `${dp}/driver_override`);
  return { driver: link === null ? null : lastComponent(link), override: shown === null ? null : parseOverride(shown) };
}

export async function readIommuGroup(sysfs: SysfsPort, bus: string, device: string): Promise<string | null> {
  const link = await readlinkOrNull(sysfs, `${devicePath(bus, device)}/iommu_group`);
  return link === null ? null : lastComponent(link);
}

/**
 * Members of an IOMMU group: /sys/kernel/iommu_groups/<n>/devices (iommu_group_add_device creates the
 * links); when that directory is absent (a sysfs model without /sys/kernel), every PCI device whose
 * iommu_group link names the group.
 */
export async function iommuGroupMembers(sysfs: SysfsPort, group: string): Promise<string[]> {
  const dir = `/sys/kernel/iommu_groups/${group}/devices`;
  if (await sysfs.exists(dir)) return sysfs.list(dir);
  const out: string[] = [];
  for (const d of await sysfs.list("/sys/bus/pci/devices")) {
    if ((await readIommuGroup(sysfs, "pci", d)) === group) out.push(d);
  }
  return out;
}

/** Resolves a relative link target against the directory holding the link (one level, as sysfs links are). */
export function resolveLink(linkPath: string, target: string): string {
  const base = target.startsWith("/") ? [] : linkPath.split("/").slice(0, -1);
  for (const c of target.split("/")) {
    if (c === "" || c === ".") continue;
    if (c === "..") base.pop();
    else base.push(c);
  }
  return "/" + base.filter((c) => c !== "").join("/");
}

/** The /sys/devices/... path of a device (its /sys/bus/<bus>/devices/<dev> link resolved). */
export async function deviceRealPath(sysfs: SysfsPort, bus: string, device: string): Promise<string> {
  const p = devicePath(bus, device);
  const link = await readlinkOrNull(sysfs, p);
  return link === null ? p : resolveLink(p, link);
}

/** kmod's underscores() for plain module names: "-" → "_" (module dirs under /sys/module use "_"). */
export function moduleDirName(module: string): string {
  return module.replaceAll("-", "_");
}

/**
 * The driver(s) a module registered on `bus`: /sys/module/<mod>/drivers/<bus>:<drv>
 * (module_add_driver, drivers/base/module.c names the link "<bus>:<driver>").
 */
export async function moduleDrivers(sysfs: SysfsPort, module: string, bus: string): Promise<string[]> {
  const dir = `/sys/module/${moduleDirName(module)}/drivers`;
  if (!(await sysfs.exists(dir))) return [];
  return (await sysfs.list(dir)).filter((e) => e.startsWith(`${bus}:`)).map((e) => e.slice(bus.length + 1));
}
