// Runs a scenario: builds the kernel model (buses, built-in modules, devices), the module tree (inline
// modules through buildModuleDir, or a real modules directory read by the caller), udevd with the
// 80-drivers rule and kmod's modprobe running into the model, then boots and plays the script on
// virtual time. Output: the trace, expectation results and the final state.
import { Kernel } from "../kernel/kernel.ts";
import type { Device, DriverSpec, ModuleImage } from "../kernel/types.ts";
import { newPciDevData, pciBusType, pciDriverSpec } from "../kernel/bus/pci.ts";
import { platformBusType, platformDriverSpec } from "../kernel/bus/platform.ts";
import { virtioBusType, virtioDriverSpec } from "../kernel/bus/virtio.ts";
import { probeFromBehaviour } from "../kernel/behaviour.ts";
import { ModelSysfs } from "../kernel/sysfs.ts";
import { kobjectUevent } from "../kernel/uevent.ts";
import { buildModuleDir, type ModuleDir } from "../kmod/module-dir.ts";
import { createKmodContext, type KmodContext } from "../kmod/context.ts";
import { acpiAliases, ofAliases, pciAliases, platformAliases, virtioAliases } from "../model/file2alias.ts";
import { PCI_ANY_ID, PCI_ID_F_VFIO_DRIVER_OVERRIDE, type PciDeviceId } from "../model/pci.ts";
import { VIRTIO_DEV_ANY_ID } from "../model/virtio.ts";
import { acpiId, type AcpiDeviceId } from "../model/acpi.ts";
import type { OfDeviceId } from "../model/of.ts";
import { KbindError } from "../model/errors.ts";
import { SysfsError } from "../ports.ts";
import { errnoName } from "../model/errno.ts";
import { Scheduler } from "./scheduler.ts";
import { Random } from "./random.ts";
import { Trace } from "./trace.ts";
import { DEFAULT_UDEV, Udevd, type UdevOptions } from "./udev.ts";
import { modelKmodKernel, modelModprobeEnv, runModelModprobe } from "./kmod-bridge.ts";
import { moduleLoadAndWarn } from "./module-load.ts";
import { imagesFromModulesAlias, installAliasImages } from "./alias-drivers.ts";
import { scenarioError, type LoadedScenario, type ScenarioAction, type ScenarioDevice, type ScenarioDriver, type ScenarioExpect, type ScenarioModule } from "./scenario.ts";

export interface SimOptions {
  /** Overrides the scenario's seed. */
  seed?: number;
  /** Stop the clock at this time (ns) instead of running until idle. */
  untilNs?: number;
  /** The real modules directory named by `modules.dir`, read by the caller (src/host/kmod-files.ts). */
  moduleDir?: ModuleDir;
  /** Keep trace records (false: count only, for benchmarks). */
  keepTrace?: boolean;
}

export interface DeviceState {
  bus: string;
  name: string;
  driver: string | null;
  driverOverride: string | null;
}

export interface FinalState {
  timeNs: number;
  devices: DeviceState[];
  modules: { name: string; state: string; refcnt: number; builtin: boolean }[];
  deferred: string[];
}

export interface SimResult {
  kernel: Kernel;
  sysfs: ModelSysfs;
  trace: Trace;
  failures: number;
  expectations: number;
  state: FinalState;
  sched: Scheduler;
}

// ---- model building -----------------------------------------------------------------------------

function pciIds(d: ScenarioDriver): PciDeviceId[] {
  return (d.ids ?? []).map((i) => ({
    vendor: i.vendor,
    device: i.device,
    subvendor: i.subvendor ?? PCI_ANY_ID,
    subdevice: i.subdevice ?? PCI_ANY_ID,
    class: i.class ?? 0,
    classMask: i.classMask ?? 0,
    driverData: i.driverData ?? 0,
    overrideOnly: i.overrideOnly ? PCI_ID_F_VFIO_DRIVER_OVERRIDE : 0,
  }));
}

function ofIds(d: ScenarioDriver): OfDeviceId[] {
  return (d.of ?? []).map((o) => (typeof o === "string" ? { name: "", type: "", compatible: o } : { name: o.name ?? "", type: o.type ?? "", compatible: o.compatible ?? "" }));
}

