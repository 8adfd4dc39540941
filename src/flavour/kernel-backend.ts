// The flavour designs on the team's stack: the driver core model (src/kernel) with the design's
// kernel behaviour as bus-type wrappers, the module directory made by depmod from modinfo
// (src/kmod buildModuleDir: the real Debian aliases, deps and softdeps plus the variant modules'),
// kmod 30's modprobe and udev's module_load_and_warn running into the model (src/sim/kmod-bridge.ts,
// src/sim/module-load.ts), systemd-udevd's queue (src/sim/udev.ts) on the simulator's (time, seq)
// scheduler (src/sim/scheduler.ts), and the userspace agents (ops.ts generators) on the model's
// SysfsPort (src/kernel/sysfs.ts).
//
// Design-specific kernel behaviour, all in src/flavour:
// - (a) driver_flavour: installDriverFlavour() (kernel-flavour.ts);
// - (b) driver_override compared with fnmatch() against the driver and the module name (a wrapped
//   bus match; probe sees the pci_device_id_any of an override naming the driver), and vfio_pci's
//   MODULE_SOFTDEP("pre: <variants>") as a softdep modinfo key of vfio_pci in the module directory;
// - vfio_platform_get_reset(): vfio-platform's probe calls request_module("vfio-reset:<compat>") on
//   the model, for the first compatible string (upstream) or every string best first (design a).
//
// Time. The model's calls are synchronous: a sysfs store, a modprobe run and everything they cause
// happen within one scheduler event. Their cost (modprobe exec, each finit_module) is charged to the
// caller: the agent resumes that much later, and trace stamps inside the call advance with it. So
// effects become visible at the start of the call (a linearisation point inside it), agents and udev
// workers interleave between calls, and a store that waits for modprobe returns late.
import { fnmatch } from "../kmod/fnmatch.ts";
import { createKmodContext, type KmodContext } from "../kmod/context.ts";
import { depmodFromModinfo } from "../kmod/depmod.ts";
import { ModuleDir } from "../kmod/module-dir.ts";
import type { ModprobeEnv } from "../kmod/modprobe.ts";
import type { KmodKernelPort } from "../kmod/kernel-port.ts";
import { Kernel } from "../kernel/kernel.ts";
import { newPciDevData, pciBusType, pciDriverSpec } from "../kernel/bus/pci.ts";
import { platformBusType, platformDriverSpec } from "../kernel/bus/platform.ts";
import { ModelSysfs } from "../kernel/sysfs.ts";
import type { BusType, Device, DriverSpec, ModuleImage, Uevent } from "../kernel/types.ts";
import { ERRNO, errnoName } from "../model/errno.ts";
import { PCI_ID_F_VFIO_DRIVER_OVERRIDE } from "../model/pci.ts";
import { pciDevData, pciDrvData } from "../kernel/bus/pci.ts";
import { platformDevData } from "../kernel/bus/platform.ts";
import { SysfsError, type ProcessResult } from "../ports.ts";
import { modelKmodKernel, modelModprobeEnv, runModelModprobe } from "../sim/kmod-bridge.ts";
import { moduleLoadAndWarn } from "../sim/module-load.ts";
import { Random } from "../sim/random.ts";
import { Scheduler } from "../sim/scheduler.ts";
import { Trace, type TraceSource, type TraceRecord } from "../sim/trace.ts";
import { Udevd, type UdevOptions } from "../sim/udev.ts";
import { errorText, type BackendDevice, type BackendOptions, type FlavourBackend, type TraceEntry, type TraceKind } from "./backend.ts";
import { FLAVOUR_VFIO, pciIdentity, type Catalogue, type ModuleDef } from "./catalogue.ts";
import type { Design, DeviceIdentity, UdevRule } from "./designs/design.ts";
import { installDriverFlavour, vfioPlatformProbe, vfioPlatformResetModule, } from "./kernel-flavour.ts";
import type { Op, OpResult, Proc } from "./ops.ts";
import { isPlatformSpec, type DeviceSpec } from "./spec.ts";

const MS = 1_000_000;

