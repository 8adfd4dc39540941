// Buses, devices and drivers kept in the kernel's order.
// drivers/base/bus.c (bus_register, bus_add_device, bus_probe_device, bus_add_driver, bus_remove_driver),
// drivers/base/core.c (device_add, device_del), drivers/base/driver.c (driver_register, driver_unregister).
import { ERRNO } from "../model/errno.ts";
import { KbindError } from "../model/errors.ts";
import type { Kernel } from "./kernel.ts";
import type { Bus, BusType, Device, Driver, DriverSpec } from "./types.ts";
import { deviceInitialProbe, driverAttach } from "./probe.ts";
import { deviceReleaseDriver, driverDetach } from "./bind.ts";
import { driverDeferredProbeDel } from "./deferred.ts";
import { kobjectUevent } from "./uevent.ts";

/** bus_register(): drivers_autoprobe = 1, empty klists. */
export function busRegister(k: Kernel, type: BusType): Bus {
  if (k.buses.has(type.name)) throw new KbindError("EEXIST", `bus "${type.name}" already registered`, { errno: "EEXIST" });
  const bus: Bus = {
    type,
    name: type.name,
    devices: [],
    devicesByName: new Map(),
    drivers: [],
    driversByName: new Map(),
    driversAutoprobe: true,
    overridden: new Set(),
  };
  k.buses.set(type.name, bus);
  // platform_bus_init(): the "platform" root device every parentless platform device hangs under.
  if (type.name === "platform" && !k.devicesByPath.has("/devices/platform")) {
    addDeviceObject(k, { name: "platform", bus: null, parent: null, data: null });
  }
  return bus;
}

export interface DeviceAddOptions {
  /** Kobject name: PCI "0000:01:00.0", platform "serial8250", virtio "virtio0". */
  name: string;
  /** Bus name, or null for a bus-less node (a PCI host bridge "pci0000:00"). */
  bus: string | null;
  /** Parent device; platform devices without one go under /devices/platform. */
  parent?: Device | null;
  /** Bus identity (see bus/*.ts). */
  data: unknown;
  iommuGroup?: number | null;
  driverOverride?: string | null;
}

function addDeviceObject(k: Kernel, opts: DeviceAddOptions): Device {
  const bus = opts.bus === null ? null : k.bus(opts.bus);
  let parent = opts.parent ?? null;
  if (parent === null && opts.bus === "platform") parent = k.devicesByPath.get("/devices/platform") ?? null;
  const devpath = `${parent ? parent.devpath : "/devices"}/${opts.name}`;
  if (k.devicesByPath.has(devpath)) {
    // kobject_add_internal(): sysfs_create_dir_ns() fails, "sysfs: cannot create duplicate filename".
    throw new KbindError("EEXIST", `sysfs: cannot create duplicate filename '${devpath}'`, { sysfsPath: `/sys${devpath}`, errno: "EEXIST" });
  }
  if (bus?.devicesByName.has(opts.name)) {
    throw new KbindError("EEXIST", `sysfs: cannot create duplicate filename '/bus/${bus.name}/devices/${opts.name}'`, {
      sysfsPath: `/sys/bus/${bus.name}/devices/${opts.name}`,
      errno: "EEXIST",
    });
  }
  const dev = new DeviceObject(opts.name, bus, parent, devpath, opts.data, opts.iommuGroup ?? null, k.nextDeviceSeq++);
  dev.driverOverride = opts.driverOverride ?? null;
  k.devicesByPath.set(devpath, dev);
  if (parent) parent.children.push(dev);
  else k.roots.push(dev);
  return dev;
}

/** struct device: a class only so that driver_override changes keep Bus.overridden up to date. */
class DeviceObject implements Device {
  readonly name: string;
  readonly bus: Bus | null;
  readonly parent: Device | null;
  readonly devpath: string;
  readonly data: unknown;
  readonly children: Device[] = [];
  driver: Driver | null = null;
  canMatch = false;
  dead = false;
  registered = true;
  asyncDriver: Driver | null = null;
  iommuGroup: number | null;
  devresCount = 0;
  deferredReason: string | null = null;
  readonly addSeq: number;
  readonly ext = new Map<string, unknown>();
  #override: string | null = null;

  constructor(name: string, bus: Bus | null, parent: Device | null, devpath: string, data: unknown, iommuGroup: number | null, addSeq: number) {
    this.name = name;
    this.bus = bus;
    this.parent = parent;
    this.devpath = devpath;
    this.data = data;
    this.iommuGroup = iommuGroup;
    this.addSeq = addSeq;
  }

  get driverOverride(): string | null {
    return this.#override;
  }

  set driverOverride(v: string | null) {
    this.#override = v;
    if (this.bus && this.registered) {
      if (v === null) this.bus.overridden.delete(this);
      else this.bus.overridden.add(this);
    }
  }
}

/**
 * device_add(): kobject_add, bus_add_device (tail of klist_devices), BUS_NOTIFY_ADD_DEVICE,
 * KOBJ_ADD uevent, then bus_probe_device() — the ADD uevent precedes the kernel's first probe.
 */
