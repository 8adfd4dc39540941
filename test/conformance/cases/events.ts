// The uevents the kernel sends (lib/kobject_uevent.c kobject_uevent_env; drivers/base/dd.c
// driver_bound → KOBJ_BIND, __device_release_driver → KOBJ_UNBIND; bus.c bus_add_driver /
// bus_remove_driver → drivers ADD/REMOVE; kernel/module/main.c → module ADD after init and REMOVE;
// core.c uevent_store → kobject_synth_uevent with SYNTH_UUID / SYNTH_ARG_*), in order, with their
// variables: what udev sees and acts on.
import type { Case, MachineKind, Step } from "../case-format.ts";
import {
  E1000, EDU, VIRTIO0, VNET, bind, cases, clearOverride, dev, modprobe, override, pdrv, probe, rmmod, unbind, write,
} from "./devices.ts";

const ev: Step = { op: "uevents" };

export function eventCases(machine: MachineKind): Case[] {
  return cases(machine, "events", [
    {
      name: "unbind-bind",
      title: "unbind sends UNBIND (no DRIVER=), bind sends BIND with DRIVER=",
      steps: [unbind("e1000", E1000), ev, bind("e1000", E1000), ev],
      cleanup: [bind("e1000", E1000)],
    },
    {
      name: "rmmod-modprobe",
      title: "unloading e1000: UNBIND, drivers REMOVE, module REMOVE; loading: BIND first (bus_add_driver sends the drivers ADD after driver_attach), then drivers ADD, then module ADD (after init)",
      steps: [rmmod("e1000"), ev, modprobe("e1000"), ev],
      cleanup: [modprobe("e1000")],
    },
    {
      name: "synthetic-add",
      title: "a synthetic add carries the device's variables and MODALIAS",
      steps: [write(dev(E1000, "uevent"), "add"), ev],
    },
    {
      name: "synthetic-uuid-args",
      title: "a synthetic change with UUID and arguments: SYNTH_UUID and SYNTH_ARG_* variables",
      steps: [write(dev(E1000, "uevent"), "change fe4d7c9d-b8c6-4a70-9ef1-3d8a58d18eed FOO=bar BAZ=1"), ev],
    },
    {
      name: "synthetic-unbound",
      title: "a synthetic add on an unbound device (no DRIVER=)",
      steps: [write(dev(EDU, "uevent"), "add"), ev],
    },
    {
      name: "synthetic-virtio",
      title: "a synthetic add on a virtio device",
      steps: [write(dev(VIRTIO0, "uevent"), "add"), ev],
    },
    {
      name: "driver-synthetic",
      title: "a synthetic add on a driver directory",
      steps: [write(pdrv("e1000", "uevent"), "add"), ev],
    },
    {
      name: "override-rebind",
      title: "override + unbind + drivers_probe to pci-stub: module, driver and bind events",
      steps: [modprobe("pci_stub"), ev, override(E1000, "pci-stub"), unbind("e1000", E1000), probe(E1000), ev],
      cleanup: [unbind("pci-stub", E1000), clearOverride(E1000), probe(E1000), rmmod("pci_stub")],
    },
    {
      name: "new-id-binds",
      title: "new_id binding two devices sends a BIND for each",
      steps: [modprobe("pci_stub"), write(pdrv("pci-stub", "new_id"), "1234 11e8"), ev],
      cleanup: [unbind("pci-stub", EDU), unbind("pci-stub", "0000:03:01.0"), rmmod("pci_stub")],
    },
    {
      name: "virtio-pci-unbind",
      title: "unbinding virtio-pci: the virtio device's UNBIND and REMOVE before the PCI UNBIND; bind re-adds it",
      steps: [unbind("virtio-pci", VNET), ev, bind("virtio-pci", VNET), ev],
      cleanup: [bind("virtio-pci", VNET)],
    },
    {
      name: "vfio-pci",
      title: "modprobe vfio_pci and bind a device: events of each module and driver",
      steps: [modprobe("vfio_pci"), ev, override(EDU, "vfio-pci"), probe(EDU), ev],
      cleanup: [unbind("vfio-pci", EDU), clearOverride(EDU), rmmod("vfio_pci"), rmmod("vfio_pci_core"), rmmod("vfio_iommu_type1"), rmmod("vfio"), rmmod("vfio_virqfd"), rmmod("irqbypass")],
    },
  ]);
}
