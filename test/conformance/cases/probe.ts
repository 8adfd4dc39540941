// drivers_probe (drivers/base/bus.c drivers_probe_store → bus_rescan_devices_helper → device_attach)
// and drivers_autoprobe (drivers_autoprobe_store: buf[0] == '0' disables, anything else enables;
// bus_add_driver attaches only when it is set, bus_probe_device likewise; bind/new_id are not gated).
import type { Case, MachineKind } from "../case-format.ts";
import {
  E1000, EDU, EDU2, bind, cases, clearOverride, dev, driver, loaded, modprobe, override, pdrv, probe, read, rmmod, settle, unbind, write,
} from "./devices.ts";

const AP = "/sys/bus/pci/drivers_autoprobe";

export function probeCases(machine: MachineKind): Case[] {
  return cases(machine, "probe", [
    { name: "nonexistent", title: "drivers_probe of an unknown device: -ENODEV", steps: [probe("0000:00:1e.0")] },
    { name: "bound", title: "drivers_probe of a bound device changes nothing", steps: [probe(E1000), driver(E1000)] },
    {
      name: "unbound-matching",
      title: "drivers_probe binds an unbound device to its matching driver",
      steps: [unbind("e1000", E1000), driver(E1000), probe(E1000), driver(E1000)],
      cleanup: [probe(E1000)],
    },
    { name: "unbound-no-driver", title: "drivers_probe of a device nothing matches: count, still unbound", steps: [probe(EDU), driver(EDU)] },
    {
      name: "newline",
      title: "drivers_probe accepts a trailing newline",
      steps: [unbind("e1000", E1000), probe(`${E1000}\n`), driver(E1000)],
      cleanup: [probe(E1000)],
    },
    { name: "empty", title: "drivers_probe zero-length write", steps: [probe("")] },
    { name: "read", title: "drivers_probe is write-only: -EACCES", steps: [read("/sys/bus/pci/drivers_probe")] },
    {
      name: "with-override",
      title: "drivers_probe honours driver_override",
      steps: [modprobe("pci_stub"), override(EDU2, "pci-stub"), probe(EDU2), driver(EDU2)],
      cleanup: [unbind("pci-stub", EDU2), clearOverride(EDU2), rmmod("pci_stub")],
    },
  ]).concat(
    cases(machine, "autoprobe", [
      { name: "default", title: "drivers_autoprobe reads 1 after bus_register", steps: [read(AP)] },
      {
        name: "set-0",
        title: "writing 0 reads back 0",
        steps: [write(AP, "0"), read(AP), write(AP, "1"), read(AP)],
        cleanup: [write(AP, "1")],
      },
      {
        name: "garbage-enables",
        title: "any first byte other than '0' enables",
        steps: [write(AP, "0"), write(AP, "x"), read(AP), write(AP, "00"), read(AP), write(AP, "1\n"), read(AP)],
        cleanup: [write(AP, "1")],
      },
      {
        name: "module-load-does-not-attach",
        title: "with autoprobe 0 a newly registered driver does not attach (bus_add_driver); drivers_probe still does",
        steps: [rmmod("e1000"), driver(E1000), write(AP, "0"), modprobe("e1000"), driver(E1000), probe(E1000), driver(E1000), write(AP, "1")],
        cleanup: [write(AP, "1"), modprobe("e1000"), probe(E1000)],
      },
      {
        name: "bind-still-works",
        title: "with autoprobe 0, bind still binds",
        steps: [write(AP, "0"), unbind("e1000", E1000), bind("e1000", E1000), driver(E1000), write(AP, "1")],
        cleanup: [write(AP, "1"), probe(E1000)],
      },
      {
        name: "new-id-still-attaches",
        title: "with autoprobe 0, new_id still runs driver_attach (pci_add_dynid)",
        steps: [write(AP, "0"), modprobe("pci_stub"), write(pdrv("pci-stub", "new_id"), "1234 11e8"), driver(EDU), driver(EDU2), write(AP, "1")],
        cleanup: [write(AP, "1"), unbind("pci-stub", EDU), unbind("pci-stub", EDU2), rmmod("pci_stub")],
      },
      {
        name: "synthetic-add-loads-but-no-attach",
        title: "with autoprobe 0 a synthetic add still makes udev load the module, which does not attach",
        steps: [rmmod("e1000"), write(AP, "0"), write(dev(E1000, "uevent"), "add"), settle, loaded("e1000"), driver(E1000), write(AP, "1")],
        cleanup: [write(AP, "1"), modprobe("e1000"), probe(E1000)],
      },
    ]),
  );
}