function acpiIds(d: ScenarioDriver): AcpiDeviceId[] {
  return (d.acpi ?? []).map((a) => acpiId(a));
}

function driverSpec(d: ScenarioDriver): DriverSpec {
  const common = {
    ...(d.probeType ? { probeType: d.probeType } : {}),
    ...(d.suppressBindAttrs ? { suppressBindAttrs: true } : {}),
    ...(d.probe
      ? {
          probe: probeFromBehaviour({
            ...(d.probe.result !== undefined ? { result: d.probe.result } : {}),
            ...(d.probe.time !== undefined ? { timeNs: d.probe.time } : {}),
            ...(d.probe.deferUntilBound ? { deferUntilBound: d.probe.deferUntilBound } : {}),
            ...(d.probe.resultFor ? { resultFor: d.probe.resultFor } : {}),
          }),
        }
      : {}),
  };
  switch (d.bus) {
    case "pci":
      return pciDriverSpec(d.name, d.ids ? pciIds(d) : null, { ...common, sriovConfigure: d.sriovConfigure ?? false });
    case "platform":
      return platformDriverSpec(
        d.name,
        {
          ofMatchTable: d.of ? ofIds(d) : null,
          acpiMatchTable: d.acpi ? acpiIds(d) : null,
          idTable: d.platformIds ? d.platformIds.map((name) => ({ name, driverData: 0 })) : null,
        },
        { ...common, preventDeferredProbe: d.preventDeferredProbe ?? false },
      );
    case "virtio":
      return virtioDriverSpec(d.name, (d.virtioIds ?? []).map((v) => ({ device: v.device, vendor: v.vendor === undefined || v.vendor === "*" ? VIRTIO_DEV_ANY_ID : v.vendor })), common);
  }
}

/** The modinfo depmod would read from the module: aliases file2alias generates from its tables. */
function modinfoOf(m: ScenarioModule): [string, string][] {
  const info: [string, string][] = [];
  for (const d of m.drivers) {
    if (d.bus === "pci") for (const id of pciIds(d)) for (const a of pciAliases(id)) info.push(["alias", a]);
    if (d.bus === "platform") {
      for (const id of ofIds(d)) for (const a of ofAliases(id)) info.push(["alias", a]);
      for (const id of acpiIds(d)) for (const a of acpiAliases(id)) info.push(["alias", a]);
      for (const n of d.platformIds ?? []) for (const a of platformAliases({ name: n, driverData: 0 })) info.push(["alias", a]);
    }
    if (d.bus === "virtio") {
      for (const v of d.virtioIds ?? []) for (const a of virtioAliases({ device: v.device, vendor: v.vendor === undefined || v.vendor === "*" ? VIRTIO_DEV_ANY_ID : v.vendor })) info.push(["alias", a]);
    }
  }
  for (const a of m.aliases ?? []) info.push(["alias", a]);
  if (m.softdep) info.push(["softdep", m.softdep]);
  info.push(["depends", (m.depends ?? []).map((x) => x.replace(/-/g, "_")).join(",")]);
  return info;
}

/**
 * The modules each module uses directly, from modules.dep. depmod writes every module's full
 * dependency closure in load order; the direct users are approximated by its transitive reduction
 * (a dependency reachable through another dependency is taken as used only through it), which gives
 * e.g. nvme → nvme_core, nvme_core → t10_pi as lsmod shows on Debian 6.1. It undercounts a module
 * that also calls a deeper dependency directly (virtio_net uses virtio_ring as well as virtio): the
 * real direct users are in each .ko's symbol table, which modules.dep does not keep.
 */
export function usesFromModulesDep(depText: string): Map<string, string[]> {
  const name = (path: string): string => path.slice(path.lastIndexOf("/") + 1).replace(/\.ko(\.\w+)?$/, "").replace(/-/g, "_");
  const closure = new Map<string, string[]>();
  for (const line of depText.split("\n")) {
    const c = line.indexOf(":");
    if (c <= 0) continue;
    closure.set(name(line.slice(0, c)), line.slice(c + 1).trim().split(/\s+/).filter(Boolean).map(name));
  }
  const out = new Map<string, string[]>();
  for (const [m, all] of closure) {
    const indirect = new Set<string>();
    for (const d of all) for (const x of closure.get(d) ?? []) indirect.add(x);
    out.set(m, all.filter((d) => !indirect.has(d)));
  }
  return out;
}

