// driver_override (drivers/pci/pci-sysfs.c driver_override_store → drivers/base/driver.c
// driver_set_override; drivers/pci/pci-driver.c pci_match_device): the store keeps the text up to the
// first newline, "\n" clears, a length >= PAGE_SIZE - 1 is -EINVAL, nothing is unbound or probed by
// the write, and while set only the driver whose drv->name equals it can match.
import type { Case, MachineKind } from "../case-format.ts";
import {
  E1000, EDU, VIRTIO0, bind, cases, clearOverride, dev, driver, exists, loaded, modprobe, override, pci, probe, read, restore, rmmod, settle, unbind, write,
} from "./devices.ts";

const DO = (d: string): string => pci(d, "driver_override");

export function driverOverrideCases(machine: MachineKind): Case[] {
  const long = (n: number) => ({
    name: `length-${n}`,
    title: `driver_set_override: a ${n}-byte write (PAGE_SIZE - 1 = 4095 is the limit; kernfs caps a write at PAGE_SIZE)`,
    steps: [override(EDU, "a".repeat(n)), read(DO(EDU))],
    cleanup: [clearOverride(EDU)],
  });
  return cases(machine, "override", [
    { name: "default-null", title: "driver_override_show prints (null) when unset", steps: [read(DO(E1000)), read(DO(EDU))] },
    {
      name: "set-while-bound",
      title: "setting driver_override on a bound device does not unbind it",
      steps: [override(E1000, "pci-stub"), read(DO(E1000)), driver(E1000)],
      cleanup: [clearOverride(E1000)],
    },
    {
      name: "clear-newline",
      title: "writing \"\\n\" clears the override (driver_set_override: cp == s)",
      steps: [override(EDU, "pci-stub"), clearOverride(EDU), read(DO(EDU))],
    },
    {
      name: "empty-write",
      title: "a zero-length write never reaches the store (sysfs_kf_write returns 0 for !count)",
      steps: [override(EDU, ""), read(DO(EDU)), override(EDU, "pci-stub"), override(EDU, ""), read(DO(EDU))],
      cleanup: [clearOverride(EDU)],
    },
    {
      name: "nul-byte",
      title: "a lone NUL byte: driver_set_override uses strlen(), so it clears",
      steps: [override(EDU, "pci-stub"), override(EDU, "\0"), read(DO(EDU))],
      cleanup: [clearOverride(EDU)],
    },
    {
      name: "nul-after-name",
      title: "bytes after a NUL are ignored (python writes trailing NULs)",
      steps: [override(EDU, "pci-stub\0junk"), read(DO(EDU))],
      cleanup: [clearOverride(EDU)],
    },
    {
      name: "newline-inside",
      title: "text after the first newline is dropped",
      steps: [override(EDU, "pci-stub\nvfio-pci"), read(DO(EDU))],
      cleanup: [clearOverride(EDU)],
    },
    {
      name: "trailing-newline",
      title: "echo-style trailing newline is stripped, the count is the whole write",
      steps: [override(EDU, "pci-stub\n"), read(DO(EDU))],
      cleanup: [clearOverride(EDU)],
    },
    {
      name: "trailing-space",
      title: "spaces are kept: \"pci-stub \" is a different name and matches nothing",
      steps: [modprobe("pci_stub"), override(EDU, "pci-stub "), read(DO(EDU)), probe(EDU), driver(EDU)],
      cleanup: [clearOverride(EDU), rmmod("pci_stub")],
    },
    {
      name: "replace",
      title: "a second write replaces the first",
      steps: [override(EDU, "first"), override(EDU, "pci-stub"), read(DO(EDU))],
      cleanup: [clearOverride(EDU)],
    },
    long(4000),
    long(4094),
    long(4095),
    long(4096),
    long(5000),
    {
      name: "upper-case",
      title: "the comparison is strcmp: \"E1000\" does not match driver e1000",
      steps: [override(E1000, "E1000"), unbind("e1000", E1000), probe(E1000), driver(E1000)],
      cleanup: restore(E1000, null),
    },
    {
      name: "module-name",
      title: "module name pci_stub is not driver name pci-stub (pci_match_device compares drv->name)",
      steps: [modprobe("pci_stub"), override(EDU, "pci_stub"), probe(EDU), driver(EDU), override(EDU, "pci-stub"), probe(EDU), driver(EDU)],
      cleanup: [unbind("pci-stub", EDU), clearOverride(EDU), rmmod("pci_stub")],
    },
    {
      name: "nonexistent-driver",
      title: "an override naming no driver keeps the device unbound, even when its own module reloads",
      steps: [
        override(E1000, "nosuchdriver"), unbind("e1000", E1000), probe(E1000), driver(E1000),
        rmmod("e1000"), modprobe("e1000"), driver(E1000), clearOverride(E1000), probe(E1000), driver(E1000),
      ],
      cleanup: [modprobe("e1000"), ...restore(E1000, null)],
    },
    {
      name: "before-module-load",
      title: "override set before the driver's module loads: driver_register → driver_attach binds it",
      steps: [override(EDU, "pci-stub"), modprobe("pci_stub"), driver(EDU)],
      cleanup: [unbind("pci-stub", EDU), clearOverride(EDU), rmmod("pci_stub")],
    },
    {
      name: "after-module-load",
      title: "override set after the module loaded: nothing happens until drivers_probe",
      steps: [modprobe("pci_stub"), override(EDU, "pci-stub"), driver(EDU), probe(EDU), driver(EDU)],
      cleanup: [unbind("pci-stub", EDU), clearOverride(EDU), rmmod("pci_stub")],
    },
    {
      name: "rebind-bound-device",
      title: "the documented flow: override, unbind, drivers_probe moves a bound device to pci-stub",
      steps: [modprobe("pci_stub"), override(E1000, "pci-stub"), driver(E1000), unbind("e1000", E1000), probe(E1000), driver(E1000)],
      cleanup: [...restore(E1000, "pci-stub"), rmmod("pci_stub")],
    },
    {
      name: "own-driver",
      title: "an override naming the device's own driver still matches",
      steps: [override(E1000, "e1000"), unbind("e1000", E1000), probe(E1000), driver(E1000)],
      cleanup: [clearOverride(E1000)],
    },
    {
      name: "blocks-bind",
      title: "bind to a driver other than the override is -ENODEV (driver_match_device fails)",
      steps: [override(E1000, "pci-stub"), unbind("e1000", E1000), bind("e1000", E1000), driver(E1000)],
      cleanup: restore(E1000, null),
    },
    {
      name: "allows-bind",
      title: "bind to the override driver works without an ID match",
      steps: [modprobe("pci_stub"), override(EDU, "pci-stub"), bind("pci-stub", EDU), driver(EDU)],
      cleanup: [unbind("pci-stub", EDU), clearOverride(EDU), rmmod("pci_stub")],
    },
    {
      name: "cleared-then-reprobe",
      title: "clearing the override lets drivers_probe pick the ID-table driver again",
      steps: [override(E1000, "nosuchdriver"), unbind("e1000", E1000), probe(E1000), clearOverride(E1000), probe(E1000), driver(E1000)],
    },
    {
      name: "udev-loads-the-ids-module",
      title: "override vfio-pci, then an add uevent: udev's modprobe -b $MODALIAS loads e1000 (the ID match), not vfio_pci, and the override keeps the device unbound — the gap driver_flavour addresses",
      steps: [rmmod("e1000"), override(E1000, "vfio-pci"), write(dev(E1000, "uevent"), "add"), settle, loaded("e1000", "vfio_pci"), driver(E1000)],
      cleanup: [modprobe("e1000"), ...restore(E1000, null)],
    },
    {
      name: "virtio-none",
      title: "the virtio bus has no driver_override attribute in 6.1",
      steps: [exists(dev(VIRTIO0, "driver_override")), write(dev(VIRTIO0, "driver_override"), "x")],
    },
  ]);
}