/** The modinfo depmod reads from a catalogue module: its aliases, softdeps and dependencies. */
function modinfoOf(m: ModuleDef, extraPre: readonly string[], missing: ReadonlySet<string>): [string, string][] {
  const info: [string, string][] = m.aliases.map((a) => ["alias", a]);
  const pre = [...extraPre, ...m.softPre].filter((x) => !missing.has(x));
  if (pre.length > 0 || m.softPost.length > 0) info.push(["softdep", [pre.length > 0 ? `pre: ${pre.join(" ")}` : "", m.softPost.length > 0 ? `post: ${m.softPost.join(" ")}` : ""].filter((x) => x !== "").join(" ")]);
  info.push(["depends", m.deps.filter((d) => !missing.has(d)).join(",")]);
  return info;
}

/** depmod's output per catalogue and missing-module set (depmod over 26 k aliases is the slow part). */
const filesCache = new WeakMap<Catalogue, Map<string, ReadonlyMap<string, Uint8Array>>>();
const dirCache = new WeakMap<Catalogue, Map<string, ModuleDir>>();

function installed(cat: Catalogue, missing: ReadonlySet<string>): ModuleDef[] {
  return [...cat.modules.values()].filter((m) => !missing.has(m.name));
}

/**
 * depmod's job for the catalogue: every installed module with its modinfo (aliases, softdep,
 * depends), in modules.dep order. A design's extra MODULE_SOFTDEP lines change only what depmod
 * writes to modules.softdep, so that file is regenerated alone and the indexes are shared.
 */
export function catalogueModuleDir(cat: Catalogue, extraSoftdeps: readonly { module: string; pre: string[] }[], missing: ReadonlySet<string>): ModuleDir {
  let dirs = dirCache.get(cat);
  if (!dirs) dirCache.set(cat, (dirs = new Map<string, ModuleDir>()));
  const missingKey = JSON.stringify([...missing].sort());
  const key = JSON.stringify([extraSoftdeps, missingKey]);
  const hit = dirs.get(key);
  if (hit) return hit;
  let byMissing = filesCache.get(cat);
  if (!byMissing) filesCache.set(cat, (byMissing = new Map<string, ReadonlyMap<string, Uint8Array>>()));
  const mods = installed(cat, missing);
  const order = mods.map((m) => m.relpath).join("\n") + "\n";
  let files = byMissing.get(missingKey);
  if (!files) {
    files = depmodFromModinfo(mods.map((m) => ({ name: m.name, relpath: m.relpath, modinfo: modinfoOf(m, [], missing) })), { order }).files;
    byMissing.set(missingKey, files);
  }
  if (extraSoftdeps.length > 0) {
    const extra = (name: string): string[] => extraSoftdeps.filter((x) => x.module === name).flatMap((x) => x.pre);
    // modules.softdep has one line per module with a softdep key, in module order: depmod over just
    // those modules writes the same file.
    const withSoft = mods.map((m) => ({ name: m.name, relpath: m.relpath, modinfo: modinfoOf(m, extra(m.name), missing).filter(([k]) => k === "softdep") })).filter((m) => m.modinfo.length > 0);
    const soft = depmodFromModinfo(withSoft, { order: withSoft.map((m) => m.relpath).join("\n") + "\n" }).files.get("modules.softdep");
    if (soft) files = new Map([...files, ["modules.softdep", soft]]);
  }
  const dir = ModuleDir.fromFiles(files);
  dirs.set(key, dir);
  return dir;
}

const aliasTexts = new WeakMap<ModuleDir, string | undefined>();

/** The modules.alias text depmod wrote (what libvirt reads), decoded once per directory. */
function aliasTextOf(dir: ModuleDir): string | undefined {
  if (!aliasTexts.has(dir)) aliasTexts.set(dir, dir.text("modules.alias"));
  return aliasTexts.get(dir);
}

/** FailingInserts: the bridge's per-module finit_module failures, plus the "modprobe fails" fault and the insmod cost. */
class InsertHook extends Map<string, number> {
  failAll = false;
  onInsert: () => void = () => undefined;
  override get(name: string): number | undefined {
    this.onInsert();
    return this.failAll ? -ERRNO.EPERM : super.get(name);
  }
}