function relpathOf(m: ScenarioModule): string {
  return m.relpath ?? `kernel/drivers/${m.name}.ko`;
}

export class Simulation {
  readonly sched = new Scheduler();
  readonly rng: Random;
  readonly trace: Trace;
  readonly kernel: Kernel;
  readonly sysfs: ModelSysfs;
  readonly udev: Udevd;
  readonly ctx: KmodContext;
  readonly moduleDir: ModuleDir;
  readonly loaded: LoadedScenario;
  private readonly modprobeEnv: ReturnType<typeof modelModprobeEnv>;
  failures = 0;
  expectations = 0;

  constructor(loaded: LoadedScenario, opts: SimOptions = {}) {
    const sc = loaded.scenario;
    this.loaded = loaded;
    this.rng = new Random(opts.seed ?? sc.seed ?? 1);
    this.trace = new Trace(() => this.sched.now(), opts.keepTrace ?? true);
    const k = new Kernel({ host: this.sched, deferredProbeEnabled: sc.kernel.deferredProbe === "enabled", cmdline: sc.kernel.cmdline });
    this.kernel = k;
    k.busRegister(pciBusType);
    k.busRegister(platformBusType);
    k.busRegister(virtioBusType);
    this.sysfs = new ModelSysfs(k);
    k.onTrace((t) => this.trace.kernel(t));

    // Module tree.
    const inline = sc.modules.inline;
    const loadable = inline.filter((m) => !m.builtin);
    const builtin = inline.filter((m) => m.builtin);
    if (sc.modules.dir !== undefined) {
      if (!opts.moduleDir) scenarioError(loaded, ["modules", "dir"], `modules.dir "${sc.modules.dir}" was not read (the caller must pass the modules directory)`);
      this.moduleDir = opts.moduleDir;
      const aliasText = this.moduleDir.text("modules.alias") ?? "";
      const depText = this.moduleDir.text("modules.dep") ?? "";
      const deps = usesFromModulesDep(depText);
      installAliasImages(k, imagesFromModulesAlias(aliasText), (n) => deps.has(n));
      const base = k.imageResolver!;
      // ref_module(): each module holds a reference on the modules it uses directly.
      k.imageResolver = (n) => {
        const img = base(n);
        return img ? { ...img, uses: deps.get(n) ?? [] } : undefined;
      };
    } else {
      const order = (sc.modules.order ?? loadable.map((m) => m.name)).map((n) => {
        const m = loadable.find((x) => x.name === n);
        return m ? relpathOf(m) : n;
      });
      try {
        this.moduleDir = buildModuleDir(
          loadable.map((m) => ({ name: m.name, relpath: relpathOf(m), modinfo: modinfoOf(m) })),
          {
            order: order.join("\n") + "\n",
            builtin: builtin.map((m) => relpathOf(m)).join("\n") + (builtin.length ? "\n" : ""),
            builtinModinfo: new TextEncoder().encode(builtin.flatMap((m) => modinfoOf(m).filter(([key]) => key === "alias").map(([key, v]) => `${m.name}.${key}=${v}\0`)).join("")),
          },
        );
      } catch (e) {
        if (e instanceof KbindError) scenarioError(loaded, ["modules", "inline"], e.message);
        throw e;
      }
    }
    for (const m of loadable) {
      const img: ModuleImage = { name: m.name.replace(/-/g, "_"), drivers: m.drivers.map(driverSpec), uses: (m.depends ?? []).map((x) => x.replace(/-/g, "_")) };
      if (m.initResult !== undefined) img.initResult = m.initResult;
      k.addModuleImage(img);
    }

    // Userspace: kmod context (udev's, created once), modprobe env, udevd.
    const release = sc.kernel.release;
    const configFiles = typeof sc.modprobe.config === "string" ? [{ path: "/etc/modprobe.d/scenario.conf", text: sc.modprobe.config }] : (sc.modprobe.config ?? []);
    const failures = new Map(Object.entries(sc.modprobe.failures ?? {}).map(([n, e]) => [n.replace(/-/g, "_"), e]));
    this.modprobeEnv = modelModprobeEnv(k, { moduleDir: this.moduleDir, release, configFiles, insertFailures: failures, trace: this.trace });
    this.ctx = createKmodContext({
      moduleDir: this.moduleDir,
      dirname: `/lib/modules/${release}`,
      configFiles,
      kernel: modelKmodKernel(k, { insertFailures: failures, trace: this.trace, runModprobe: (argv) => this.modprobe(argv) }),
      checkModuleFiles: false,
    });
    this.sched.callModprobe = (argv) => this.modprobe(argv.slice(1));
    const u: UdevOptions = {
      latencyNs: sc.udev.latency ?? DEFAULT_UDEV.latencyNs,
      jitterNs: sc.udev.jitter ?? DEFAULT_UDEV.jitterNs,
      childrenMax: sc.udev.childrenMax ?? DEFAULT_UDEV.childrenMax,
      driversRule: sc.udev.driversRule ?? DEFAULT_UDEV.driversRule,
    };
    this.udev = new Udevd(u, this.sched, this.rng, this.trace, (modalias, devpath) => {
      moduleLoadAndWarn(this.ctx, modalias, (line) => this.trace.add("udev", "kmod", line, { devpath }));
    });
    k.onUevent((ev) => {
      this.trace.uevent(ev);
      this.udev.receive(ev);
    });

    for (const m of builtin) k.registerBuiltin({ name: m.name.replace(/-/g, "_"), drivers: m.drivers.map(driverSpec) });
  }

