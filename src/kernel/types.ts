// The driver core's objects: buses, devices, drivers, modules (drivers/base/base.h struct subsys_private,
// struct device_private, struct driver_private; include/linux/device.h; kernel/module/internal.h).
// Bus types are plain objects (struct bus_type): a Flavour or other extension wraps or replaces one with
// `Kernel.setBusType()` and keeps its own state in `Device.ext` / `Driver.ext`, no core edit needed.
import type { Kernel } from "./kernel.ts";

/** A sysfs attribute (struct device_attribute / driver_attribute): mode bits and show/store. */
export interface SysfsAttr<T> {
  /** Permission bits as the kernel declares them (0444 RO, 0200 WO, 0644 RW). */
  mode: number;
  /** show(): the text read(2) returns, trailing newline included, or a negative errno. */
  show?: (obj: T, k: Kernel) => string | number;
  /** store(): the count consumed (usually buf.length) or a negative errno. `buf` is a byte string. */
  store?: (obj: T, buf: string, k: Kernel) => number;
  /** is_visible(): absent = always present. */
  visible?: (obj: T, k: Kernel) => boolean;
}

/** struct bus_type: the pluggable part of a bus. */
export interface BusType {
  readonly name: string;
  /** bus->match(): 0 no match, >0 match, -EPROBE_DEFER defer, other <0 error. Absent = match all. */
  match?: (dev: Device, drv: Driver, k: Kernel) => number;
  /** bus->uevent(): the bus variables in the kernel's order (MODALIAS included). */
  uevent?: (dev: Device, k: Kernel) => [string, string][];
  /** The lines of the sysfs `modalias` attribute without newlines; null = no such attribute. */
  modalias?: (dev: Device, k: Kernel) => string[] | null;
  /** bus->probe(): wraps drv.probe (e.g. pci_device_probe). Absent: drv.probe is called directly. */
  probe?: (dev: Device, drv: Driver, k: Kernel) => number;
  /** bus->remove(). */
  remove?: (dev: Device, drv: Driver, k: Kernel) => void;
  /** Device attributes the bus adds (dev_groups), by file name. */
  deviceAttrs?: Readonly<Record<string, SysfsAttr<Device>>>;
  /** Driver attributes the bus adds (drv_groups; e.g. PCI new_id/remove_id). */
  driverAttrs?: Readonly<Record<string, SysfsAttr<Driver>>>;
  /** Extra symlinks in a device directory (e.g. physfn, virtfnN): name -> relative target. */
  deviceLinks?: (dev: Device, k: Kernel) => [string, string][];
  /** Whether the bus has a driver_override attribute (bus_type.driver_override in v7.0; per bus before). */
  driverOverride: boolean;
  /** bus_type.need_parent_lock (USB); no behavioural effect in this single-threaded model, kept for fidelity. */
  needParentLock?: boolean;
  /** Called on device_add before the ADD uevent (e.g. PCI sets PCI_DEV_ALLOW_BINDING). */
  onDeviceAdd?: (dev: Device, k: Kernel) => void;
  /**
   * A pre-filter for driver_attach() (bus_for_each_dev over every device): when the bus's `match` is
   * still `attachFilter.match` (not wrapped by an extension), `candidates` may return the only devices
   * `match` can accept for this driver (in any order; null = no filter). Devices outside it must make
   * `match` return 0 without side effects. A speed-up only: the visit order stays klist order.
   */
  attachFilter?: { match: NonNullable<BusType["match"]>; candidates: (drv: Driver, bus: Bus, k: Kernel) => Iterable<Device> | null };
  /** Called when a device is removed (e.g. PCI disables SR-IOV VFs of a removed PF). */
  onDeviceRemove?: (dev: Device, k: Kernel) => void;
}

/** struct subsys_private of a registered bus. */
export interface Bus {
  type: BusType;
  readonly name: string;
  /** klist_devices: device_add order. */
  readonly devices: Device[];
  readonly devicesByName: Map<string, Device>;
  /** klist_drivers: registration order. */
  readonly drivers: Driver[];
  readonly driversByName: Map<string, Driver>;
  /** drivers_autoprobe (bus_register sets 1). */
  driversAutoprobe: boolean;
  /** Devices on this bus whose driver_override is set (kept by the Device's driverOverride setter). */
  readonly overridden: Set<Device>;
}

/** PROBE_DEFAULT_STRATEGY / PROBE_PREFER_ASYNCHRONOUS / PROBE_FORCE_SYNCHRONOUS (include/linux/device/driver.h). */
export type ProbeType = "default" | "prefer_async" | "force_sync";

