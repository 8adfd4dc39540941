// PCI: drivers/pci/pci.h pci_match_one_device, pci-driver.c pci_match_id / pci_match_device (override,
// dynids, override_only, pci_device_id_any), pci-sysfs.c modalias_show, pci-driver.c pci_uevent.
import { describe, expect, it } from "vitest";
import {
  PCI_ANY_ID,
  pciClassAttr,
  pciDevice,
  pciDeviceClass,
  pciDeviceSub,
  pciDriverOverrideDeviceVfio,
  pciIdAttr,
  pciMatchDevice,
  pciMatchId,
  pciMatchOneDevice,
  pciModalias,
  pciUeventVars,
  type PciIdentity,
} from "../../src/model/pci.ts";

const e1000: PciIdentity = { vendor: 0x8086, device: 0x100e, subvendor: 0x8086, subdevice: 0x001e, class: 0x020000 };
const nvme: PciIdentity = { vendor: 0x144d, device: 0xa808, subvendor: 0x144d, subdevice: 0xa801, class: 0x010802 };

describe("pci_match_one_device (drivers/pci/pci.h)", () => {
  it.each([
    ["PCI_DEVICE exact", pciDevice(0x8086, 0x100e), e1000, true],
    ["PCI_DEVICE other device", pciDevice(0x8086, 0x100f), e1000, false],
    ["PCI_DEVICE_SUB exact", pciDeviceSub(0x8086, 0x100e, 0x8086, 0x001e), e1000, true],
    ["PCI_DEVICE_SUB wrong subdevice", pciDeviceSub(0x8086, 0x100e, 0x8086, 0x001f), e1000, false],
    ["PCI_DEVICE_CLASS full mask", pciDeviceClass(0x010802, 0xffffff), nvme, true],
    ["PCI_DEVICE_CLASS base+sub only", pciDeviceClass(0x010800, 0xffff00), nvme, true],
    ["class mask bits outside bytes: 0x0000f0 compares prog-if high nibble", pciDeviceClass(0x000000, 0x0000f0), nvme, true],
    ["class mask 0x00000f: prog-if low nibble 2 != 0", pciDeviceClass(0x000000, 0x00000f), nvme, false],
    ["class_mask 0 ignores class", { ...pciDevice(0x144d, 0xa808), class: 0x030000 }, nvme, true],
    ["vendor 0x10000 never equals a u16 vendor", pciDevice(0x10000 + 0x8086, 0x100e), e1000, false],
  ])("%s", (_w, id, dev, want) => {
    expect(pciMatchOneDevice(id, dev)).toBe(want);
  });
});

describe("pci_match_id / pci_match_device (drivers/pci/pci-driver.c)", () => {
  it("pci_match_id stops at the terminator !(vendor || subvendor || class_mask)", () => {
    const term = { ...pciDevice(0, 0), subvendor: 0, subdevice: 0 };
    expect(pciMatchId([pciDevice(1, 2), term, pciDevice(0x8086, 0x100e)], e1000)).toBe(-1);
    expect(pciMatchId([pciDevice(1, 2), pciDevice(0x8086, 0x100e)], e1000)).toBe(1);
  });

  const drv = { name: "e1000", idTable: [pciDevice(0x8086, 0x100e)], dynids: [] };
  it("an override naming another driver prevents any match", () => {
    expect(pciMatchDevice(drv, e1000, "vfio-pci")).toBeNull();
  });
  it("dynamic ids come before the static table", () => {
    const m = pciMatchDevice({ ...drv, dynids: [pciDevice(0x8086, PCI_ANY_ID)] }, e1000, null);
    expect(m).toMatchObject({ via: "dynid", index: 0 });
  });
  it("override_only entries match only when driver_override is set (to this driver)", () => {
    const vfio = { name: "mlx5_vfio_pci", idTable: [pciDriverOverrideDeviceVfio(0x8086, 0x100e)], dynids: [] };
    expect(pciMatchDevice(vfio, e1000, null)).toBeNull();
    expect(pciMatchDevice(vfio, e1000, "mlx5_vfio_pci")).toMatchObject({ via: "id_table", index: 0 });
  });
  it("an override_only entry is skipped and a later ordinary entry still matches without override", () => {
    const d = { name: "x", idTable: [pciDriverOverrideDeviceVfio(0x8086, 0x100e), pciDevice(0x8086, PCI_ANY_ID)], dynids: [] };
    expect(pciMatchDevice(d, e1000, null)).toMatchObject({ via: "id_table", index: 1 });
  });
  it("driver_override naming the driver matches even without any id (pci_device_id_any)", () => {
    expect(pciMatchDevice({ name: "vfio-pci", idTable: null, dynids: [] }, e1000, "vfio-pci")).toMatchObject({ via: "override_any", index: -1 });
  });
});

describe("modalias_show (pci-sysfs.c) and pci_uevent (pci-driver.c)", () => {
  it("prints the kernel's modalias (upper-case %08X/%02X)", () => {
    expect(pciModalias(e1000)).toBe("pci:v00008086d0000100Esv00008086sd0000001Ebc02sc00i00");
    expect(pciModalias({ vendor: 0x15b3, device: 0x1021, subvendor: 0x15b3, subdevice: 1, class: 0x020000 })).toBe(
      "pci:v000015B3d00001021sv000015B3sd00000001bc02sc00i00", // example of commit cc6711b0bf36
    );
  });
  it("uevent variables in order; PCI_CLASS is %04X of the 24-bit class", () => {
    expect(pciUeventVars(e1000, "0000:00:03.0")).toEqual([
      ["PCI_CLASS", "20000"],
      ["PCI_ID", "8086:100E"],
      ["PCI_SUBSYS_ID", "8086:001E"],
      ["PCI_SLOT_NAME", "0000:00:03.0"],
      ["MODALIAS", "pci:v00008086d0000100Esv00008086sd0000001Ebc02sc00i00"],
    ]);
  });
  it("sysfs class is 0x%06x and ids 0x%04x (lower case)", () => {
    expect(pciClassAttr(nvme)).toBe("0x010802");
    expect(pciIdAttr(0x100e)).toBe("0x100e");
  });
});
