// OF: drivers/of/base.c __of_device_is_compatible / __of_match_node, of_modalias (drivers/of/device.c in
// 6.1), of_device_uevent. ACPI: drivers/acpi/bus.c __acpi_match_device / __acpi_match_device_cls /
// acpi_of_match_device, device_sysfs.c create_pnp_modalias / create_of_modalias /
// __acpi_device_uevent_modalias. Platform: drivers/base/platform.c platform_match / modalias_show /
// platform_uevent. virtio: drivers/virtio/virtio.c virtio_dev_match / virtio_uevent.
import { describe, expect, it } from "vitest";
import { acpiId, acpiMatchDevice, acpiModaliases, acpiUeventModaliases, type AcpiNode } from "../../src/model/acpi.ts";
import { ofCompatible, ofDeviceIsCompatible, ofMatchNode, ofModalias, ofNodeName, ofUeventVars, type OfNode } from "../../src/model/of.ts";
import { platformMatch, platformModaliases, platformUeventModaliases, type PlatformIdentity } from "../../src/model/platform.ts";
import { VIRTIO_DEV_ANY_ID, virtioMatch, virtioModalias, virtioUeventVars } from "../../src/model/virtio.ts";

const INT_MAX_2 = Math.floor(0x7fffffff / 2);
const uart: OfNode = { fullName: "/soc/serial@1c28000", type: null, compatible: ["allwinner,sun50i-a64-uart", "snps,dw-apb-uart"] };

describe("__of_device_is_compatible / __of_match_node (drivers/of/base.c)", () => {
  it("scores INT_MAX/2 - (index << 2), case-insensitively (of_compat_cmp = strcasecmp)", () => {
    expect(ofDeviceIsCompatible(uart, "allwinner,sun50i-a64-uart", "", "")).toBe(INT_MAX_2);
    expect(ofDeviceIsCompatible(uart, "SNPS,DW-APB-UART", "", "")).toBe(INT_MAX_2 - 4);
    expect(ofDeviceIsCompatible(uart, "ns16550a", "", "")).toBe(0);
  });
  it("type adds 2 and must equal device_type exactly; name adds 1 (unit address stripped)", () => {
    const cpu: OfNode = { fullName: "/cpus/cpu@0", type: "cpu", compatible: ["arm,cortex-a53"] };
    expect(ofDeviceIsCompatible(cpu, "arm,cortex-a53", "cpu", "cpu")).toBe(INT_MAX_2 + 3);
    expect(ofDeviceIsCompatible(cpu, "", "cpu", "")).toBe(2);
    expect(ofDeviceIsCompatible(cpu, "", "CPU", "")).toBe(0);
    expect(ofDeviceIsCompatible(cpu, "", "", "cpu")).toBe(1);
    expect(ofDeviceIsCompatible(uart, "", "serial", "")).toBe(0); // no device_type property
    expect(ofNodeName(cpu)).toBe("cpu");
  });
  it("the best score over the whole table wins; ties keep the first entry", () => {
    const table = [ofCompatible("snps,dw-apb-uart"), ofCompatible("allwinner,sun50i-a64-uart"), ofCompatible("ALLWINNER,sun50i-a64-uart")];
    expect(ofMatchNode(table, uart)).toMatchObject({ index: 1, score: INT_MAX_2 });
  });
  it("the table ends at the first all-empty entry", () => {
    expect(ofMatchNode([{ name: "", type: "", compatible: "" }, ofCompatible("snps,dw-apb-uart")], uart)).toBeNull();
  });
});

describe("of_modalias / of_device_uevent", () => {
  it("no device_type prints T(null); spaces in compatibles become _", () => {
    expect(ofModalias(uart)).toBe("of:NserialT(null)Callwinner,sun50i-a64-uartCsnps,dw-apb-uart");
    expect(ofModalias({ fullName: "/x/a b@1", type: "t", compatible: ["acme a b"] })).toBe("of:Na bTtCacme_a_b");
  });
  it("uevent variables in the kernel's order, OF_TYPE only with a device_type", () => {
    expect(ofUeventVars(uart)).toEqual([
      ["OF_NAME", "serial"],
      ["OF_FULLNAME", "/soc/serial@1c28000"],
      ["OF_COMPATIBLE_0", "allwinner,sun50i-a64-uart"],
      ["OF_COMPATIBLE_1", "snps,dw-apb-uart"],
      ["OF_COMPATIBLE_N", "2"],
    ]);
  });
});