/** The simulator's trace, also feeding the flavour trace and the udev rule hook. */
class ListenedTrace extends Trace {
  listener: ((source: TraceSource, kind: string, text: string, extra: Partial<TraceRecord>) => void) | null = null;
  override add(source: TraceSource, kind: string, text: string, extra: Partial<Omit<TraceRecord, "t" | "seq" | "source" | "kind" | "text">> = {}): void {
    super.add(source, kind, text, extra);
    this.listener?.(source, kind, text, extra);
  }
}

interface Agent {
  name: string;
  gen: Proc<unknown>;
  onExit: (value: unknown, error: unknown) => void;
}

export class KernelBackend implements FlavourBackend {
  readonly sched = new Scheduler();
  readonly rng: Random;
  readonly kernel: Kernel;
  readonly sysfs: ModelSysfs;
  readonly udev: Udevd;
  moduleDir: ModuleDir;
  readonly simTrace: ListenedTrace;
  readonly trace: TraceEntry[] = [];
  private readonly cat: Catalogue;
  private opts: BackendOptions;
  private readonly extraSoftdeps: readonly { module: string; pre: string[] }[];
  private readonly images = new Map<string, ModuleImage | undefined>();
  private readonly udevOpts: UdevOptions;
  private readonly inserts = new InsertHook();
  private env: ModprobeEnv;
  private ctx: KmodContext;
  private readonly labels = new Map<string, DeviceIdentity>();
  private readonly boundAt = new Map<string, number>();
  /** Per driver_flavour file: when the last store on it returns, in its writer's time. */
  private readonly storeBusyUntil = new Map<string, number>();
  /** Virtual ns at which each module finished loading, in its loader's time. */
  private readonly readyAt = new Map<string, number>();
  private readonly uevents = new Map<number, Uevent>();
  private udevMode: "ok" | "slow" | "dead" = "ok";
  private rule: UdevRule | null = null;
  /** Virtual ns of synchronous work charged to the current caller (see "Time" above). */
  private charge = 0;
  private writes = 0;
  private execs = 0;
  private nUevents = 0;

  constructor(cat: Catalogue, design: Design, opts: BackendOptions) {
    this.cat = cat;
    this.opts = opts;
    this.extraSoftdeps = design.config.extraSoftdeps;
    this.rng = new Random(opts.seed);
    this.simTrace = new ListenedTrace(() => this.localNow());
    this.simTrace.listener = (source, kind, text, extra) => {
      this.onSimTrace(source, kind, text, extra);
    };
    const k = new Kernel({ host: this.sched });
    this.kernel = k;
    k.busRegister(pciBusType);
    k.busRegister(platformBusType);
    this.sysfs = new ModelSysfs(k);
    k.onTrace((t) => {
      this.simTrace.kernel(t);
    });

    const cfg = design.config;
    // Kernel behaviour of the design, as bus-type wrappers.
    const platformFlavours: Record<string, { flavour: string; compatible: string[] }> = {};
    const resetModules: Record<string, string> = {};
    for (const m of cat.modules.values()) {
      for (const c of m.resetFor) resetModules[c] = m.name;
      for (const d of m.drivers) {
        const f = d.of.filter((o) => o.flavour === FLAVOUR_VFIO).map((o) => o.compatible);
        if (d.bus === "platform" && f.length > 0) platformFlavours[d.name] = { flavour: FLAVOUR_VFIO, compatible: f };
      }
    }
    if (cfg.flavourAttr) installDriverFlavour(k, { platform: platformFlavours });
    if (cfg.overrideGlob) for (const bus of ["pci", "platform"]) k.setBusType(bus, globOverride(k.bus(bus).type));
    k.setBusType("pci", vfioCapturesVfs(k.bus("pci").type));

    // Module images: what each module's init registers, built when the module is first loaded.
    const images = this.images;
    const probeVfioPlatform = vfioPlatformProbe(resetModules, cfg.resetLookup);
    k.imageResolver = (name) => {
      if (images.has(name)) return images.get(name);
      const m = cat.modules.get(name);
      const img = m && !this.opts.missing.has(name) ? this.imageOf(m, probeVfioPlatform) : undefined;
      images.set(name, img);
      return img;
    };

    // Userspace: the module directory, kmod's modprobe (kernel usermode helper and agents), udevd.
    this.inserts.onInsert = () => {
      this.charge += this.cost(this.opts.costs.insmod) * MS;
    };
    const { moduleDir, env, ctx } = this.installModules();
    this.moduleDir = moduleDir;
    this.env = env;
    this.ctx = ctx;
    this.sched.callModprobe = (argv) => this.modprobe(argv.slice(1), "kernel").code;
    const latency = Math.round(opts.costs.udev * MS);
    this.udevOpts = { latencyNs: latency, jitterNs: Math.round(latency * opts.jitter), childrenMax: 16, driversRule: true };
    this.udev = new Udevd(this.udevOpts, this.sched, this.rng, this.simTrace, (modalias) => {
      moduleLoadAndWarn(this.ctx, modalias, (line) => {
        this.simTrace.add("udev", "kmod", line);
      });
    });
    k.onUevent((ev) => {
      this.uevents.set(ev.seqnum, ev);
      this.simTrace.uevent(ev);
      if (this.udevMode !== "dead") this.udev.receive(ev);
    });
  }

