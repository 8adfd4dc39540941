// bind/unbind (drivers/base/bus.c bind_store, unbind_store): bind needs an existing device that
// driver_match_device() accepts, else -ENODEV (a device already bound gets -EBUSY from
// __driver_probe_device); unbind needs the device to be bound to this very
// driver, else -ENODEV. Device names are compared with sysfs_streq (a trailing newline is fine).
import type { Case, MachineKind } from "../case-format.ts";
import {
  AHCI, E1000, E1000E, EDU, NVME, VIRTIO0, VNET, bind, cases, driver, exists, modprobe, pci, pdrv, read, rmmod, unbind, write,
} from "./devices.ts";

const vbind = (drv: string, d: string) => write(`/sys/bus/virtio/drivers/${drv}/bind`, d);
const vunbind = (drv: string, d: string) => write(`/sys/bus/virtio/drivers/${drv}/unbind`, d);

export function bindUnbindCases(machine: MachineKind): Case[] {
  return cases(machine, "bind", [
    { name: "already-bound-same", title: "bind to the driver the device already has: -EBUSY (device_driver_attach → __driver_probe_device finds dev->driver set)", steps: [bind("e1000", E1000), driver(E1000)] },
    { name: "bound-to-other", title: "bind a device bound to another driver: -ENODEV", steps: [bind("e1000", E1000E), driver(E1000E)] },
    { name: "no-match", title: "bind a device the driver does not match: -ENODEV", steps: [bind("e1000", EDU), driver(EDU)] },
    { name: "nonexistent-device", title: "bind a device name that does not exist: -ENODEV", steps: [bind("e1000", "0000:00:1e.0")] },
    { name: "garbage", title: "bind garbage: -ENODEV", steps: [bind("e1000", "hello world")] },
    { name: "empty", title: "bind with a zero-length write: 0, nothing happens", steps: [bind("e1000", ""), driver(E1000)] },
    {
      name: "after-unbind",
      title: "unbind then bind again returns the counts and restores the binding",
      steps: [unbind("e1000", E1000), driver(E1000), bind("e1000", E1000), driver(E1000)],
      cleanup: [bind("e1000", E1000)],
    },
    {
      name: "newline",
      title: "bind/unbind accept a trailing newline (sysfs_streq)",
      steps: [unbind("e1000", `${E1000}\n`), driver(E1000), bind("e1000", `${E1000}\n`), driver(E1000)],
      cleanup: [bind("e1000", E1000)],
    },
    { name: "unbind-other-driver", title: "unbind a device bound to another driver: -ENODEV", steps: [unbind("e1000", E1000E), driver(E1000E)] },
    { name: "unbind-unbound", title: "unbind a device with no driver: -ENODEV", steps: [unbind("e1000", EDU)] },
    { name: "unbind-nonexistent", title: "unbind a device name that does not exist: -ENODEV", steps: [unbind("e1000", "0000:00:1e.0")] },
    {
      name: "unbind-twice",
      title: "the second unbind finds no driver: -ENODEV",
      steps: [unbind("e1000", E1000), unbind("e1000", E1000), driver(E1000)],
      cleanup: [bind("e1000", E1000)],
    },
    { name: "read-bind", title: "bind is write-only (0200): open for reading is -EACCES", steps: [read(pdrv("e1000", "bind")), read(pdrv("e1000", "unbind"))] },
    {
      name: "pci-stub-without-ids",
      title: "pci-stub has no ID table: bind without new_id or override is -ENODEV",
      steps: [modprobe("pci_stub"), bind("pci-stub", EDU), driver(EDU)],
      cleanup: [rmmod("pci_stub")],
    },
    { name: "no-such-driver", title: "a driver directory that does not exist: open fails -ENOENT", steps: [write("/sys/bus/pci/drivers/nosuch/bind", E1000)] },
    { name: "write-vendor", title: "vendor is read-only (0444): -EACCES", steps: [write(pci(E1000, "vendor"), "0x1234"), read(pci(E1000, "vendor"))] },
    { name: "write-modalias", title: "modalias is read-only: -EACCES", steps: [write(pci(E1000, "modalias"), "pci:x")] },
    { name: "write-class", title: "class is read-only: -EACCES", steps: [write(pci(E1000, "class"), "0x020000")] },
    {
      name: "virtio-rebind",
      title: "unbind and bind on the virtio bus",
      steps: [vunbind("virtio_net", VIRTIO0), driver(VIRTIO0), vbind("virtio_net", VIRTIO0), driver(VIRTIO0)],
      cleanup: [vbind("virtio_net", VIRTIO0)],
    },
    {
      name: "virtio-pci-unbind-removes-child",
      title: "unbinding virtio-pci removes virtio0 (virtio_pci_remove → unregister_virtio_device); bind re-creates it and virtio_net binds",
      steps: [unbind("virtio-pci", VNET), exists("/sys/bus/virtio/devices/virtio0"), bind("virtio-pci", VNET), exists("/sys/bus/virtio/devices/virtio0"), driver(VIRTIO0)],
      cleanup: [bind("virtio-pci", VNET)],
    },
    {
      name: "nvme-rebind",
      title: "unbind and bind nvme (an asynchronous-probe driver: sysfs bind probes synchronously)",
      steps: [unbind("nvme", NVME), driver(NVME), bind("nvme", NVME), driver(NVME)],
      cleanup: [bind("nvme", NVME)],
    },
    {
      name: "ahci-rebind",
      title: "unbind and bind ahci on the add-on controller",
      steps: [unbind("ahci", AHCI), driver(AHCI), bind("ahci", AHCI), driver(AHCI)],
      cleanup: [bind("ahci", AHCI)],
    },
    {
      name: "driver-dir-lists-device",
      title: "a bound device appears as a link in the driver's directory; unbind removes it",
      steps: [exists(pdrv("e1000", E1000)), unbind("e1000", E1000), exists(pdrv("e1000", E1000))],
      cleanup: [bind("e1000", E1000)],
    },
  ]);
}
