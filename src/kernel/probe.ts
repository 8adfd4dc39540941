// Probing: drivers/base/dd.c __device_attach, __device_attach_driver, __device_attach_async_helper,
// driver_attach/__driver_attach/__driver_attach_async_helper, driver_probe_device,
// __driver_probe_device, really_probe, call_driver_probe, driver_bound, device_driver_attach.
import { ERRNO } from "../model/errno.ts";
import type { Kernel } from "./kernel.ts";
import type { Device, Driver } from "./types.ts";
import { driverAllowsAsyncProbing, driverMatchDevice } from "./match.ts";
import { driverDeferredProbeAdd, driverDeferredProbeDel, driverDeferredProbeTrigger } from "./deferred.ts";
import { kobjectUevent } from "./uevent.ts";

const EPROBE_DEFER = ERRNO.EPROBE_DEFER;

interface AttachData {
  checkAsync: boolean;
  wantAsync: boolean;
  haveAsync: boolean;
}

/** bus_for_each_drv(): from the head, stop at the first non-zero return (drivers added meanwhile are seen). */
function busForEachDrv(dev: Device, fn: (drv: Driver) => number): number {
  const drivers = dev.bus!.drivers;
  for (let i = 0; i < drivers.length; i++) {
    const r = fn(drivers[i]!);
    if (r !== 0) return r;
  }
  return 0;
}

/** device_initial_probe() = __device_attach(dev, allow_async = true). */
export function deviceInitialProbe(k: Kernel, dev: Device): void {
  deviceAttachInternal(k, dev, true);
}

/** device_attach() = __device_attach(dev, false): 1 bound, 0 no driver, <0 error. Always synchronous. */
export function deviceAttach(k: Kernel, dev: Device): number {
  return deviceAttachInternal(k, dev, false);
}

function deviceAttachInternal(k: Kernel, dev: Device, allowAsync: boolean): number {
  if (dev.dead || !dev.bus) return 0;
  if (dev.driver) return 1;
  const data: AttachData = { checkAsync: allowAsync, wantAsync: false, haveAsync: false };
  const ret = busForEachDrv(dev, (drv) => deviceAttachDriver(k, drv, dev, data));
  if (ret === 0 && allowAsync && data.haveAsync) {
    // async_schedule_dev(__device_attach_async_helper, dev)
    k.host.queueWork(`__device_attach_async_helper ${dev.name}`, () => {
      k.op(() => {
        if (dev.dead || dev.driver) return;
        const d: AttachData = { checkAsync: true, wantAsync: true, haveAsync: false };
        k.trace({ kind: "async_probe", text: `${dev.name}: async probe`, device: dev.name });
        busForEachDrv(dev, (drv) => deviceAttachDriver(k, drv, dev, d));
      });
    });
  }
  return ret;
}

/** __device_attach_driver(): the per-driver step of __device_attach. */
function deviceAttachDriver(k: Kernel, drv: Driver, dev: Device, data: AttachData): number {
  let ret = driverMatchDevice(k, drv, dev);
  if (ret === 0) return 0;
  if (ret === -EPROBE_DEFER) {
    dev.canMatch = true;
    driverDeferredProbeAdd(k, dev);
    return ret; // stops the walk
  }
  if (ret < 0) {
    k.trace({ kind: "match_error", text: `${dev.name}: Bus failed to match device: ${ret}`, device: dev.name, driver: drv.name, errno: ret });
    return ret;
  }
  const asyncAllowed = driverAllowsAsyncProbing(k, drv);
  if (asyncAllowed) data.haveAsync = true;
  if (data.checkAsync && asyncAllowed !== data.wantAsync) return 0;
  ret = driverProbeDevice(k, drv, dev);
  if (ret < 0) return ret;
  return ret === 0 ? 1 : 0; // >0: ->probe() failed, let the next driver try its luck
}

/** driver_attach(): bus_for_each_dev(__driver_attach); never stops early. */
export function driverAttach(k: Kernel, drv: Driver): number {
  const devices = drv.bus.devices;
  const filter = drv.bus.type.attachFilter;
  const cands = filter && filter.match === drv.bus.type.match ? filter.candidates(drv, drv.bus, k) : null;
  if (cands !== null) {
    // The same walk restricted to devices `match` can accept: klist order, then devices added meanwhile
    // (the klist walk would reach them at its tail).
    const startSeq = k.nextDeviceSeq;
    const list = [...new Set(cands)].sort((a, b) => a.addSeq - b.addSeq);
    for (const dev of list) if (dev.registered) driverAttachOne(k, drv, dev);
    let i = devices.length;
    while (i > 0 && devices[i - 1]!.addSeq >= startSeq) i--;
    for (; i < devices.length; i++) driverAttachOne(k, drv, devices[i]!);
    return 0;
  }
  for (let i = 0; i < devices.length; i++) driverAttachOne(k, drv, devices[i]!);
  return 0;
}

