// Returning a device to its host driver the way libvirt does (virPCIDeviceUnbindFromStub):
// clear driver_override with "\n", unbind if bound, then drivers_probe (src/util/virpci.c).
import { sysDriverLink, sysWrite, type Proc } from "../ops.ts";
import { devPath, type DevRef } from "./design.ts";

export function* reattachToHost(dev: DevRef): Proc<void> {
  yield* sysWrite(`${devPath(dev)}/driver_override`, "\n");
  if ((yield* sysDriverLink(devPath(dev))) !== null) yield* sysWrite(`${devPath(dev)}/driver/unbind`, dev.name);
  yield* sysWrite(`/sys/bus/${dev.bus}/drivers_probe`, dev.name);
}

/** Override, unbind if bound, drivers_probe (virPCIDeviceBindWithDriverOverride + virPCIDeviceRebind). */
export function* overrideAndRebind(dev: DevRef, override: string): Proc<void> {
  yield* sysWrite(`${devPath(dev)}/driver_override`, override);
  if ((yield* sysDriverLink(devPath(dev))) !== null) yield* sysWrite(`${devPath(dev)}/driver/unbind`, dev.name);
  yield* sysWrite(`/sys/bus/${dev.bus}/drivers_probe`, dev.name);
}