const acpiUart: AcpiNode = { ids: ["INT33C4", "PNP0501"], present: true, name: "UAR0", ofCompatible: [] };
const prpOnly: AcpiNode = { ids: ["PRP0001"], present: true, name: "ABCD", ofCompatible: ["acme,foo bar", "acme,generic"] };

describe("ACPI matching (drivers/acpi/bus.c)", () => {
  it("ids are tried in the device's order (_HID, then _CIDs), then the table's", () => {
    expect(acpiMatchDevice(acpiUart, [acpiId("PNP0501"), acpiId("INT33C4")], null)).toEqual({ via: "acpi_id", hwid: "INT33C4", index: 1 });
  });
  it("strcmp is case-sensitive for ACPI ids", () => {
    expect(acpiMatchDevice(acpiUart, [acpiId("pnp0501")], null)).toBeNull();
  });
  it("a not-present device never matches through the ACPI table", () => {
    expect(acpiMatchDevice({ ...acpiUart, present: false }, [acpiId("PNP0501")], null)).toBeNull();
  });
  it("__acpi_match_device_cls: class bytes against the hwid's hex; cls 0 never, mask 0 always", () => {
    const ahci: AcpiNode = { ids: ["010601"], present: true, name: "SATA", ofCompatible: [] };
    expect(acpiMatchDevice(ahci, [{ id: "", cls: 0x010601, clsMask: 0xffffff }], null)).toMatchObject({ via: "acpi_id" });
    expect(acpiMatchDevice(ahci, [{ id: "", cls: 0x010600, clsMask: 0xffff00 }], null)).toMatchObject({ via: "acpi_id" });
    expect(acpiMatchDevice(ahci, [{ id: "", cls: 0x010602, clsMask: 0xffffff }], null)).toBeNull();
    expect(acpiMatchDevice(ahci, [{ id: "", cls: 0x999999, clsMask: 0 }], null)).toMatchObject({ via: "acpi_id" });
  });
  it("the ACPI table ends at `!id[0] && !cls` (cls_msk is not looked at)", () => {
    expect(acpiMatchDevice(acpiUart, [{ id: "", cls: 0, clsMask: 0xff }, acpiId("PNP0501")], null)).toBeNull();
  });
  it("PRP0001: the _DSD compatible is matched against the OF table by strcasecmp, first hit, no scoring", () => {
    const of = [{ name: "x", type: "", compatible: "ACME,GENERIC" }, ofCompatible("acme,foo bar")];
    expect(acpiMatchDevice(prpOnly, [acpiId("XYZ0001")], of)).toEqual({ via: "prp0001", compatible: "acme,foo bar", index: 1 });
    expect(acpiMatchDevice(prpOnly, null, of)).toEqual({ via: "prp0001", compatible: "acme,foo bar", index: 1 });
  });
  it("acpi_of_match_device stops at the first OF entry with an empty compatible", () => {
    expect(acpiMatchDevice(prpOnly, null, [{ name: "n", type: "", compatible: "" }, ofCompatible("acme,generic")])).toBeNull();
  });
  it("without PRP0001 among the ids there is no of_compatible, so no OF-table match", () => {
    expect(acpiMatchDevice({ ...acpiUart, ofCompatible: ["acme,generic"] }, null, [ofCompatible("acme,generic")])).toBeNull();
  });
  it("without an ACPI table the PRP0001 path has no presence check (acpi_driver_match_device)", () => {
    expect(acpiMatchDevice({ ...prpOnly, present: false }, null, [ofCompatible("acme,generic")])).toMatchObject({ via: "prp0001" });
  });
});