  /** depmod's output for the installed modules, and kmod's view of it (modprobe's env, udev's context). */
  private installModules(): { moduleDir: ModuleDir; env: ModprobeEnv; ctx: KmodContext } {
    const k = this.kernel;
    const release = this.cat.kver;
    const moduleDir = catalogueModuleDir(this.cat, this.extraSoftdeps, this.opts.missing);
    const env = modelModprobeEnv(k, { moduleDir, release, configFiles: [], insertFailures: this.inserts, trace: this.simTrace });
    env.kernel = this.waitingForLoaders(env.kernel);
    const ctx = createKmodContext({
      moduleDir,
      dirname: `/lib/modules/${release}`,
      configFiles: [],
      kernel: this.waitingForLoaders(modelKmodKernel(k, { insertFailures: this.inserts, trace: this.simTrace, runModprobe: (argv) => this.modprobe(argv, "udev").code })),
      checkModuleFiles: false,
    });
    return { moduleDir, env, ctx };
  }

  /** Modules installed or removed on the host and depmod re-run (e.g. a variant package installed). */
  setMissing(missing: ReadonlySet<string>): void {
    this.opts = { ...this.opts, missing };
    this.images.clear();
    const { moduleDir, env, ctx } = this.installModules();
    this.moduleDir = moduleDir;
    this.env = env;
    this.ctx = ctx;
  }

  private imageOf(m: ModuleDef, probeVfioPlatform: (dev: Device, k: Kernel) => number): ModuleImage {
    const drivers: DriverSpec[] = m.drivers.map((d) => {
      // sriov_configure: assumed present (mlx5_core, vfio-pci and the variants have it); it only
      // matters for devices with an SR-IOV capability.
      if (d.bus === "pci") return pciDriverSpec(d.name, d.pci.map(({ flavour, ...id }) => ({ ...id, overrideOnly: flavour !== null ? PCI_ID_F_VFIO_DRIVER_OVERRIDE : 0 })), { sriovConfigure: true });
      if (d.probe === "vfio-platform") return platformDriverSpec(d.name, {}, { probe: probeVfioPlatform });
      return platformDriverSpec(d.name, { ofMatchTable: d.of.filter((o) => o.flavour === null).map((o) => ({ name: "", type: "", compatible: o.compatible })) });
    });
    return { name: m.name, drivers, uses: m.deps.filter((d) => this.cat.modules.has(d)) };
  }

  /**
   * A module another caller loaded is live in the model at once, but in that caller's virtual time
   * it finishes loading later. Whoever finds it (kmod reading /sys/module/<m>/initstate) waits until
   * then, as finit_module() of a module still coming waits in add_unformed_module() and then
   * returns EEXIST, which kmod takes as loaded.
   */
  private waitingForLoaders(port: KmodKernelPort): KmodKernelPort {
    return {
      ...port,
      moduleInitstate: (name) => {
        const st = port.moduleInitstate(name);
        const ready = this.readyAt.get(name);
        const now = this.localNow();
        if (st === "live" && ready !== undefined && ready > now) this.charge += ready - now;
        return st;
      },
    };
  }

  private cost(c: number): number {
    return this.opts.jitter === 0 ? c : c * (1 + this.opts.jitter * this.rng.next());
  }

  /** Time inside the current synchronous call: the event's time plus the work charged so far. */
  private localNow(): number {
    return this.sched.now() + this.charge;
  }

