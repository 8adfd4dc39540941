// The kernel model's state and public API. Each drivers/base concern lives in its own file
// (registry.ts, match.ts, probe.ts, deferred.ts, bind.ts, uevent.ts, module.ts, request-module.ts);
// this class holds the state they share and wraps them as methods.
import { KbindError } from "../model/errors.ts";
import type { Bus, BusType, Device, Driver, DriverSpec, KernelHost, KernelTraceEvent, KModule, ModuleImage, Uevent } from "./types.ts";
import { busRegister, deviceAdd, deviceDel, driverRegister, driverUnregister, type DeviceAddOptions } from "./registry.ts";
import { deviceAttach, deviceDriverAttach, driverAttach } from "./probe.ts";
import { deviceReleaseDriver, deviceDriverDetach } from "./bind.ts";
import { deferredProbeInitcall, driverDeferredProbeTrigger } from "./deferred.ts";
import { loadModule, unloadModule, registerBuiltinModule } from "./module.ts";
import { requestModule, type RequestModuleState } from "./request-module.ts";

/** A KernelHost without a simulator: queued work runs when the outermost kernel call returns. */
class InlineHost implements KernelHost {
  private t = 0;
  readonly queue: { label: string; fn: () => void }[] = [];
  now(): number {
    return this.t;
  }
  advance(ns: number): void {
    this.t += ns;
  }
  queueWork(label: string, fn: () => void): void {
    this.queue.push({ label, fn });
  }
}

export interface KernelOptions {
  host?: KernelHost;
  /** driver_deferred_probe_enable before late_initcall (false during early boot). Default true. */
  deferredProbeEnabled?: boolean;
  /** Kernel command line (module_blacklist=, driver_async_probe=...). */
  cmdline?: string;
}

export class Kernel {
  readonly buses = new Map<string, Bus>();
  /** Every registered device by devpath (/devices/...). */
  readonly devicesByPath = new Map<string, Device>();
  /** Root devices (no parent), in add order. */
  readonly roots: Device[] = [];
  readonly modules = new Map<string, KModule>();
  /** Module images "on disk" that insertModule can load, by module name. */
  readonly moduleImages = new Map<string, ModuleImage>();
  /** Fallback for names not in moduleImages (e.g. images derived from a real modules.alias). */
  imageResolver: ((name: string) => ModuleImage | undefined) | null = null;
  /** deferred_probe_pending_list / deferred_probe_active_list (FIFO). */
  readonly deferredPending: Device[] = [];
  readonly deferredActive: Device[] = [];
  deferredProbeEnabled: boolean;
  deferredTriggerCount = 0;
  deferredWorkQueued = false;
  /** defer_all_probes (device_block_probing). */
  deferAllProbes = false;
  /** Next Device.addSeq. */
  nextDeviceSeq = 0;
  /** uevent_seqnum. */
  seqnum = 0;
  cmdline: string;
  readonly requestModuleState: RequestModuleState = { inFlight: 0, max: 50 };
  readonly host: KernelHost;
  private readonly inline: InlineHost | null;
  private depth = 0;
  private readonly ueventListeners: ((ev: Uevent) => void)[] = [];
  private readonly traceListeners: ((ev: KernelTraceEvent) => void)[] = [];

  constructor(opts: KernelOptions = {}) {
    if (opts.host) {
      this.host = opts.host;
      this.inline = null;
    } else {
      this.inline = new InlineHost();
      this.host = this.inline;
    }
    this.deferredProbeEnabled = opts.deferredProbeEnabled ?? true;
    this.cmdline = opts.cmdline ?? "";
  }

  // ---- plumbing -------------------------------------------------------------------------------

  /** Runs a kernel operation; without a simulator, drains queued work when the outermost one ends. */
  op<T>(fn: () => T): T {
    this.depth++;
    try {
      return fn();
    } finally {
      this.depth--;
      if (this.depth === 0 && this.inline) this.drainInline();
    }
  }

  private drainInline(): void {
    const q = this.inline!.queue;
    this.depth++;
    try {
      for (let w = q.shift(); w; w = q.shift()) w.fn();
    } finally {
      this.depth--;
    }
  }

  onUevent(fn: (ev: Uevent) => void): () => void {
    this.ueventListeners.push(fn);
    return () => {
      const i = this.ueventListeners.indexOf(fn);
      if (i >= 0) this.ueventListeners.splice(i, 1);
    };
  }

  onTrace(fn: (ev: KernelTraceEvent) => void): () => void {
    this.traceListeners.push(fn);
    return () => {
      const i = this.traceListeners.indexOf(fn);
      if (i >= 0) this.traceListeners.splice(i, 1);
    };
  }

