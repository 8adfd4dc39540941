// `kbind host list`: what a host's PCI devices are bound to and what each flavour would bind.
// Per device: class, vendor:device, current driver, driver_override, IOMMU group; the "host"
// flavour = the modules udev would load for its modalias (every "alias pci:..." of modules.alias
// that fnmatch()es it, in file order — the text-file view of kmod_module_new_from_lookup), the
// "vfio" flavour = libvirt's choice (vfio-variant.ts).
import { fnmatch } from "../kmod/fnmatch.ts";
import type { SysfsPort } from "../ports.ts";
import { moduleDrivers, readAttrOrNull, readBindState, readIommuGroup } from "./device-state.ts";
import { chooseVfioDriver, parsePciModalias, scanVfioAliases, VFIO_PCI_FALLBACK, type VfioAliasEntry, type VfioChoice } from "./vfio-variant.ts";

/** PCI base classes (include/linux/pci_ids.h PCI_BASE_CLASS_*; driverctl's devclasses). */
const BASE_CLASS: Record<number, string> = {
  0x00: "unclassified",
  0x01: "storage",
  0x02: "network",
  0x03: "display",
  0x04: "multimedia",
  0x05: "memory",
  0x06: "bridge",
  0x07: "communication",
  0x08: "system",
  0x09: "input",
  0x0a: "docking",
  0x0b: "processor",
  0x0c: "serial",
  0x0d: "wireless",
  0x0e: "intelligent",
  0x0f: "satellite",
  0x10: "crypto",
  0x11: "signal",
  0x12: "accelerator",
  0x13: "instrumentation",
  0x40: "coprocessor",
  0xff: "unassigned",
};

export function pciClassName(classAttr: string): string {
  const v = Number.parseInt(classAttr.trim(), 16);
  return Number.isFinite(v) ? (BASE_CLASS[(v >>> 16) & 0xff] ?? "other") : "?";
}

export interface AliasLine {
  pattern: string;
  module: string;
}

export interface ModulesInfo {
  /** Where it came from (for messages), null when no modules dir was readable. */
  source: string | null;
  pciAliases: AliasLine[];
  vfioAliases: VfioAliasEntry[] | null;
}

export function parseModulesAlias(text: string, source: string): ModulesInfo {
  const pci: AliasLine[] = [];
  for (const line of text.split("\n")) {
    if (!line.startsWith("alias pci:")) continue;
    const f = line.split(" ");
    if (f.length >= 3) pci.push({ pattern: f[1]!, module: f[2]! });
  }
  return { source, pciAliases: pci, vfioAliases: scanVfioAliases(text) };
}

export const NO_MODULES: ModulesInfo = { source: null, pciAliases: [], vfioAliases: null };

export interface DeviceRow {
  bus: "pci";
  device: string;
  class: string;
  classname: string;
  id: string;
  modalias: string;
  driver: string | null;
  override: string | null;
  iommuGroup: string | null;
  /** Modules whose "pci:" aliases match (what udev's kmod load would insert). */
  hostModules: string[];
  vfio: VfioChoice & { driver: string | null };
}

export async function listPciDevices(sysfs: SysfsPort, modules: ModulesInfo): Promise<DeviceRow[]> {
  const rows: DeviceRow[] = [];
  if (!(await sysfs.exists("/sys/bus/pci/devices"))) return rows;
  for (const device of await sysfs.list("/sys/bus/pci/devices")) {
    const dp = `/sys/bus/pci/devices/${device}`;
    const cls = ((await readAttrOrNull(sysfs, `${dp}/class`)) ?? "").trim();
    const vendor = ((await readAttrOrNull(sysfs, `${dp}/vendor`)) ?? "").trim().replace(/^0x/, "");
    const dev = ((await readAttrOrNull(sysfs, `${dp}/device`)) ?? "").trim().replace(/^0x/, "");
    const modalias = ((await readAttrOrNull(sysfs, `${dp}/modalias`)) ?? "").trim();
    const st = await readBindState(sysfs, "pci", device);
    let vfio: VfioChoice = VFIO_PCI_FALLBACK;
    if (modules.vfioAliases !== null && modalias.startsWith("pci:")) {
      try {
        vfio = chooseVfioDriver(modules.vfioAliases, parsePciModalias(modalias));
      } catch {
        vfio = VFIO_PCI_FALLBACK;
      }
    }
    const vdrivers = await moduleDrivers(sysfs, vfio.module, "pci");
    rows.push({
      bus: "pci",
      device,
      class: cls,
      classname: pciClassName(cls),
      id: `${vendor}:${dev}`,
      modalias,
      driver: st.driver,
      override: st.override,
      iommuGroup: await readIommuGroup(sysfs, "pci", device),
      hostModules: [...new Set(modules.pciAliases.filter((a) => fnmatch(a.pattern, modalias)).map((a) => a.module))],
      vfio: { ...vfio, driver: vdrivers[0] ?? null },
    });
  }
  return rows;
}
