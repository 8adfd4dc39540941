// The conformance machine's devices (src/host/qemu/machine.ts fixes their slots) and step helpers.
import type { Case, MachineKind, Step } from "../case-format.ts";

export const E1000 = "0000:00:02.0";
export const RP1 = "0000:00:03.0";
export const VNET = "0000:00:04.0";
export const RP2 = "0000:00:05.0";
export const AHCI = "0000:00:06.0";
export const XHCI = "0000:00:07.0";
export const TESTDEV = "0000:00:08.0";
export const EDU = "0000:00:09.0";
export const BRIDGE = "0000:00:0a.0";
export const HOSTBRIDGE = "0000:00:00.0";
export const LPC = "0000:00:1f.0";
export const SATA = "0000:00:1f.2";
export const SMBUS = "0000:00:1f.3";
export const E1000E = "0000:01:00.0";
export const NVME = "0000:02:00.0";
export const EDU2 = "0000:03:01.0";
export const VIRTIO0 = "virtio0";

/** Every device with the driver and module that bind it at boot (coldplug + modprobe -b $MODALIAS). */
export const BOOT_BINDINGS: readonly { dev: string; what: string; driver: string | null; module: string | null }[] = [
  { dev: HOSTBRIDGE, what: "q35 host bridge", driver: null, module: null },
  { dev: E1000, what: "e1000 (82540EM)", driver: "e1000", module: "e1000" },
  { dev: RP1, what: "pcie-root-port", driver: "pcieport", module: null },
  { dev: VNET, what: "virtio-net-pci", driver: "virtio-pci", module: "virtio_pci" },
  { dev: RP2, what: "pcie-root-port", driver: "pcieport", module: null },
  { dev: AHCI, what: "ahci (ICH9)", driver: "ahci", module: "ahci" },
  { dev: XHCI, what: "qemu-xhci", driver: "xhci_hcd", module: "xhci_pci" },
  { dev: TESTDEV, what: "pci-testdev", driver: null, module: null },
  { dev: EDU, what: "edu", driver: null, module: null },
  { dev: BRIDGE, what: "pci-bridge (shpc)", driver: null, module: null },
  { dev: LPC, what: "ICH9 LPC", driver: null, module: null },
  { dev: SATA, what: "ICH9 SATA", driver: "ahci", module: "ahci" },
  { dev: SMBUS, what: "ICH9 SMBus", driver: null, module: null },
  { dev: E1000E, what: "e1000e (82574L) behind a root port", driver: "e1000e", module: "e1000e" },
  { dev: NVME, what: "nvme behind a root port", driver: "nvme", module: "nvme" },
  { dev: EDU2, what: "edu behind a PCI bridge", driver: null, module: null },
  { dev: VIRTIO0, what: "virtio net device", driver: "virtio_net", module: "virtio_net" },
];

export const pci = (dev: string, attr: string): string => `/sys/bus/pci/devices/${dev}/${attr}`;
export const pdrv = (drv: string, attr: string): string => `/sys/bus/pci/drivers/${drv}/${attr}`;
export const dev = (d: string, attr: string): string =>
  d.includes(":") ? pci(d, attr) : `/sys/bus/virtio/devices/${d}/${attr}`;

export const read = (path: string): Step => ({ op: "read", path });
export const write = (path: string, data: string): Step => ({ op: "write", path, data });
export const driver = (d: string): Step => ({ op: "driver", dev: d });
export const exists = (path: string): Step => ({ op: "exists", path });
export const link = (path: string): Step => ({ op: "link", path });
export const list = (path: string): Step => ({ op: "list", path });
export const modprobe = (...args: string[]): Step => ({ op: "modprobe", args });
export const modprobeOut = (...args: string[]): Step => ({ op: "modprobe", args, output: true });
export const rmmod = (module: string): Step => ({ op: "rmmod", module });
export const loaded = (...modules: string[]): Step => ({ op: "loaded", modules });
export const settle: Step = { op: "settle" };

export const override = (d: string, s: string): Step => write(pci(d, "driver_override"), s);
export const clearOverride = (d: string): Step => write(pci(d, "driver_override"), "\n");
export const unbind = (drv: string, d: string): Step => write(pdrv(drv, "unbind"), d);
export const bind = (drv: string, d: string): Step => write(pdrv(drv, "bind"), d);
export const probe = (d: string): Step => write("/sys/bus/pci/drivers_probe", d);

/** Puts `d` back on its boot driver: unbind from whatever, clear the override, reprobe. */
export function restore(d: string, from: string | null): Step[] {
  return [...(from ? [unbind(from, d)] : []), clearOverride(d), probe(d)];
}

export function cases(machine: MachineKind, group: string, list: (Omit<Case, "machine" | "id"> & { name: string })[]): Case[] {
  return list.map(({ name, ...c }) => ({ id: `${group}/${name}`, machine, ...c }));
}