  /** kmod's modprobe in the model; returns the exit code. */
  modprobe(argv: string[]): number {
    return runModelModprobe(argv, this.modprobeEnv, this.trace).code;
  }

  /** Adds a scenario device (parent by name; PCI devices default to the root bus of their domain). */
  addDevice(d: ScenarioDevice, path: (string | number)[]): Device {
    const k = this.kernel;
    let parent: Device | null = null;
    if (d.parent !== undefined) {
      parent = [...k.devicesByPath.values()].find((x) => x.name === d.parent) ?? null;
      if (!parent) scenarioError(this.loaded, [...path, "parent"], `unknown parent device "${d.parent}" (devices must be listed after their parent)`);
    } else if (d.bus === "pci") {
      const rootName = `pci${d.name.slice(0, 4)}:00`;
      parent = k.devicesByPath.get(`/devices/${rootName}`) ?? k.deviceAdd({ name: rootName, bus: null, data: null });
    }
    try {
      switch (d.bus) {
        case "none":
          return k.deviceAdd({ name: d.name, bus: null, parent, data: null });
        case "pci":
          return k.deviceAdd({
            name: d.name,
            bus: "pci",
            parent,
            iommuGroup: d.iommuGroup ?? null,
            driverOverride: d.driverOverride ?? null,
            data: newPciDevData(
              { vendor: d.vendor!, device: d.device!, subvendor: d.subvendor ?? 0, subdevice: d.subdevice ?? 0, class: d.class ?? 0, ...(d.revision !== undefined ? { revision: d.revision } : {}) },
              d.sriov,
            ),
          });
        case "platform":
          return k.deviceAdd({
            name: d.name,
            bus: "platform",
            parent,
            driverOverride: d.driverOverride ?? null,
            data: {
              name: d.name,
              of: d.of ? { fullName: d.of.fullName, compatible: d.of.compatible, type: d.of.type ?? null } : null,
              acpi: d.acpi ? { ids: d.acpi.ids, present: d.acpi.present ?? true, name: d.acpi.name ?? "DEV0", ofCompatible: d.acpi.ofCompatible ?? [] } : null,
            },
          });
        case "virtio":
          return k.deviceAdd({ name: d.name, bus: "virtio", parent, data: { device: d.device!, vendor: d.vendor ?? 0 } });
      }
    } catch (e) {
      if (e instanceof KbindError && e.code === "EEXIST") scenarioError(this.loaded, [...path, "name"], e.message);
      throw e;
    }
  }

  /** Boot: built-ins are registered (constructor); devices are added at t=0 in order; late_initcall. */
  boot(): void {
    const sc = this.loaded.scenario;
    this.trace.add("script", "boot", `boot: ${sc.machine.devices.length} devices, ${sc.modules.inline.length} inline modules`);
    sc.machine.devices.forEach((d, i) => this.addDevice(d, ["machine", "devices", i]));
    if (sc.kernel.deferredProbe === "late") this.kernel.lateInitcall();
  }

