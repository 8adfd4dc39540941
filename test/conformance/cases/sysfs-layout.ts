// The sysfs layout binding tools read (drivers/base/bus.c, dd.c driver_sysfs_add, module.c
// module_add_driver; kernel/module/sysfs.c): driver directories and their device links, the driver,
// subsystem and module links with their relative targets, /sys/module initstate and refcnt.
import type { Case, MachineKind } from "../case-format.ts";
import { E1000, E1000E, EDU2, VIRTIO0, cases, dev, link, list, modprobe, pci, pdrv, read, rmmod, unbind, write } from "./devices.ts";

export function sysfsLayoutCases(machine: MachineKind): Case[] {
  return cases(machine, "sysfs", [
    { name: "pci-drivers", title: "the PCI drivers registered after coldplug (built-in and modules)", steps: [list("/sys/bus/pci/drivers")] },
    { name: "virtio-drivers", title: "the virtio drivers", steps: [list("/sys/bus/virtio/drivers")] },
    { name: "pci-driver-dir", title: "a PCI driver directory: bind, module, new_id, remove_id, uevent, unbind and the bound device", steps: [list(pdrv("e1000", ""))] },
    { name: "virtio-driver-dir", title: "a virtio driver directory", steps: [list("/sys/bus/virtio/drivers/virtio_net")] },
    {
      name: "stub-driver-dir",
      title: "pci-stub's directory before and after new_id bound two devices",
      steps: [modprobe("pci_stub"), list(pdrv("pci-stub", "")), write(pdrv("pci-stub", "new_id"), "1234 11e8"), list(pdrv("pci-stub", ""))],
      cleanup: [unbind("pci-stub", "0000:00:09.0"), unbind("pci-stub", EDU2), rmmod("pci_stub")],
    },
    {
      name: "driver-links",
      title: "driver link targets at depths 1 and 2 and on the virtio bus",
      steps: [link(pci(E1000, "driver")), link(pci(E1000E, "driver")), link(dev(VIRTIO0, "driver"))],
    },
    {
      name: "subsystem-links",
      title: "subsystem links of devices and the device links in a driver directory",
      steps: [link(pci(E1000, "subsystem")), link(pci(EDU2, "subsystem")), link(dev(VIRTIO0, "subsystem")), link(pdrv("e1000", E1000)), link(pdrv("e1000e", E1000E))],
    },
    {
      name: "module-links",
      title: "a driver's module link and the module's drivers directory",
      steps: [link(pdrv("e1000", "module")), list("/sys/module/e1000/drivers"), list("/sys/module/virtio_net/drivers"), link("/sys/module/e1000/drivers/pci:e1000")],
    },
    {
      name: "module-state",
      title: "/sys/module/<m>/initstate and refcnt (holders count)",
      steps: [
        read("/sys/module/e1000/initstate"), read("/sys/module/e1000/refcnt"), read("/sys/module/virtio/refcnt"),
        read("/sys/module/virtio_ring/refcnt"), read("/sys/module/nvme_core/refcnt"), read("/sys/module/pci_stub/initstate"),
      ],
    },
  ]);
}