  private push(kind: TraceKind, text: string, device?: string, agent?: string): void {
    this.trace.push({ t: this.localNow() / MS, kind, text, ...(device !== undefined ? { device } : {}), ...(agent !== undefined ? { agent } : {}) });
  }

  /** The model's trace lines the comparison shows, in the flavour trace's words. */
  private onSimTrace(source: TraceSource, kind: string, text: string, extra: Partial<TraceRecord>): void {
    const dev = extra.device;
    if (source === "uevent") {
      this.nUevents++;
      const name = text.split(" ")[1]?.split("/").pop() ?? "";
      this.push("uevent", `${kind.toUpperCase()} ${name}`, name);
      return;
    }
    if (source === "kernel") {
      if (kind === "bound" && dev !== undefined) {
        this.boundAt.set(dev, this.localNow());
        this.push("bind", `${dev} bound to ${extra.driver ?? "?"}`, dev);
      } else if (kind === "unbind" && dev !== undefined) {
        this.boundAt.delete(dev);
        this.push("unbind", `${dev} unbound from ${extra.driver ?? "?"}`, dev);
      } else if ((kind === "probe_error" || kind === "probe_reject") && dev !== undefined) {
        const e = extra.errno ?? 0;
        this.push("probe-fail", `${extra.driver ?? "?"}: probe of ${dev} failed with error ${e} (${errnoName(e) ?? "?"})`, dev);
      } else if (kind === "probe" && extra.errno !== undefined) {
        this.push("probe-fail", text, dev);
      } else if (kind === "module_load" && text.endsWith("loading module") && extra.module !== undefined) {
        this.readyAt.set(extra.module, this.localNow());
        this.push("load", `module ${extra.module} loaded`);
      } else if (kind === "request_module" && extra.module !== undefined) {
        const fn = text.startsWith("request_module_alias") ? "request_module_alias" : "request_module";
        this.push("exec", `${fn}("${extra.module}")`, dev, "kernel");
      }
      return;
    }
    if (source === "udev" && kind === "event") {
      const seq = Number(/^seq (\d+) /.exec(text)?.[1]);
      const ev = this.uevents.get(seq);
      this.uevents.delete(seq);
      if (ev) this.udevRun(ev);
      return;
    }
    if (source === "udev" && kind === "kmod") this.push("udev", `udev: ${text}`);
  }

  /** A matching udev rule's RUN program, started by the worker that processed the event. */
  private udevRun(ev: Uevent): void {
    if (!this.rule) return;
    const dev = this.kernel.devicesByPath.get(ev.devpath);
    const id = dev ? this.identityOf(dev) : null;
    if (!dev || !id || !this.rule.matches(id, ev.action)) return;
    const bus = id.bus;
    this.spawn(`udev(${dev.name} ${ev.action})`, this.rule.run({ bus, name: dev.name }), (_v, err) => {
      if (err !== undefined) this.push("udev", `udev worker for ${ev.action} ${dev.name} failed: ${errorText(err)}`, dev.name, "udev");
    });
  }

  private identityOf(dev: Device): DeviceIdentity | null {
    if (dev.bus?.name === "pci") return { bus: "pci", name: dev.name, pci: pciDevData(dev).identity, of: null };
    if (dev.bus?.name === "platform") return { bus: "platform", name: dev.name, pci: null, of: platformDevData(dev).of };
    return null;
  }

  /** kmod 30's modprobe in the model, with its exec and finit_module costs charged to the caller. */
  private modprobe(args: readonly string[], agent: string): ProcessResult {
    this.charge += this.cost(this.opts.costs.modprobeExec) * MS;
    const r = runModelModprobe([...args], this.env, this.simTrace);
    this.execs++;
    this.push("exec", `modprobe ${args.join(" ")} → exit ${r.code}`, undefined, agent);
    return r;
  }

  // ---------------------------------------------------------------- FlavourBackend

  now(): number {
    return this.sched.now() / MS;
  }

  at(delayMs: number, fn: () => void): void {
    this.sched.after(Math.max(0, Math.round(delayMs * MS)), "flavour", () => {
      this.charge = 0;
      fn();
    });
  }