  private expectFail(text: string): void {
    this.failures++;
    this.trace.add("expect", "fail", `FAIL ${text}`, { ok: false });
  }

  private expectOk(text: string): void {
    this.trace.add("expect", "ok", `ok   ${text}`, { ok: true });
  }

  private check(ok: boolean, text: string): void {
    this.expectations++;
    if (ok) this.expectOk(text);
    else this.expectFail(text);
  }

  checkState(e: ScenarioExpect): void {
    const k = this.kernel;
    for (const [dev, drv] of Object.entries(e.bound ?? {})) {
      const d = [...k.allDevices()].find((x) => x.name === dev);
      const got = d?.driver?.name ?? null;
      this.check(d !== undefined && got === drv, `${dev} bound to ${drv ?? "(none)"}${got !== drv ? ` (got ${d ? (got ?? "(none)") : "no such device"})` : ""}`);
    }
    for (const m of e.loaded ?? []) this.check(k.modules.get(m.replace(/-/g, "_"))?.state === "live", `module ${m} loaded`);
    for (const m of e.notLoaded ?? []) this.check(!k.modules.has(m.replace(/-/g, "_")), `module ${m} not loaded`);
    if (e.deferred) {
      const got = k.deferredDevices().map((d) => d.name);
      this.check(JSON.stringify(got) === JSON.stringify(e.deferred), `deferred = [${e.deferred.join(", ")}]${JSON.stringify(got) !== JSON.stringify(e.deferred) ? ` (got [${got.join(", ")}])` : ""}`);
    }
  }

  /** One script step. */
  runAction(a: ScenarioAction, index: number): void {
    const s = this.sched;
    if (a.at !== undefined) s.runUntil(a.at);
    const step = `#${index + 1}`;
    const errOf = (e: unknown): string => {
      if (e instanceof SysfsError) return e.errno;
      throw e;
    };
    if (a.write !== undefined) {
      const value = a.value ?? "";
      let result: string;
      try {
        const n = this.sysfs.writeSync(a.write, value);
        result = `= ${n}`;
      } catch (e) {
        result = `= -1 ${errOf(e)}`;
      }
      this.trace.add("script", "write", `${step} write ${JSON.stringify(value)} > ${a.write} ${result}`);
      const want = a.expectErrno ?? (typeof a.expect === "string" ? a.expect : undefined);
      if (want !== undefined) {
        const got = result.startsWith("= -1 ") ? result.slice(5) : "ok";
        this.check(got === want.replace(/^-/, ""), `${step} write ${a.write} → ${want}${got !== want ? ` (got ${got})` : ""}`);
      }
    } else if (a.read !== undefined) {
      let got: string;
      try {
        got = this.sysfs.readSync(a.read);
      } catch (e) {
        got = `-1 ${errOf(e)}`;
      }
      this.trace.add("script", "read", `${step} read ${a.read} = ${JSON.stringify(got)}`);
      if (typeof a.expect === "string") this.check(got === a.expect || got === a.expect + "\n", `${step} read ${a.read} = ${JSON.stringify(a.expect)}`);
      if (a.expectErrno !== undefined) this.check(got === `-1 ${a.expectErrno.replace(/^-/, "")}`, `${step} read ${a.read} → ${a.expectErrno}`);
    } else if (a.readlink !== undefined) {
      let got: string | null;
      try {
        got = this.sysfs.readlinkSync(a.readlink);
      } catch (e) {
        got = `-1 ${errOf(e)}`;
      }
      this.trace.add("script", "readlink", `${step} readlink ${a.readlink} = ${JSON.stringify(got)}`);
      if (a.expect !== undefined && (typeof a.expect === "string" || a.expect === null)) this.check(got === a.expect, `${step} readlink ${a.readlink} = ${JSON.stringify(a.expect)}`);
      if (a.expectErrno !== undefined) this.check(got === `-1 ${a.expectErrno.replace(/^-/, "")}`, `${step} readlink ${a.readlink} → ${a.expectErrno}`);
    } else if (a.hotplug !== undefined) {
      this.trace.add("script", "hotplug", `${step} hotplug ${a.hotplug.bus} ${a.hotplug.name}`);
      this.addDevice(a.hotplug, ["script", index, "hotplug"]);
    } else if (a.unplug !== undefined) {
      const d = [...this.kernel.devicesByPath.values()].find((x) => x.name === a.unplug);
      if (!d) scenarioError(this.loaded, ["script", index, "unplug"], `unknown device "${a.unplug}"`);
      this.trace.add("script", "unplug", `${step} unplug ${a.unplug}`);
      this.kernel.deviceDel(d);
    } else if (a.modprobe !== undefined) {
      const argv = a.modprobe.trim().split(/\s+/).filter(Boolean);
      const code = this.modprobe(argv);
      if (a.expect !== undefined && typeof a.expect === "string") this.check(String(code) === a.expect, `${step} modprobe ${a.modprobe} exits ${a.expect}`);
    } else if (a.insmod !== undefined) {
      const r = this.kernel.insertModule(a.insmod.replace(/-/g, "_"));
      this.trace.add("script", "insmod", `${step} finit_module(${a.insmod}) = ${r}${r < 0 ? ` ${errnoName(r) ?? ""}` : ""}`);
    } else if (a.rmmod !== undefined) {
      const r = this.kernel.deleteModule(a.rmmod.replace(/-/g, "_"));
      this.trace.add("script", "rmmod", `${step} delete_module(${a.rmmod}) = ${r}${r < 0 ? ` ${errnoName(r) ?? ""}` : ""}`);
    } else if (a.wait !== undefined) {
      s.runUntil(s.now() + a.wait);
    } else if (a.settle) {
      s.runAll();
    } else if (a.trigger) {
      // udevadm trigger --action=add: write "add" to every device's uevent file (bus devices only).
      this.trace.add("script", "trigger", `${step} udevadm trigger --action=add`);
      for (const d of [...this.kernel.allDevices()]) kobjectUevent(this.kernel, d, "add", [["SYNTH_UUID", "0"]]);
    } else if (a.lateInitcall) {
      this.trace.add("script", "late_initcall", `${step} late_initcall (deferred_probe_initcall)`);
      this.kernel.lateInitcall();
    }
    if (typeof a.expect === "object" && a.expect !== null && a.write === undefined && a.read === undefined && a.readlink === undefined && a.modprobe === undefined) this.checkState(a.expect);
  }

