// Two details the conformance run against the real Debian 6.1 kernel pinned down:
//  - lib/kobject_uevent.c kobject_uevent_env(): KOBJ_UNBIND events go through zap_modalias_env(), so
//    they carry no MODALIAS (udev must not load modules on unbind); a synthetic event's arguments are
//    SYNTH_ARG_<KEY> (kobject_action_args) and so are not zapped;
//  - drivers/iommu/iommu.c iommu_group_add_device(): /sys/kernel/iommu_groups/<N>/devices/<dev> links,
//    so a device's iommu_group link resolves (test -e follows it).
import { describe, expect, it } from "vitest";
import { newPciDevData } from "../../src/kernel/index.ts";
import { pciDevice } from "../../src/model/pci.ts";
import { machine, NIC, NVME } from "./helpers.ts";

describe("KOBJ_UNBIND: zap_modalias_env", () => {
  it("unbind has no MODALIAS, add and bind keep it", () => {
    const m = machine();
    m.pciModule("e1000e", "e1000e", [pciDevice(NIC.vendor, NIC.device)]);
    m.addPci("0000:01:00.0", NIC);
    expect(m.k.insertModule("e1000e")).toBe(0);
    m.sysfs.writeSync("/sys/bus/pci/drivers/e1000e/unbind", "0000:01:00.0");
    const keys = (action: string): string[] => m.events.find((e) => e.action === action && e.subsystem === "pci")!.env.map(([k]) => k);
    expect(keys("add")).toContain("MODALIAS");
    expect(keys("bind")).toContain("MODALIAS");
    expect(keys("unbind")).toEqual(["ACTION", "DEVPATH", "SUBSYSTEM", "PCI_CLASS", "PCI_ID", "PCI_SUBSYS_ID", "PCI_SLOT_NAME", "SEQNUM"]);
  });

  it("a synthetic unbind loses the bus's MODALIAS but keeps SYNTH_ARG_MODALIAS; change keeps both", () => {
    const m = machine();
    m.addPci("0000:01:00.0", NIC);
    m.sysfs.writeSync("/sys/bus/pci/devices/0000:01:00.0/uevent", "unbind fe4d7c9d-b8c6-4a70-9ef1-3d8a58d18eed MODALIAS=x");
    m.sysfs.writeSync("/sys/bus/pci/devices/0000:01:00.0/uevent", "change fe4d7c9d-b8c6-4a70-9ef1-3d8a58d18eed MODALIAS=x");
    const un = m.events.find((e) => e.action === "unbind")!;
    const ch = m.events.find((e) => e.action === "change")!;
    expect(un.env.some(([k]) => k === "MODALIAS")).toBe(false);
    expect(un.env.filter(([k]) => k.startsWith("SYNTH_"))).toEqual([
      ["SYNTH_UUID", "fe4d7c9d-b8c6-4a70-9ef1-3d8a58d18eed"],
      ["SYNTH_ARG_MODALIAS", "x"],
    ]);
    expect(ch.env.some(([k]) => k === "SYNTH_ARG_MODALIAS")).toBe(true);
    expect(ch.env.find(([k]) => k === "MODALIAS")?.[1]).toMatch(/^pci:v/);
  });
});

describe("/sys/kernel/iommu_groups (iommu_group_add_device)", () => {
  it("each group lists its member devices; a device's iommu_group link resolves", () => {
    const m = machine();
    m.k.deviceAdd({ name: "0000:01:00.0", bus: "pci", parent: m.root, iommuGroup: 7, data: newPciDevData(NIC) });
    m.k.deviceAdd({ name: "0000:01:00.1", bus: "pci", parent: m.root, iommuGroup: 7, data: newPciDevData(NIC) });
    m.k.deviceAdd({ name: "0000:02:00.0", bus: "pci", parent: m.root, iommuGroup: 12, data: newPciDevData(NVME) });
    m.addPci("0000:03:00.0", NVME); // no IOMMU group
    const s = m.sysfs;
    expect(s.listSync("/sys/kernel/iommu_groups")).toEqual(["12", "7"]);
    expect(s.listSync("/sys/kernel/iommu_groups/7/devices")).toEqual(["0000:01:00.0", "0000:01:00.1"]);
    expect(s.readlinkSync("/sys/kernel/iommu_groups/12/devices/0000:02:00.0")).toBe("../../../../devices/pci0000:00/0000:02:00.0");
    expect(s.readlinkSync("/sys/bus/pci/devices/0000:01:00.1/iommu_group")).toBe("../../../kernel/iommu_groups/7");
    expect(s.existsSync("/sys/bus/pci/devices/0000:01:00.1/iommu_group")).toBe(true);
    expect(s.existsSync("/sys/bus/pci/devices/0000:03:00.0/iommu_group")).toBe(false);
    expect(s.readSync("/sys/bus/pci/devices/0000:02:00.0/iommu_group/devices/0000:02:00.0/vendor")).toBe("0x144d\n");
    m.k.deviceDel(m.k.device("pci", "0000:02:00.0"));
    expect(s.listSync("/sys/kernel/iommu_groups")).toEqual(["7"]);
  });
});
