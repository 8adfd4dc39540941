// Small machines for the driver core tests.
import { createKernel, kernelSysfs, newPciDevData, pciDriverSpec, probeFromBehaviour, type Kernel, type ProbeBehaviour } from "../../src/kernel/index.ts";
import type { Device, Uevent } from "../../src/kernel/index.ts";
import { pciDevice, type PciDeviceId, type PciIdentity } from "../../src/model/pci.ts";

export const NIC: PciIdentity = { vendor: 0x8086, device: 0x10d3, subvendor: 0x8086, subdevice: 0xa01f, class: 0x020000 };
export const NVME: PciIdentity = { vendor: 0x144d, device: 0xa808, subvendor: 0x144d, subdevice: 0xa801, class: 0x010802 };

export interface Machine {
  k: Kernel;
  sysfs: ReturnType<typeof kernelSysfs>;
  events: Uevent[];
  trace: string[];
  root: Device;
  addPci(name: string, id: PciIdentity, extra?: Parameters<typeof newPciDevData>[1]): Device;
  /** A module with one PCI driver. */
  pciModule(module: string, driver: string, ids: PciDeviceId[] | null, probe?: ProbeBehaviour, opts?: Parameters<typeof pciDriverSpec>[2]): void;
  ev(): string[];
}

export function machine(opts: Parameters<typeof createKernel>[0] = {}): Machine {
  const k = createKernel(opts);
  const events: Uevent[] = [];
  const trace: string[] = [];
  k.onUevent((e) => events.push(e));
  k.onTrace((t) => trace.push(t.text));
  const root = k.deviceAdd({ name: "pci0000:00", bus: null, data: null });
  return {
    k,
    sysfs: kernelSysfs(k),
    events,
    trace,
    root,
    addPci: (name, id, extra) => k.deviceAdd({ name, bus: "pci", parent: root, data: newPciDevData(id, extra), iommuGroup: null }),
    pciModule: (module, driver, ids, probe, o) => {
      k.addModuleImage({ name: module, drivers: [pciDriverSpec(driver, ids, { ...o, ...(probe ? { probe: probeFromBehaviour(probe) } : {}) })] });
    },
    ev: () => events.map((e) => `${e.action} ${e.devpath}${e.env.find(([a]) => a === "DRIVER") ? ` DRIVER=${e.env.find(([a]) => a === "DRIVER")![1]}` : ""}`),
  };
}

export { pciDevice };