  run(untilMs?: number): void {
    // Every event starts with nothing charged (udev workers, queued kernel work, agents).
    const limit = untilMs === undefined ? Infinity : Math.round(untilMs * MS);
    for (let t = this.sched.peekTime(); t !== null && t <= limit; t = this.sched.peekTime()) {
      this.charge = 0;
      this.sched.step();
    }
    this.charge = 0;
  }

  addDevice(d: DeviceSpec): void {
    const k = this.kernel;
    this.charge = 0;
    if (isPlatformSpec(d)) {
      const of = { fullName: d.platform.fullName, compatible: d.platform.compatible, type: d.platform.type ?? null };
      k.deviceAdd({ name: d.platform.name, bus: "platform", parent: null, data: { name: d.platform.name, of, acpi: null } });
      return;
    }
    const rootName = `pci${d.slot.slice(0, 4)}:00`;
    const root = k.devicesByPath.get(`/devices/${rootName}`) ?? k.deviceAdd({ name: rootName, bus: null, data: null });
    k.deviceAdd({ name: d.slot, bus: "pci", parent: root, iommuGroup: this.labels.size, data: newPciDevData(pciIdentity(d)) });
    this.labels.set(d.slot, { bus: "pci", name: d.slot, pci: pciIdentity(d), of: null });
  }

  devices(): BackendDevice[] {
    const out: BackendDevice[] = [];
    for (const dev of this.kernel.allDevices()) {
      const id = this.identityOf(dev);
      if (!id) continue;
      const at = this.boundAt.get(dev.name);
      out.push({
        ...id,
        driver: dev.driver?.name ?? null,
        driverModule: dev.driver?.module ?? null,
        boundAt: dev.driver && at !== undefined ? at / MS : null,
        resetModule: dev.driver ? vfioPlatformResetModule(dev) : null,
      });
    }
    return out;
  }

  loadedModules(): string[] {
    return [...this.kernel.modules.values()].filter((m) => m.state === "live" && !m.builtin).map((m) => m.name);
  }

  moduleAvailable(name: string): boolean {
    return this.cat.modules.has(name) && !this.opts.missing.has(name);
  }

  spawn<T>(name: string, gen: Proc<T>, onExit: (value: T | undefined, error: unknown) => void): void {
    const a: Agent = { name, gen, onExit: onExit as (v: unknown, e: unknown) => void };
    this.sched.after(0, `agent ${name}`, () => {
      this.resume(a, { ok: true, value: undefined });
    });
  }

  private resume(a: Agent, input: OpResult): void {
    this.charge = 0;
    let step: IteratorResult<Op, unknown>;
    try {
      step = a.gen.next(input);
    } catch (e) {
      a.onExit(undefined, e);
      return;
    }
    if (step.done === true) {
      a.onExit(step.value, undefined);
      return;
    }
    const { result, costMs } = this.perform(step.value, a.name);
    const delay = this.charge + Math.round(this.cost(costMs) * MS);
    this.charge = 0;
    this.sched.after(delay, `agent ${a.name}`, () => {
      this.resume(a, result);
    });
  }

  /** One operation of an agent on the model: its result and its own cost (charged work comes on top). */
  private perform(op: Op, agent: string): { result: OpResult; costMs: number } {
    const sysfsCost = this.opts.costs.sysfs;
    const ok = (value: unknown, costMs = sysfsCost): { result: OpResult; costMs: number } => ({ result: { ok: true, value }, costMs });
    const path = op.op === "list" ? op.dir : "path" in op ? op.path : "";
    try {
      switch (op.op) {
        case "read":
          return ok(this.sysfs.readSync(op.path));
        case "readlink":
          return ok(this.sysfs.readlinkSync(op.path));
        case "list":
          return ok(this.sysfs.listSync(op.dir));
        case "exists":
          return ok(this.sysfs.existsSync(op.path));
        case "write": {
          this.writes++;
          this.push("write", `write ${JSON.stringify(op.data)} > ${op.path}`, undefined, agent);
          // Design (a) serialises driver_flavour stores per device: a store made while an earlier
          // one is still waiting for modprobe (in that writer's time) waits for it first.
          const serial = op.path.endsWith("/driver_flavour") ? op.path : null;
          const busy = serial !== null ? this.storeBusyUntil.get(serial) : undefined;
          if (busy !== undefined && busy > this.localNow()) this.charge += busy - this.localNow();
          try {
            return ok(this.sysfs.writeSync(op.path, op.data));
          } catch (e) {
            if (e instanceof SysfsError) this.push("write", `write to ${op.path} failed: ${e.errno}`, undefined, agent);
            throw e;
          } finally {
            if (serial !== null) this.storeBusyUntil.set(serial, this.localNow());
          }
        }
        case "modprobe":
          return ok(this.modprobe(op.args, agent), 0);
        case "readText": {
          const text = op.path === `/lib/modules/${this.cat.kver}/modules.alias` ? aliasTextOf(this.moduleDir) : undefined;
          if (text === undefined) return { result: { ok: false, errno: "ENOENT", path: op.path }, costMs: sysfsCost };
          return ok(text);
        }
        case "sleep":
          return ok(undefined, op.ms);
        case "log":
          this.push("note", op.text, undefined, agent);
          return ok(undefined, 0);
      }
    } catch (e) {
      if (e instanceof SysfsError) return { result: { ok: false, errno: e.errno, path }, costMs: sysfsCost };
      throw e;
    }
  }

