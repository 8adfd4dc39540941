// scripts/mod/file2alias.c (Linux 6.1): do_pci_entry, do_of_entry_multi, do_acpi_entry, do_platform_entry,
// do_virtio_entry. Expected strings are lines of the real Debian 6.1 modules.alias (data/debian) where
// the entry is known, otherwise derived by hand from the C code cited in each row.
import { describe, expect, it } from "vitest";
import { acpiId, type AcpiDeviceId } from "../../src/model/acpi.ts";
import { KbindError } from "../../src/model/errors.ts";
import { acpiAliases, ofAliases, pciAliases, platformAliases, usbAliases, virtioAliases } from "../../src/model/file2alias.ts";
import { ofCompatible } from "../../src/model/of.ts";
import { PCI_ANY_ID, pciDevice, pciDeviceClass, pciDeviceSub, pciDriverOverrideDeviceVfio, type PciDeviceId } from "../../src/model/pci.ts";
import { VIRTIO_DEV_ANY_ID } from "../../src/model/virtio.ts";

describe("do_pci_entry (file2alias.c)", () => {
  const rows: [string, PciDeviceId, string[]][] = [
    ["PCI_DEVICE(0x106b, 0x2005): nvme, real modules.alias", pciDevice(0x106b, 0x2005), ["pci:v0000106Bd00002005sv*sd*bc*sc*i*"]],
    ["PCI_DEVICE_CLASS(0x010802, 0xffffff): nvme, real modules.alias", pciDeviceClass(0x010802, 0xffffff), ["pci:v*d*sv*sd*bc01sc08i02*"]],
    ["PCI_DEVICE_SUB: mhi_pci_generic, real modules.alias", pciDeviceSub(0x17cb, 0x0308, 0x1c5d, 0x2015), ["pci:v000017CBd00000308sv00001C5Dsd00002015bc*sc*i*"]],
    ["PCI_DRIVER_OVERRIDE_DEVICE_VFIO(PCI_ANY_ID, PCI_ANY_ID): vfio_pci, real modules.alias", pciDriverOverrideDeviceVfio(PCI_ANY_ID, PCI_ANY_ID), ["vfio_pci:v*d*sv*sd*bc*sc*i*"]],
    ["PCI_DRIVER_OVERRIDE_DEVICE_VFIO(0x15b3, 0x1021): mlx5_vfio_pci (commit cc6711b0bf36)", pciDriverOverrideDeviceVfio(0x15b3, 0x1021), ["vfio_pci:v000015B3d00001021sv*sd*bc*sc*i*"]],
    ["class mask 0xffff00: interface is *, no extra * (add_wildcard)", pciDeviceClass(0x0c0330, 0xffff00), ["pci:v*d*sv*sd*bc0Csc03i*"]],
    ["class mask 0xff0000: base class only", pciDeviceClass(0x030000, 0xff0000), ["pci:v*d*sv*sd*bc03sc*i*"]],
    ["class mask 0xff00ff: a hole is fine, each byte is 00 or FF", pciDeviceClass(0x010001, 0xff00ff), ["pci:v*d*sv*sd*bc01sc*i01*"]],
    ["class mask 0xfffff0: \"Can't handle masks\", no alias", pciDeviceClass(0x0c0330, 0xfffff0), []],
    ["class mask 0x00ff80: no alias", pciDeviceClass(0x0c0330, 0x00ff80), []],
    ["override_only 2: \"Unknown PCI driver_override alias\", no alias (6.1 returns 0)", { ...pciDevice(1, 2), overrideOnly: 2 }, []],
    ["vendor 0x10000 is not PCI_ANY_ID: printed as %08X", pciDevice(0x10000, 1), ["pci:v00010000d00000001sv*sd*bc*sc*i*"]],
    ["class bits above 24 are dropped by the u8 casts", pciDeviceClass(0x7f020000, 0xffff0000), ["pci:v*d*sv*sd*bc02sc*i*"]],
  ];
  it.each(rows)("%s", (_why, id, want) => {
    expect(pciAliases(id)).toEqual(want);
  });

  it("rejects fields that are not __u32 with a typed error", () => {
    expect(() => pciAliases({ ...pciDevice(1, 2), vendor: -1 })).toThrow(KbindError);
    expect(() => pciAliases({ ...pciDevice(1, 2), device: 2 ** 32 })).toThrow(KbindError);
    expect(() => pciAliases({ ...pciDevice(1, 2), class: 1.5 })).toThrow(KbindError);
  });
});

