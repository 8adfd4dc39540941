// Synthetic uevents (drivers/base/core.c uevent_store → kobject_synth_uevent, lib/kobject_uevent.c:
// "ACTION [UUID [KEY=VALUE ...]]", an unknown action or a bad UUID is -EINVAL) and the uevent
// attribute's text (dev_uevent: DRIVER=, then the bus's variables; pci_uevent, virtio_uevent).
// An "add" carries MODALIAS, so the guest's udev-like listener runs modprobe -b $MODALIAS.
import type { Case, MachineKind } from "../case-format.ts";
import { E1000, EDU, VIRTIO0, cases, dev, driver, loaded, modprobe, pdrv, probe, read, rmmod, settle, write } from "./devices.ts";

const UUID = "fe4d7c9d-b8c6-4a70-9ef1-3d8a58d18eed";

export function ueventCases(machine: MachineKind): Case[] {
  const synth = (name: string, data: string) => ({
    name,
    title: `uevent_store "${JSON.stringify(data).slice(1, -1)}"`,
    steps: [write(dev(E1000, "uevent"), data), settle, driver(E1000)],
  });
  return cases(machine, "uevent", [
    { name: "read-bound", title: "uevent text of a bound PCI device", steps: [read(dev(E1000, "uevent"))] },
    { name: "read-unbound", title: "uevent text of an unbound PCI device (no DRIVER=)", steps: [read(dev(EDU, "uevent"))] },
    { name: "read-virtio", title: "uevent text of a virtio device", steps: [read(dev(VIRTIO0, "uevent"))] },
    { name: "read-driver", title: "a driver's uevent attribute is write-only", steps: [read(pdrv("e1000", "uevent"))] },
    {
      name: "add-reloads-module",
      title: "synthetic add after rmmod: udev loads e1000 again and it binds",
      steps: [rmmod("e1000"), driver(E1000), write(dev(E1000, "uevent"), "add"), settle, loaded("e1000"), driver(E1000)],
      cleanup: [modprobe("e1000"), probe(E1000)],
    },
    {
      name: "change-loads-nothing",
      title: "synthetic change: the 80-drivers rule only acts on add",
      steps: [rmmod("e1000"), write(dev(E1000, "uevent"), "change"), settle, loaded("e1000"), driver(E1000)],
      cleanup: [modprobe("e1000"), probe(E1000)],
    },
    {
      name: "virtio-add",
      title: "synthetic add on virtio0 after rmmod virtio_net loads it (virtio: alias)",
      steps: [rmmod("virtio_net"), write(dev(VIRTIO0, "uevent"), "add"), settle, loaded("virtio_net"), driver(VIRTIO0)],
      cleanup: [modprobe("virtio_net")],
    },
    {
      name: "add-unmatched",
      title: "synthetic add on a device no module matches: nothing loads or binds",
      steps: [write(dev(EDU, "uevent"), "add"), settle, driver(EDU), loaded("pci_stub", "vfio_pci")],
    },
    synth("add-newline", "add\n"),
    synth("change", "change"),
    synth("remove", "remove"),
    synth("online", "online"),
    synth("bind", "bind"),
    synth("with-uuid", `add ${UUID}`),
    synth("with-uuid-vars", `change ${UUID} FOO=bar BAZ=1`),
    synth("bad-uuid", "add not-a-uuid"),
    synth("unknown-action", "frobnicate"),
    synth("upper-case", "ADD"),
    synth("empty", ""),
    synth("action-prefix", "addx"),
    {
      name: "driver-add",
      title: "a driver's uevent attribute accepts a synthetic add",
      steps: [write(pdrv("e1000", "uevent"), "add"), settle, driver(E1000)],
    },
  ]);
}