  finalState(): FinalState {
    const k = this.kernel;
    return {
      timeNs: this.sched.now(),
      devices: [...k.allDevices()].map((d) => ({ bus: d.bus!.name, name: d.name, driver: d.driver?.name ?? null, driverOverride: d.driverOverride })),
      modules: [...k.modules.values()].map((m) => ({ name: m.name, state: m.state, refcnt: m.refcnt, builtin: m.builtin })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
      deferred: k.deferredDevices().map((d) => d.name),
    };
  }
}

/** Boots the scenario, plays its script, and runs until idle (or `untilNs`). */
export function simulate(loaded: LoadedScenario, opts: SimOptions = {}): SimResult {
  const sim = new Simulation(loaded, opts);
  sim.boot();
  const limit = opts.untilNs;
  loaded.scenario.script.forEach((a, i) => {
    if (limit !== undefined && a.at !== undefined && a.at > limit) return;
    if (limit !== undefined && sim.sched.now() > limit) return;
    sim.runAction(a, i);
  });
  if (limit !== undefined) sim.sched.runUntil(limit);
  else sim.sched.runAll();
  return { kernel: sim.kernel, sysfs: sim.sysfs, trace: sim.trace, failures: sim.failures, expectations: sim.expectations, state: sim.finalState(), sched: sim.sched };
}

/** The final state as text (bindings, modules, deferred). */
export function formatFinalState(s: FinalState): string {
  const out: string[] = [`final state at ${(s.timeNs / 1e9).toFixed(6)} s`, "devices:"];
  for (const d of s.devices) out.push(`  ${d.bus.padEnd(8)} ${d.name.padEnd(20)} ${d.driver ?? "-"}${d.driverOverride !== null ? `  (driver_override=${d.driverOverride})` : ""}`);
  out.push("modules:");
  for (const m of s.modules) out.push(`  ${m.name.padEnd(24)} ${m.builtin ? "builtin" : `${m.state} refcnt=${m.refcnt}`}`);
  out.push(`deferred: ${s.deferred.length ? s.deferred.join(", ") : "(none)"}`);
  return out.join("\n") + "\n";
}