/** struct device_driver (+ the bus driver wrapping it). */
export interface Driver {
  readonly name: string;
  readonly bus: Bus;
  /** Owning module name (KBUILD_MODNAME), null when built into vmlinux without a module name. */
  readonly module: string | null;
  readonly probeType: ProbeType;
  readonly suppressBindAttrs: boolean;
  /** ->probe(): 0 binds; -ENODEV/-ENXIO rejects quietly; -EPROBE_DEFER defers; other errors fail. */
  probe: (dev: Device, k: Kernel) => number;
  /** ->remove(). */
  remove?: (dev: Device, k: Kernel) => void;
  /** Bus-specific ID data (PciDriverData, PlatformDriverIds, VirtioDriverData). */
  readonly data: unknown;
  /** drv->p->klist_devices: bound devices in bind order. */
  readonly boundDevices: Device[];
  /** Extension state (Flavour etc.). */
  readonly ext: Map<string, unknown>;
}

/** struct device (+ device_private). */
export interface Device {
  readonly name: string;
  /** Null for bus-less devices (PCI host bridge roots "pci0000:00", "platform"). */
  readonly bus: Bus | null;
  readonly parent: Device | null;
  /** The kobject path under /sys, e.g. /devices/pci0000:00/0000:00:01.0/0000:01:00.0. */
  readonly devpath: string;
  /** Bus identity data (PciDevData, PlatformIdentity, VirtioIdentity). */
  readonly data: unknown;
  readonly children: Device[];
  driver: Driver | null;
  /** dev->driver_override (null = unset). */
  driverOverride: string | null;
  /** dev->can_match: a driver matched once (gates driver_deferred_probe_add). */
  canMatch: boolean;
  /** dev->p->dead. */
  dead: boolean;
  /** device_is_registered(). */
  registered: boolean;
  /** dev->p->async_driver (pending __driver_attach_async_helper). */
  asyncDriver: Driver | null;
  /** IOMMU group number (iommu_group link), null without IOMMU. */
  iommuGroup: number | null;
  /** devres held by a bound driver; non-empty before probe makes really_probe fail -EBUSY. */
  devresCount: number;
  /** Why it is deferred (dev_err_probe reason), shown by devices_deferred. */
  deferredReason: string | null;
  /** device_add order over the whole kernel (klist position for candidate walks). */
  readonly addSeq: number;
  readonly ext: Map<string, unknown>;
}

/** A module's state (enum module_state; /sys/module/<m>/initstate). */
export type ModuleState = "coming" | "live" | "going";

/** What a module does when initialised: the drivers module_init registers (a scenario or .ko-derived image). */
export interface DriverSpec {
  name: string;
  bus: string;
  /** Bus-specific ID data, passed to the bus's driver factory (see bus/*.ts). */
  data: unknown;
  probeType?: ProbeType;
  suppressBindAttrs?: boolean;
  probe?: (dev: Device, k: Kernel) => number;
  remove?: (dev: Device, k: Kernel) => void;
}

export interface ModuleImage {
  /** Module name as the kernel sees it (underscores). */
  name: string;
  drivers: DriverSpec[];
  /** Modules whose symbols this one uses (ref_module: each gets refcnt+1 while this one is loaded). */
  uses?: string[];
  /** module_init's return when not 0 (the drivers registered so far are unregistered first). */
  initResult?: number;
}

/** struct module as far as binding cares. */
export interface KModule {
  readonly name: string;
  state: ModuleState;
  readonly builtin: boolean;
  /** Drivers registered by this module, registration order. */
  readonly drivers: Driver[];
  /** Uses (dependencies) holding a reference. */
  readonly uses: string[];
  /** module_refcount(): references from users (holders) and try_module_get. */
  refcnt: number;
  params: string;
}

/** A uevent as the kernel sends it (kobject_uevent_env): ordered KEY=VALUE pairs, SEQNUM last. */
export interface Uevent {
  action: UeventAction;
  devpath: string;
  subsystem: string;
  seqnum: number;
  /** All variables in order, ACTION/DEVPATH/SUBSYSTEM first and SEQNUM last. */
  env: [string, string][];
}

/** kobject_action strings (lib/kobject_uevent.c kobject_actions[]). */
export const UEVENT_ACTIONS = ["add", "remove", "change", "move", "online", "offline", "bind", "unbind"] as const;
export type UeventAction = (typeof UEVENT_ACTIONS)[number];

/** One line of what happened, for traces and `explain`. */
export interface KernelTraceEvent {
  kind: string;
  /** dmesg-like text. */
  text: string;
  device?: string;
  driver?: string;
  module?: string;
  errno?: number;
}

/** The kernel's link to time and workqueues; the simulator implements it. */
export interface KernelHost {
  /** Virtual time in nanoseconds. */
  now(): number;
  /** Synchronous work that takes time (a probe): the caller is blocked, so time passes. */
  advance(ns: number): void;
  /** queue_work / async_schedule_dev: run `fn` later, after the current operation. */
  queueWork(label: string, fn: () => void): void;
  /** call_modprobe(): run userspace `modprobe -q -- name`; returns the exit status (UMH_WAIT_PROC) or 0 (UMH_WAIT_EXEC). */
  callModprobe?: (argv: string[], env: Record<string, string>, wait: boolean) => number;
}
