// The driver core model: public API. See docs/driver-core.md (API section) for usage.
export { Kernel, type KernelOptions } from "./kernel.ts";
export type {
  Bus,
  BusType,
  Device,
  Driver,
  DriverSpec,
  KernelHost,
  KernelTraceEvent,
  KModule,
  ModuleImage,
  ModuleState,
  ProbeType,
  SysfsAttr,
  Uevent,
  UeventAction,
} from "./types.ts";
export { UEVENT_ACTIONS } from "./types.ts";
export type { DeviceAddOptions } from "./registry.ts";
export { driverMatchDevice, driverAllowsAsyncProbing } from "./match.ts";
export { devUeventVars, parseSynthUevent } from "./uevent.ts";
export { driverSetOverride, driverOverrideShow, PAGE_SIZE } from "./driver-override.ts";
export { sscanfHex, kstrtoull, kstrtobool } from "./kstrto.ts";
export { probeFromBehaviour, type ProbeBehaviour } from "./behaviour.ts";
export { requestModule, MODULE_NAME_LEN, CALL_MODPROBE_ENV } from "./request-module.ts";
export { ModelSysfs, kernelSysfs, sysfsStreq, relativePath, type SysfsNode } from "./sysfs.ts";
export {
  pciBusType,
  pciDriverSpec,
  newPciDevData,
  pciDevData,
  pciDrvData,
  pciEnableSriov,
  pciDisableSriov,
  pciNewId,
  pciRemoveId,
  pciSlotName,
  type PciDevData,
  type PciDriverData,
  type SriovState,
} from "./bus/pci.ts";
export { platformBusType, platformDriverSpec, platformDevData, platformDrvData, type PlatformDriverData } from "./bus/platform.ts";
export { virtioBusType, virtioDriverSpec, virtioDevData, type VirtioDriverData } from "./bus/virtio.ts";

import { Kernel, type KernelOptions } from "./kernel.ts";
import { pciBusType } from "./bus/pci.ts";
import { platformBusType } from "./bus/platform.ts";
import { virtioBusType } from "./bus/virtio.ts";

/** A kernel with the pci, platform and virtio buses registered (in that order). */
export function createKernel(opts: KernelOptions = {}): Kernel {
  const k = new Kernel(opts);
  k.busRegister(pciBusType);
  k.busRegister(platformBusType);
  k.busRegister(virtioBusType);
  return k;
}