describe("ACPI modalias (drivers/acpi/device_sysfs.c)", () => {
  it("create_pnp_modalias: every id but PRP0001, each followed by ':'", () => {
    expect(acpiModaliases(acpiUart)).toEqual(["acpi:INT33C4:PNP0501:"]);
    expect(acpiModaliases({ ...acpiUart, ids: ["IBM0001", "PRP0001", "ACPI0001"], ofCompatible: ["a,b"] })).toEqual(["acpi:IBM0001:ACPI0001:", "of:Nuar0TCa,b"]);
  });
  it("PRP0001 alone: only the OF form, name lower-cased, empty type, spaces kept (create_of_modalias)", () => {
    expect(acpiModaliases(prpOnly)).toEqual(["of:NabcdTCacme,foo barCacme,generic"]);
    expect(acpiUeventModaliases(prpOnly)).toEqual(["of:NabcdTCacme,foo barCacme,generic"]);
  });
  it("not present: no pnp line, but the OF form is still produced; the uevent still has MODALIAS=", () => {
    expect(acpiModaliases({ ...acpiUart, present: false })).toEqual([]);
    expect(acpiUeventModaliases({ ...acpiUart, present: false })).toEqual([""]);
    expect(acpiModaliases({ ...prpOnly, ids: ["ACME0001", "PRP0001"], present: false })).toEqual(["of:NabcdTCacme,foo barCacme,generic"]);
  });
  it("both forms give two MODALIAS= variables", () => {
    expect(acpiUeventModaliases({ ...prpOnly, ids: ["ACME0001", "PRP0001"] })).toEqual(["acpi:ACME0001:", "of:NabcdTCacme,foo barCacme,generic"]);
  });
});

describe("platform_match / modalias_show / platform_uevent (drivers/base/platform.c)", () => {
  const dev: PlatformIdentity = { name: "1c28000.serial", of: uart, acpi: null };
  const drv = { name: "dw-apb-uart", ofMatchTable: [ofCompatible("snps,dw-apb-uart")], acpiMatchTable: null, idTable: [{ name: "1c28000.serial", driverData: 0 }] };
  it("driver_override decides alone", () => {
    expect(platformMatch(drv, dev, "other")).toBeNull();
    expect(platformMatch({ ...drv, ofMatchTable: null, idTable: null }, dev, "dw-apb-uart")).toEqual({ via: "override" });
  });
  it("OF first, then ACPI, then id_table, and the name only without an id_table", () => {
    expect(platformMatch(drv, dev, null)).toMatchObject({ via: "of" });
    expect(platformMatch({ ...drv, ofMatchTable: null }, dev, null)).toEqual({ via: "id_table", index: 0 });
    expect(platformMatch({ ...drv, ofMatchTable: null, idTable: [{ name: "x", driverData: 0 }] }, { ...dev, name: "dw-apb-uart" }, null)).toBeNull();
    expect(platformMatch({ ...drv, ofMatchTable: null, idTable: null }, { ...dev, name: "dw-apb-uart" }, null)).toEqual({ via: "name" });
    const acpiDev: PlatformIdentity = { name: "INT33C4:00", of: null, acpi: acpiUart };
    expect(platformMatch({ ...drv, ofMatchTable: null, acpiMatchTable: [acpiId("INT33C4")] }, acpiDev, null)).toMatchObject({ via: "acpi" });
  });
  it("modalias: OF, else ACPI (even empty), else platform:<name>", () => {
    expect(platformModaliases(dev)).toEqual([ofModalias(uart)]);
    expect(platformModaliases({ name: "serial8250", of: null, acpi: null })).toEqual(["platform:serial8250"]);
    const gone: PlatformIdentity = { name: "INT33C4:00", of: null, acpi: { ...acpiUart, present: false } };
    expect(platformModaliases(gone)).toEqual([]);
    expect(platformUeventModaliases(gone)).toEqual([""]);
    expect(platformModaliases({ name: "x", of: null, acpi: { ...acpiUart, ids: [] } })).toEqual(["platform:x"]);
  });
});

describe("virtio (drivers/virtio/virtio.c)", () => {
  it("virtio_id_match / modalias / uevent", () => {
    const blk = { device: 2, vendor: 0x1af4 };
    expect(virtioMatch([{ device: 1, vendor: VIRTIO_DEV_ANY_ID }, { device: 2, vendor: VIRTIO_DEV_ANY_ID }], blk)).toBe(1);
    expect(virtioMatch([{ device: 0, vendor: 0 }, { device: 2, vendor: VIRTIO_DEV_ANY_ID }], blk)).toBe(-1);
    expect(virtioModalias(blk)).toBe("virtio:d00000002v00001AF4");
    expect(virtioUeventVars(blk)).toEqual([["MODALIAS", "virtio:d00000002v00001AF4"]]);
  });
});