export function deviceAdd(k: Kernel, opts: DeviceAddOptions): Device {
  const dev = addDeviceObject(k, opts);
  const bus = dev.bus;
  if (bus) {
    bus.devices.push(dev);
    bus.devicesByName.set(dev.name, dev);
    bus.type.onDeviceAdd?.(dev, k);
  }
  k.trace({ kind: "device_add", text: `device: '${dev.name}': device_add`, device: dev.name });
  kobjectUevent(k, dev, "add");
  if (bus) busProbeDevice(k, dev);
  return dev;
}

/** bus_probe_device(): device_initial_probe() if drivers_autoprobe. */
export function busProbeDevice(k: Kernel, dev: Device): void {
  if (dev.bus?.driversAutoprobe) deviceInitialProbe(k, dev);
}

/**
 * device_del(): children first (callers such as pci_stop_and_remove_bus_device remove bottom-up),
 * kill_device, bus_remove_device (releases the driver: UNBIND uevent), driver_deferred_probe_del,
 * KOBJ_REMOVE uevent.
 */
export function deviceDel(k: Kernel, dev: Device): void {
  if (!dev.registered) return;
  for (const child of [...dev.children].reverse()) deviceDel(k, child);
  dev.bus?.type.onDeviceRemove?.(dev, k);
  dev.dead = true;
  const bus = dev.bus;
  if (bus) {
    deviceReleaseDriver(k, dev);
    const i = bus.devices.indexOf(dev);
    if (i >= 0) bus.devices.splice(i, 1);
    bus.devicesByName.delete(dev.name);
    bus.overridden.delete(dev);
  }
  driverDeferredProbeDel(k, dev);
  kobjectUevent(k, dev, "remove");
  dev.registered = false;
  k.devicesByPath.delete(dev.devpath);
  if (dev.parent) {
    const j = dev.parent.children.indexOf(dev);
    if (j >= 0) dev.parent.children.splice(j, 1);
  } else {
    const j = k.roots.indexOf(dev);
    if (j >= 0) k.roots.splice(j, 1);
  }
  k.trace({ kind: "device_del", text: `device: '${dev.name}': device_del`, device: dev.name });
}

/**
 * driver_register(): -EINVAL if the bus is not registered, -EBUSY ("Error: Driver '%s' is already
 * registered, aborting...") on a duplicate name; bus_add_driver() appends to klist_drivers and runs
 * driver_attach() when drivers_autoprobe, then module_add_driver(); driver_register() sends the
 * driver's KOBJ_ADD after that — so bind uevents of synchronously attached devices come first.
 */
export function driverRegister(k: Kernel, spec: DriverSpec, module: string | null): Driver | number {
  const bus = k.buses.get(spec.bus);
  if (!bus) {
    k.trace({ kind: "driver_register", text: `Driver '${spec.name}' was unable to register with bus_type '${spec.bus}' because the bus was not initialized.`, driver: spec.name, errno: -ERRNO.EINVAL });
    return -ERRNO.EINVAL;
  }
  if (bus.driversByName.has(spec.name)) {
    k.trace({ kind: "driver_register", text: `Error: Driver '${spec.name}' is already registered, aborting...`, driver: spec.name, errno: -ERRNO.EBUSY });
    return -ERRNO.EBUSY;
  }
  const drv: Driver = {
    name: spec.name,
    bus,
    module,
    probeType: spec.probeType ?? "default",
    suppressBindAttrs: spec.suppressBindAttrs ?? false,
    probe: spec.probe ?? (() => 0),
    ...(spec.remove ? { remove: spec.remove } : {}),
    data: spec.data,
    boundDevices: [],
    ext: new Map(),
  };
  bus.drivers.push(drv);
  bus.driversByName.set(drv.name, drv);
  k.trace({ kind: "driver_register", text: `bus: '${bus.name}': add driver ${drv.name}`, driver: drv.name, ...(module ? { module } : {}) });
  if (bus.driversAutoprobe) driverAttach(k, drv);
  if (module) k.modules.get(module)?.drivers.push(drv);
  kobjectUevent(k, drv, "add");
  return drv;
}

/** driver_unregister() → bus_remove_driver(): driver_detach (reverse bind order), REMOVE uevent. */
export function driverUnregister(k: Kernel, drv: Driver): void {
  const bus = drv.bus;
  if (bus.driversByName.get(drv.name) !== drv) return;
  k.trace({ kind: "driver_unregister", text: `bus: '${bus.name}': remove driver ${drv.name}`, driver: drv.name });
  // driver_unregister() → bus_remove_driver(): bind files and groups go, klist_remove(knode_bus),
  // driver_detach(), module_remove_driver(), kobject_put() whose cleanup sends the KOBJ_REMOVE
  // ("auto cleanup 'remove' event") — after the devices' UNBIND events.
  const i = bus.drivers.indexOf(drv);
  if (i >= 0) bus.drivers.splice(i, 1);
  driverDetach(k, drv);
  bus.driversByName.delete(drv.name);
  if (drv.module) {
    const m = k.modules.get(drv.module);
    if (m) {
      const j = m.drivers.indexOf(drv);
      if (j >= 0) m.drivers.splice(j, 1);
    }
  }
  kobjectUevent(k, drv, "remove");
}
