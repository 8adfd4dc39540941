// Matching a driver to a device: drivers/base/base.h driver_match_device(), and the async decision
// drivers/base/dd.c driver_allows_async_probing().
import type { Kernel } from "./kernel.ts";
import type { Device, Driver } from "./types.ts";

/** driver_match_device(): bus->match(dev, drv), or 1 when the bus has no match. 0 / >0 / -EPROBE_DEFER / <0. */
export function driverMatchDevice(k: Kernel, drv: Driver, dev: Device): number {
  const match = drv.bus.type.match;
  return match ? match(dev, drv, k) : 1;
}

/**
 * driver_allows_async_probing(): PROBE_PREFER_ASYNCHRONOUS → yes, PROBE_FORCE_SYNCHRONOUS → no;
 * default: the driver is named in driver_async_probe= (or "*"), or its module was loaded with async_probe.
 */
export function driverAllowsAsyncProbing(k: Kernel, drv: Driver): boolean {
  if (drv.probeType === "prefer_async") return true;
  if (drv.probeType === "force_sync") return false;
  const m = /(?:^|\s)driver_async_probe=(\S*)/.exec(k.cmdline);
  if (m) {
    const names = m[1]!.split(",");
    if (names.includes(drv.name) || names.includes("*")) return true;
  }
  if (drv.module) {
    const mod = k.modules.get(drv.module);
    if (mod && /(?:^|\s)async_probe(?:=(?:1|y|Y|true))?(?:\s|$)/.test(mod.params)) return true;
  }
  return false;
}
