// Autoload through MODALIAS for every device: at boot the guest's listener runs `modprobe -b
// $MODALIAS` for each "add" uevent (coldplug writes "add" to every uevent file, as `udevadm trigger`
// does), and the module's driver_register() binds the device (drivers/base/bus.c bus_add_driver →
// driver_attach). Each case reads the identity attributes the model must reproduce (pci-sysfs.c
// vendor/device/subsystem_*/class/modalias_show, pci-driver.c pci_uevent) and the bound driver.
import type { Case, MachineKind } from "../case-format.ts";
import { BOOT_BINDINGS, dev, driver, exists, loaded, read } from "./devices.ts";

export function autoloadCases(machine: MachineKind): Case[] {
  return BOOT_BINDINGS.map((b) => {
    const pciDev = b.dev.includes(":");
    const steps = pciDev
      ? [
          read(dev(b.dev, "vendor")),
          read(dev(b.dev, "device")),
          read(dev(b.dev, "subsystem_vendor")),
          read(dev(b.dev, "subsystem_device")),
          read(dev(b.dev, "class")),
          read(dev(b.dev, "revision")),
          read(dev(b.dev, "modalias")),
          read(dev(b.dev, "driver_override")),
          read(dev(b.dev, "uevent")),
          driver(b.dev),
        ]
      : [
          read(dev(b.dev, "vendor")),
          read(dev(b.dev, "device")),
          read(dev(b.dev, "modalias")),
          read(dev(b.dev, "uevent")),
          exists(dev(b.dev, "driver_override")),
          driver(b.dev),
        ];
    if (b.module) steps.push(loaded(b.module));
    return {
      id: `autoload/${b.dev}`,
      title: `${b.what}: identity attributes and the driver bound after coldplug (modprobe -b $MODALIAS)`,
      machine,
      steps,
    };
  });
}
