// PCI identities, ID entries and the kernel's match rules.
// Sources: include/linux/mod_devicetable.h (struct pci_device_id), drivers/pci/pci.h
// (pci_match_one_device), drivers/pci/pci-driver.c (pci_match_id, pci_match_device, pci_uevent),
// drivers/pci/pci-sysfs.c (modalias_show). See shared/reference/kernel.md §2.4, §3.

/** PCI_ANY_ID = (~0) as a __u32. */
export const PCI_ANY_ID = 0xffffffff;
/** enum pci_id_flags: PCI_ID_F_VFIO_DRIVER_OVERRIDE = 1 << 0 (include/linux/mod_devicetable.h). */
export const PCI_ID_F_VFIO_DRIVER_OVERRIDE = 1;

/** What the kernel knows of a PCI function (struct pci_dev's ID fields). */
export interface PciIdentity {
  vendor: number; // u16
  device: number; // u16
  subvendor: number; // u16 (subsystem_vendor)
  subdevice: number; // u16 (subsystem_device)
  class: number; // 24 bit: base class, sub class, prog-if
  revision?: number; // u8
}

/** struct pci_device_id. Fields are __u32; PCI_ANY_ID matches anything. */
export interface PciDeviceId {
  vendor: number;
  device: number;
  subvendor: number;
  subdevice: number;
  class: number;
  classMask: number;
  driverData: number;
  /** override_only flags (PCI_ID_F_VFIO_DRIVER_OVERRIDE); 0 for an ordinary entry. */
  overrideOnly: number;
}

/** PCI_DEVICE(vend, dev): subvendor/subdevice any, no class. */
export function pciDevice(vendor: number, device: number, driverData = 0): PciDeviceId {
  return { vendor, device, subvendor: PCI_ANY_ID, subdevice: PCI_ANY_ID, class: 0, classMask: 0, driverData, overrideOnly: 0 };
}

/** PCI_DRIVER_OVERRIDE_DEVICE_VFIO(vend, dev) (include/linux/pci.h). */
export function pciDriverOverrideDeviceVfio(vendor: number, device: number, driverData = 0): PciDeviceId {
  return { ...pciDevice(vendor, device, driverData), overrideOnly: PCI_ID_F_VFIO_DRIVER_OVERRIDE };
}

/** PCI_DEVICE_CLASS(dev_class, dev_class_mask). */
export function pciDeviceClass(cls: number, classMask: number, driverData = 0): PciDeviceId {
  return { vendor: PCI_ANY_ID, device: PCI_ANY_ID, subvendor: PCI_ANY_ID, subdevice: PCI_ANY_ID, class: cls, classMask, driverData, overrideOnly: 0 };
}

/** PCI_DEVICE_SUB(vend, dev, subvend, subdev). */
export function pciDeviceSub(vendor: number, device: number, subvendor: number, subdevice: number, driverData = 0): PciDeviceId {
  return { vendor, device, subvendor, subdevice, class: 0, classMask: 0, driverData, overrideOnly: 0 };
}

/** The dummy id pci_match_device() returns when driver_override names the driver (pci_device_id_any). */
export const PCI_DEVICE_ID_ANY: Readonly<PciDeviceId> = Object.freeze(pciDevice(PCI_ANY_ID, PCI_ANY_ID));

/** pci_match_one_device() (drivers/pci/pci.h). */
export function pciMatchOneDevice(id: PciDeviceId, dev: PciIdentity): boolean {
  return (
    (id.vendor === PCI_ANY_ID || id.vendor === dev.vendor) &&
    (id.device === PCI_ANY_ID || id.device === dev.device) &&
    (id.subvendor === PCI_ANY_ID || id.subvendor === dev.subvendor) &&
    (id.subdevice === PCI_ANY_ID || id.subdevice === dev.subdevice) &&
    ((id.class ^ dev.class) & id.classMask) >>> 0 === 0
  );
}

/** The table terminator test of pci_match_id(): `!(ids->vendor || ids->subvendor || ids->class_mask)`. */
export function isPciTableTerminator(id: PciDeviceId): boolean {
  return id.vendor === 0 && id.subvendor === 0 && id.classMask === 0;
}