/** __driver_attach(): always returns 0; a bound device is never stolen (-EBUSY inside). */
function driverAttachOne(k: Kernel, drv: Driver, dev: Device): void {
  const ret = driverMatchDevice(k, drv, dev);
  if (ret === 0) return;
  if (ret === -EPROBE_DEFER) {
    dev.canMatch = true;
    driverDeferredProbeAdd(k, dev);
    return;
  }
  if (ret < 0) {
    k.trace({ kind: "match_error", text: `${dev.name}: Bus failed to match device: ${ret}`, device: dev.name, driver: drv.name, errno: ret });
    return;
  }
  if (driverAllowsAsyncProbing(k, drv)) {
    if (!dev.driver && !dev.asyncDriver) {
      dev.asyncDriver = drv;
      k.host.queueWork(`__driver_attach_async_helper ${dev.name} ${drv.name}`, () => {
        k.op(() => {
          const d = dev.asyncDriver;
          dev.asyncDriver = null;
          if (!d || d.bus.driversByName.get(d.name) !== d) return;
          driverProbeDevice(k, d, dev);
        });
      });
    }
    return;
  }
  driverProbeDevice(k, drv, dev);
}

/**
 * driver_probe_device(): -ENODEV (not registered), -EBUSY (has a driver), 0 bound, >0 ->probe() error.
 * On ±EPROBE_DEFER the device goes on the pending list, and if a bind happened meanwhile
 * (deferred_trigger_count moved) the deferred probe is re-triggered.
 */
export function driverProbeDevice(k: Kernel, drv: Driver, dev: Device): number {
  const triggerCount = k.deferredTriggerCount;
  const ret = driverProbeDeviceInner(k, drv, dev);
  if (ret === -EPROBE_DEFER || ret === EPROBE_DEFER) {
    driverDeferredProbeAdd(k, dev);
    if (triggerCount !== k.deferredTriggerCount && !k.deferAllProbes) driverDeferredProbeTrigger(k);
  }
  return ret;
}

/** __driver_probe_device(). */
function driverProbeDeviceInner(k: Kernel, drv: Driver, dev: Device): number {
  if (dev.dead || !dev.registered) return -ERRNO.ENODEV;
  if (dev.driver) return -ERRNO.EBUSY;
  dev.canMatch = true;
  k.trace({ kind: "probe", text: `bus: '${drv.bus.name}': really_probe: probing driver ${drv.name} with device ${dev.name}`, device: dev.name, driver: drv.name });
  return reallyProbe(k, dev, drv);
}

/** really_probe(): negative for defer_all/devres, 0 bound, positive (inverted) ->probe() errors. */
function reallyProbe(k: Kernel, dev: Device, drv: Driver): number {
  if (k.deferAllProbes) {
    dev.deferredReason = "Driver " + drv.name + " force probe deferral";
    k.trace({ kind: "probe_defer", text: `${dev.name}: Driver ${drv.name} force probe deferral`, device: dev.name, driver: drv.name });
    return -EPROBE_DEFER;
  }
  if (dev.devresCount > 0) {
    k.trace({ kind: "probe_error", text: `${dev.name}: Resources present before probing`, device: dev.name, driver: drv.name, errno: -ERRNO.EBUSY });
    return -ERRNO.EBUSY;
  }
  dev.driver = drv; // driver_sysfs_add(): <drv>/<dev> and <dev>/driver links appear
  const ret = callDriverProbe(k, dev, drv);
  if (ret !== 0) {
    // probe_failed: driver_sysfs_remove, device_unbind_cleanup (devres released, driver NULL)
    dev.driver = null;
    dev.devresCount = 0;
    return -ret;
  }
  driverBound(k, dev, drv);
  return 0;
}

/** call_driver_probe(): bus->probe or drv->probe, logged as the kernel does. */
function callDriverProbe(k: Kernel, dev: Device, drv: Driver): number {
  const ret = drv.bus.type.probe ? drv.bus.type.probe(dev, drv, k) : drv.probe(dev, k);
  if (ret === 0) return 0;
  const base = { device: dev.name, driver: drv.name, errno: ret };
  if (ret === -EPROBE_DEFER) {
    if (dev.deferredReason === null) dev.deferredReason = `Driver ${drv.name} requests probe deferral`;
    k.trace({ kind: "probe_defer", text: `${drv.name} ${dev.name}: Driver ${drv.name} requests probe deferral`, ...base });
  } else if (ret === -ERRNO.ENODEV || ret === -ERRNO.ENXIO) {
    k.trace({ kind: "probe_reject", text: `${drv.name} ${dev.name}: probe with driver ${drv.name} rejects match ${ret}`, ...base });
  } else {
    k.trace({ kind: "probe_error", text: `${drv.name} ${dev.name}: probe with driver ${drv.name} failed with error ${ret}`, ...base });
  }
  return ret;
}

/** driver_bound(): tail of the driver's klist, off the deferred list, trigger, KOBJ_BIND. */
function driverBound(k: Kernel, dev: Device, drv: Driver): void {
  drv.boundDevices.push(dev);
  k.trace({ kind: "bound", text: `driver: '${drv.name}': driver_bound: bound to device '${dev.name}'`, device: dev.name, driver: drv.name });
  driverDeferredProbeDel(k, dev);
  driverDeferredProbeTrigger(k);
  kobjectUevent(k, dev, "bind");
}

/**
 * device_driver_attach() (sysfs bind): __driver_probe_device under the device lock; positive probe
 * errors come back negative and -EPROBE_DEFER becomes -EAGAIN. No deferred-list add on this path.
 */
export function deviceDriverAttach(k: Kernel, drv: Driver, dev: Device): number {
  let ret = driverProbeDeviceInner(k, drv, dev);
  if (ret > 0) ret = -ret;
  if (ret === -EPROBE_DEFER) return -ERRNO.EAGAIN;
  return ret;
}