describe("do_of_entry_multi (file2alias.c)", () => {
  it.each([
    ["compatible only: virtio_mmio, real modules.alias", ofCompatible("virtio,mmio"), ["of:N*T*Cvirtio,mmio", "of:N*T*Cvirtio,mmioC*"]],
    ["type + compatible: ipmi_si, real modules.alias", { name: "", type: "ipmi", compatible: "ipmi-bt" }, ["of:N*Tipmi*Cipmi-bt", "of:N*Tipmi*Cipmi-btC*"]],
    ["name only", { name: "chosen", type: "", compatible: "" }, ["of:NchosenT*", "of:NchosenT*C*"]],
    ["name + type, no compatible", { name: "cpu", type: "cpu", compatible: "" }, ["of:NcpuTcpu", "of:NcpuTcpuC*"]],
    ["whitespace (isspace) becomes _", { name: "", type: "", compatible: "acme foo\tbar" }, ["of:N*T*Cacme_foo_bar", "of:N*T*Cacme_foo_barC*"]],
  ])("%s", (_why, id, want) => {
    expect(ofAliases(id)).toEqual(want);
  });

  it("a compatible longer than of_device_id.compatible[128] is a typed error naming offset 127", () => {
    try {
      ofAliases(ofCompatible("x".repeat(128)));
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(KbindError);
      expect((e as KbindError).code).toBe("BAD_ID_STRING");
      expect((e as KbindError).location.offset).toBe(127);
    }
    expect(ofAliases(ofCompatible("x".repeat(127)))[0]).toBe("of:N*T*C" + "x".repeat(127));
  });

  it("a NUL inside a field is a typed error at its offset", () => {
    try {
      ofAliases(ofCompatible("ab\0c"));
      expect.unreachable();
    } catch (e) {
      expect((e as KbindError).location.offset).toBe(2);
    }
  });
});

describe("do_acpi_entry (file2alias.c)", () => {
  it.each([
    ["id: virtio_mmio LNRO0005, real modules.alias", acpiId("LNRO0005"), ["acpi*:LNRO0005:*"]],
    ["class, full mask: ahci_platform ACPI_DEVICE_CLASS(0x010601, 0xffffff), real arm64 modules.alias", { id: "", cls: 0x010601, clsMask: 0xffffff }, ["acpi*:010601:*"]],
    ["class, zero mask bytes print ??, hex is lower-case", { id: "", cls: 0x0c03fe, clsMask: 0xffff00 }, ["acpi*:0c03??:*"]],
  ] as [string, AcpiDeviceId, string[]][])("%s", (_why, id, want) => {
    expect(acpiAliases(id)).toEqual(want);
  });
});

describe("do_platform_entry / do_virtio_entry (file2alias.c)", () => {
  it("platform: PLATFORM_MODULE_PREFIX + name, no wildcard (gpio_amd_fch, real modules.alias)", () => {
    expect(platformAliases({ name: "gpio_amd_fch", driverData: 0 })).toEqual(["platform:gpio_amd_fch"]);
    expect(() => platformAliases({ name: "n".repeat(24), driverData: 0 })).toThrow(KbindError);
  });

  it("virtio: d %08X, v * for VIRTIO_DEV_ANY_ID, then a wildcard (virtio_blk, real modules.alias)", () => {
    expect(virtioAliases({ device: 2, vendor: VIRTIO_DEV_ANY_ID })).toEqual(["virtio:d00000002v*"]);
    expect(virtioAliases({ device: 1, vendor: 0x1af4 })).toEqual(["virtio:d00000001v00001AF4*"]);
    expect(virtioAliases({ device: VIRTIO_DEV_ANY_ID, vendor: VIRTIO_DEV_ANY_ID })).toEqual(["virtio:d*v*"]);
  });
});

describe("do_usb_entry_multi (file2alias.c): bcdDevice ranges become fnmatch patterns", () => {
  const base = { matchFlags: 0, idVendor: 0, idProduct: 0, bcdDeviceLo: 0, bcdDeviceHi: 0, bDeviceClass: 0, bDeviceSubClass: 0, bDeviceProtocol: 0, bInterfaceClass: 0, bInterfaceSubClass: 0, bInterfaceProtocol: 0, bInterfaceNumber: 0 };
  it("USB_DEVICE_AND_INTERFACE_INFO with bcdDevice <= 0x0126: uvcvideo's real alias comes first", () => {
    // USB_DEVICE_ID_MATCH_VENDOR | PRODUCT | DEV_HI | INT_CLASS | INT_SUBCLASS | INT_PROTOCOL
    const id = { ...base, matchFlags: 0x0001 | 0x0002 | 0x0008 | 0x0080 | 0x0100 | 0x0200, idVendor: 0x19ab, idProduct: 0x1000, bcdDeviceHi: 0x0126, bInterfaceClass: 0x0e, bInterfaceSubClass: 1 };
    expect(usbAliases(id)).toEqual([
      "usb:v19ABp1000d012[0-6]dc*dsc*dp*ic0Eisc01ip00in*",
      "usb:v19ABp1000d01[0-1]*dc*dsc*dp*ic0Eisc01ip00in*",
      "usb:v19ABp1000d00*dc*dsc*dp*ic0Eisc01ip00in*",
    ]);
  });
  it("USB_DEVICE: no range, one alias", () => {
    expect(usbAliases({ ...base, matchFlags: 3, idVendor: 0x046d, idProduct: 0xc52b })).toEqual(["usb:v046DpC52Bd*dc*dsc*dp*ic*isc*ip*in*"]);
  });
  it("an all-zero placeholder entry (visor) has no alias", () => {
    expect(usbAliases({ ...base, matchFlags: 3 })).toEqual([]);
  });
  it("fields that are not __u16/__u8 are typed errors", () => {
    expect(() => usbAliases({ ...base, idVendor: 0x10000 })).toThrow(KbindError);
    expect(() => usbAliases({ ...base, bInterfaceClass: 256 })).toThrow(KbindError);
  });
});
