// vfio-pci (drivers/vfio/pci/vfio_pci.c vfio_pci_probe → vfio_pci_core_register_device, which needs
// an IOMMU group: without one vfio_group_find_or_alloc fails and the probe returns -EINVAL), its
// override-only ID table (PCI_DRIVER_OVERRIDE_DEVICE_VFIO(PCI_ANY_ID, PCI_ANY_ID)), ids= parameter,
// and probe failure falling through to the next driver (__device_attach_driver ignores ->probe errors).
import type { Case, MachineKind } from "../case-format.ts";
import {
  E1000, EDU, EDU2, bind, cases, clearOverride, driver, exists, link, loaded, modprobe, override, pci, pdrv, probe, rmmod, unbind, write,
} from "./devices.ts";

const vfioOff = [unbind("vfio-pci", EDU), unbind("vfio-pci", EDU2), clearOverride(EDU), clearOverride(EDU2), rmmod("vfio_pci"), rmmod("vfio_pci_core"), rmmod("vfio_iommu_type1"), rmmod("vfio"), rmmod("vfio_virqfd"), rmmod("irqbypass")];

export function vfioCases(machine: MachineKind): Case[] {
  return cases(machine, "vfio", [
    {
      name: "modprobe-loads-deps-and-softdep",
      title: "modprobe vfio_pci loads its modules.dep closure (vfio_pci_core, vfio, vfio_virqfd, irqbypass); vfio_iommu_type1 only if a softdep asks for it",
      steps: [modprobe("vfio_pci"), loaded("vfio_pci", "vfio_pci_core", "vfio", "vfio_virqfd", "irqbypass", "vfio_iommu_type1")],
      cleanup: vfioOff,
    },
    {
      name: "override-only-table",
      title: "vfio-pci's ANY/ANY entry is override_only: loading it binds nothing",
      steps: [modprobe("vfio_pci"), driver(EDU), driver(EDU2)],
      cleanup: vfioOff,
    },
    {
      name: "override-bind",
      title: "driver_override vfio-pci + drivers_probe: bound with an IOMMU group, unbound without (probe -EINVAL)",
      steps: [modprobe("vfio_pci"), override(EDU, "vfio-pci"), probe(EDU), driver(EDU), exists(pci(EDU, "iommu_group"))],
      cleanup: vfioOff,
    },
    {
      name: "bind-attr",
      title: "driver_override vfio-pci + bind: the probe's result is bind's result",
      steps: [modprobe("vfio_pci"), override(EDU, "vfio-pci"), bind("vfio-pci", EDU), driver(EDU)],
      cleanup: vfioOff,
    },
    {
      name: "iommu-group-link",
      title: "the iommu_group link of a device and of one behind a conventional PCI bridge",
      steps: [link(pci(EDU, "iommu_group")), link(pci(EDU2, "iommu_group")), link(pci(E1000, "iommu_group"))],
    },
    {
      name: "move-e1000",
      title: "moving a bound NIC to vfio-pci and back",
      steps: [modprobe("vfio_pci"), override(E1000, "vfio-pci"), unbind("e1000", E1000), probe(E1000), driver(E1000), unbind("vfio-pci", E1000), clearOverride(E1000), probe(E1000), driver(E1000)],
      cleanup: [unbind("vfio-pci", E1000), clearOverride(E1000), probe(E1000), ...vfioOff],
    },
    {
      name: "new-id",
      title: "new_id on vfio-pci (not -EEXIST: the scratch device has no override) binds matching unbound devices if the probe succeeds",
      steps: [modprobe("vfio_pci"), write(pdrv("vfio-pci", "new_id"), "1234 11e8"), driver(EDU), driver(EDU2)],
      cleanup: vfioOff,
    },
    {
      name: "ids-param",
      title: "vfio_pci ids=1234:11e8 (vfio_pci_fill_ids → pci_add_dynid)",
      steps: [modprobe("vfio_pci", "ids=1234:11e8"), driver(EDU), driver(EDU2)],
      cleanup: vfioOff,
    },
    {
      name: "fall-through",
      title: "drivers_probe tries vfio-pci first (registered first); if its probe fails pci-stub gets the device",
      steps: [
        modprobe("vfio_pci"), modprobe("pci_stub"), write(pdrv("vfio-pci", "new_id"), "1234 11e8"), driver(EDU),
        write(pdrv("pci-stub", "new_id"), "1234 11e8"), driver(EDU), unbind("vfio-pci", EDU), unbind("pci-stub", EDU), probe(EDU), driver(EDU),
      ],
      cleanup: [unbind("pci-stub", EDU), unbind("pci-stub", EDU2), rmmod("pci_stub"), ...vfioOff],
    },
    {
      name: "rmmod-vfio-in-use",
      title: "vfio is used by vfio_pci_core: delete_module is -EWOULDBLOCK (EAGAIN)",
      steps: [modprobe("vfio_pci"), rmmod("vfio"), rmmod("vfio_pci_core")],
      cleanup: vfioOff,
    },
    {
      name: "rmmod-while-bound",
      title: "unloading vfio_pci with a bound device unbinds it (driver_unregister)",
      steps: [modprobe("vfio_pci"), override(EDU, "vfio-pci"), probe(EDU), rmmod("vfio_pci"), driver(EDU), loaded("vfio_pci")],
      cleanup: vfioOff,
    },
  ]);
}
