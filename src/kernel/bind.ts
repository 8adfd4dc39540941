// Unbinding and release: drivers/base/dd.c __device_release_driver, device_release_driver_internal,
// device_release_driver, device_driver_detach, driver_detach.
import type { Kernel } from "./kernel.ts";
import type { Device, Driver } from "./types.ts";
import { kobjectUevent } from "./uevent.ts";

/**
 * __device_release_driver(): driver_sysfs_remove, bus->remove or drv->remove, devres released,
 * dev->driver = NULL, klist_remove(knode_driver), KOBJ_UNBIND (without DRIVER=). No re-probe.
 */
function releaseDriver(k: Kernel, dev: Device): void {
  const drv = dev.driver;
  if (!drv) return;
  if (drv.bus.type.remove) drv.bus.type.remove(dev, drv, k);
  else drv.remove?.(dev, k);
  dev.devresCount = 0;
  dev.driver = null;
  const i = drv.boundDevices.indexOf(dev);
  if (i >= 0) drv.boundDevices.splice(i, 1);
  k.trace({ kind: "unbind", text: `${drv.name} ${dev.name}: unbound from driver ${drv.name}`, device: dev.name, driver: drv.name });
  kobjectUevent(k, dev, "unbind");
}

/** device_release_driver_internal(dev, drv, parent): only if drv is NULL or dev->driver == drv. */
export function deviceReleaseDriverInternal(k: Kernel, dev: Device, drv: Driver | null): void {
  if (dev.driver && (drv === null || dev.driver === drv)) releaseDriver(k, dev);
}

/** device_release_driver(): used by bus_remove_device. */
export function deviceReleaseDriver(k: Kernel, dev: Device): void {
  deviceReleaseDriverInternal(k, dev, null);
}

/** device_driver_detach(): the sysfs unbind path (takes the parent lock too). */
export function deviceDriverDetach(k: Kernel, dev: Device): void {
  deviceReleaseDriverInternal(k, dev, null);
}

/**
 * driver_detach(): waits for async probes, then releases devices from the TAIL of
 * drv->p->klist_devices — reverse bind order.
 */
export function driverDetach(k: Kernel, drv: Driver): void {
  for (const dev of drv.bus.devices) if (dev.asyncDriver === drv) dev.asyncDriver = null;
  for (let dev = drv.boundDevices.at(-1); dev; dev = drv.boundDevices.at(-1)) {
    deviceReleaseDriverInternal(k, dev, drv);
    if (drv.boundDevices.at(-1) === dev) drv.boundDevices.pop(); // defensive: never loop forever
  }
}