  note(text: string, device?: string, agent?: string): void {
    this.push("note", text, device, agent);
  }

  setModprobeFails(on: boolean): void {
    this.inserts.failAll = on;
  }

  setUdev(mode: "ok" | "slow" | "dead"): void {
    this.udevMode = mode;
    const ms = mode === "slow" ? this.opts.costs.udevSlow : this.opts.costs.udev;
    this.udevOpts.latencyNs = Math.round(ms * MS);
    this.udevOpts.jitterNs = Math.round(ms * MS * this.opts.jitter);
  }

  installUdevRule(design: Design, switchSet: readonly DeviceIdentity[]): void {
    this.rule = design.udevRule ? design.udevRule(switchSet) : null;
  }

  counts(): { writes: number; uevents: number; execs: number } {
    return { writes: this.writes, uevents: this.nUevents, execs: this.execs };
  }
}

/**
 * Design (b)'s kernel change: driver_override compared with fnmatch() against the driver name and
 * the module name instead of strcmp(). A driver the pattern names then matches as if the override
 * named it exactly (pci_match_device(): the override's pci_device_id_any; platform_match(): the
 * override decides alone), which is what the base match and pci_device_probe() see.
 */
function globOverride(base: BusType): BusType {
  const withOverride = <T>(dev: Device, name: string, fn: () => T): T => {
    const saved = dev.driverOverride;
    dev.driverOverride = name;
    try {
      return fn();
    } finally {
      dev.driverOverride = saved;
    }
  };
  return {
    ...base,
    match: (dev, drv, k) => {
      const o = dev.driverOverride;
      const call = (): number => (base.match ? base.match(dev, drv, k) : 1);
      if (o === null) return call();
      if (!fnmatch(o, drv.name) && (drv.module === null || !fnmatch(o, drv.module))) return 0;
      return withOverride(dev, drv.name, call);
    },
    probe: (dev, drv, k) => {
      const call = (): number => (base.probe ? base.probe(dev, drv, k) : drv.probe(dev, k));
      return dev.driverOverride === null ? call() : withOverride(dev, drv.name, call);
    },
  };
}

/**
 * Upstream vfio_pci_core's bus notifier (vfio_pci_bus_notifier, BUS_NOTIFY_ADD_DEVICE): a VF added
 * while its PF is bound to a vfio driver gets driver_override = that driver's name ("Captured SR-IOV
 * VF %s driver_override"), before the VF's initial probe.
 */
function vfioCapturesVfs(base: BusType): BusType {
  return {
    ...base,
    onDeviceAdd: (dev, k) => {
      base.onDeviceAdd?.(dev, k);
      const pf = pciDevData(dev).physfn;
      const drv = pf?.driver;
      if (!pf || !drv || drv.bus.name !== "pci") return;
      if (!(pciDrvData(drv).idTable ?? []).some((id) => id.overrideOnly !== 0)) return;
      dev.driverOverride = drv.name;
      k.trace({ kind: "vfio", text: `${drv.name} ${pf.name}: Captured SR-IOV VF ${dev.name} driver_override`, device: dev.name, driver: drv.name });
    },
  };
}