  /** @internal used by uevent.ts */
  deliverUevent(ev: Uevent): void {
    for (const l of this.ueventListeners) l(ev);
  }

  trace(ev: KernelTraceEvent): void {
    for (const l of this.traceListeners) l(ev);
  }

  // ---- lookups --------------------------------------------------------------------------------

  bus(name: string): Bus {
    const b = this.buses.get(name);
    if (!b) throw new KbindError("ENODEV", `no bus "${name}" registered`, { errno: "ENODEV" });
    return b;
  }

  findDevice(bus: string, name: string): Device | undefined {
    return this.buses.get(bus)?.devicesByName.get(name);
  }

  device(bus: string, name: string): Device {
    const d = this.findDevice(bus, name);
    if (!d) throw new KbindError("ENODEV", `no ${bus} device "${name}"`, { errno: "ENODEV" });
    return d;
  }

  findDriver(bus: string, name: string): Driver | undefined {
    return this.buses.get(bus)?.driversByName.get(name);
  }

  // ---- drivers/base API -----------------------------------------------------------------------

  /** bus_register(). */
  busRegister(type: BusType): Bus {
    return this.op(() => busRegister(this, type));
  }

  /** Replace a registered bus's type object (how extensions plug in flavour-aware matching). */
  setBusType(name: string, type: BusType): void {
    this.bus(name).type = type;
  }

  /** device_add(): ADD uevent, then bus_probe_device(). */
  deviceAdd(opts: DeviceAddOptions): Device {
    return this.op(() => deviceAdd(this, opts));
  }

  /** device_del(): release the driver, REMOVE uevent (children first). */
  deviceDel(dev: Device): void {
    this.op(() => deviceDel(this, dev));
  }

  /** driver_register(): -EBUSY on duplicate name; attaches to unbound matching devices. */
  driverRegister(spec: DriverSpec, module: string | null): Driver | number {
    return this.op(() => driverRegister(this, spec, module));
  }

  /** driver_unregister(): releases bound devices in reverse bind order. */
  driverUnregister(drv: Driver): void {
    this.op(() => driverUnregister(this, drv));
  }

  /** device_attach(): 1 bound, 0 none, <0 error. Synchronous. */
  deviceAttach(dev: Device): number {
    return this.op(() => deviceAttach(this, dev));
  }

  /** driver_attach(). */
  driverAttach(drv: Driver): number {
    return this.op(() => driverAttach(this, drv));
  }

  /** device_driver_attach() (sysfs bind): 0, or -EBUSY/-EAGAIN/probe error. */
  deviceDriverAttach(drv: Driver, dev: Device): number {
    return this.op(() => deviceDriverAttach(this, drv, dev));
  }

  /** device_release_driver(). */
  deviceReleaseDriver(dev: Device): void {
    this.op(() => deviceReleaseDriver(this, dev));
  }

  /** device_driver_detach() (sysfs unbind). */
  deviceDriverDetach(dev: Device): void {
    this.op(() => deviceDriverDetach(this, dev));
  }

  /** driver_deferred_probe_trigger(). */
  deferredProbeTrigger(): void {
    this.op(() => driverDeferredProbeTrigger(this));
  }

  /** deferred_probe_initcall() (late_initcall): enables deferred probing and triggers it. */
  lateInitcall(): void {
    this.op(() => deferredProbeInitcall(this));
  }

  /** The image insertModule would load for `name`. */
  moduleImage(name: string): ModuleImage | undefined {
    return this.moduleImages.get(name) ?? this.imageResolver?.(name);
  }

  /** Make a module image available to insertModule (a .ko on disk). */
  addModuleImage(img: ModuleImage): void {
    this.moduleImages.set(img.name, img);
  }

  /** A built-in module: registered at boot, /sys/module/<name> without initstate. */
  registerBuiltin(img: ModuleImage): number {
    return this.op(() => registerBuiltinModule(this, img));
  }

  /** finit_module(): 0 or -errno (-EEXIST if loaded, -ENOENT if no image). */
  insertModule(name: string, params = ""): number {
    return this.op(() => loadModule(this, name, params));
  }

  /** delete_module(): 0 or -errno (-ENOENT, -EWOULDBLOCK when in use). */
  deleteModule(name: string): number {
    return this.op(() => unloadModule(this, name));
  }

  /** __request_module(wait, name). */
  requestModule(name: string, wait: boolean): number {
    return this.op(() => requestModule(this, name, wait));
  }

  // ---- state summaries ------------------------------------------------------------------------

  /** Every device on every bus, bus registration order then device add order. */
  *allDevices(): Generator<Device> {
    for (const b of this.buses.values()) yield* b.devices;
  }

  /** Deferred devices: pending then active. */
  deferredDevices(): Device[] {
    return [...this.deferredPending, ...this.deferredActive];
  }
}