/** pci_match_id(): first entry (from `start`) that matches, stopping at a terminator. Returns its index. */
export function pciMatchId(table: readonly PciDeviceId[], dev: PciIdentity, start = 0): number {
  for (let i = start; i < table.length; i++) {
    const id = table[i]!;
    if (isPciTableTerminator(id)) return -1;
    if (pciMatchOneDevice(id, dev)) return i;
  }
  return -1;
}

/** The driver-side view pci_match_device() needs. `name` is struct device_driver.name. */
export interface PciDriverIds {
  name: string;
  idTable: readonly PciDeviceId[] | null;
  dynids: readonly PciDeviceId[];
}

export type PciMatchVia = "dynid" | "id_table" | "override_any";

export interface PciMatch {
  via: PciMatchVia;
  /** Index into dynids or idTable; -1 for the dummy pci_device_id_any. */
  index: number;
  id: PciDeviceId;
}

/**
 * pci_match_device() (drivers/pci/pci-driver.c, 6.18.y): override check, dynamic ids first, then the
 * static table skipping override_only entries unless an override is set, then the dummy id when the
 * override names this driver. `override` is dev->driver_override (null when unset).
 */
export function pciMatchDevice(drv: PciDriverIds, dev: PciIdentity, override: string | null): PciMatch | null {
  if (override !== null && override !== drv.name) return null;
  for (let i = 0; i < drv.dynids.length; i++) {
    const id = drv.dynids[i]!;
    if (pciMatchOneDevice(id, dev)) return { via: "dynid", index: i, id };
  }
  if (drv.idTable) {
    for (let i = pciMatchId(drv.idTable, dev); i >= 0; i = pciMatchId(drv.idTable, dev, i + 1)) {
      const id = drv.idTable[i]!;
      if (id.overrideOnly !== 0) {
        if (override !== null) return { via: "id_table", index: i, id };
      } else {
        return { via: "id_table", index: i, id };
      }
    }
  }
  if (override !== null) return { via: "override_any", index: -1, id: PCI_DEVICE_ID_ANY };
  return null;
}

const hex = (v: number, width: number): string => (v >>> 0).toString(16).toUpperCase().padStart(width, "0");

/** The device's modalias as pci-sysfs.c modalias_show prints it, without the trailing newline. */
export function pciModalias(dev: PciIdentity): string {
  const c = dev.class >>> 0;
  return (
    `pci:v${hex(dev.vendor, 8)}d${hex(dev.device, 8)}sv${hex(dev.subvendor, 8)}sd${hex(dev.subdevice, 8)}` +
    `bc${hex((c >>> 16) & 0xff, 2)}sc${hex((c >>> 8) & 0xff, 2)}i${hex(c & 0xff, 2)}`
  );
}

/** pci_uevent() variables in the kernel's order. `slot` is pci_name(), e.g. 0000:01:00.0. */
export function pciUeventVars(dev: PciIdentity, slot: string): [string, string][] {
  return [
    ["PCI_CLASS", hex(dev.class, 4)],
    ["PCI_ID", `${hex(dev.vendor, 4)}:${hex(dev.device, 4)}`],
    ["PCI_SUBSYS_ID", `${hex(dev.subvendor, 4)}:${hex(dev.subdevice, 4)}`],
    ["PCI_SLOT_NAME", slot],
    ["MODALIAS", pciModalias(dev)],
  ];
}

/** The sysfs `class` attribute ("0x%06x\n", lower case), without the newline. */
export function pciClassAttr(dev: PciIdentity): string {
  return `0x${(dev.class >>> 0).toString(16).padStart(6, "0")}`;
}

/** The sysfs vendor/device/subsystem_* attributes ("0x%04x\n"), without the newline. */
export function pciIdAttr(v: number): string {
  return `0x${(v >>> 0).toString(16).padStart(4, "0")}`;
}

/** A PCI slot name (domain:bus:dev.fn) as pci_name() prints it: `%04x:%02x:%02x.%d`. */
export const PCI_SLOT_RE = /^[0-9a-f]{4}:[0-9a-f]{2}:[0-1][0-9a-f]\.[0-7]$/;
