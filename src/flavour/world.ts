// The flavour simulator: a small, deterministic model of the parts of the driver core, module
// loader, kmod's modprobe and udev that the vfio designs exercise, in virtual time.
//
// Kernel behaviour modelled (with sources):
// - driver matching per bus in registration order, first successful probe wins, probe errors let
//   the next driver try (drivers/base/dd.c __device_attach_driver / really_probe);
// - pci_match_device() with driver_override, dynids skipped, override_only entries only under an
//   override, the pci_device_id_any fallback (drivers/pci/pci-driver.c);
// - platform_match(): an override decides alone, then OF (drivers/base/platform.c);
// - sysfs bind/unbind/drivers_probe/driver_override stores and their errno (drivers/base/bus.c,
//   drivers/base/driver.c driver_set_override);
// - finit_module of a module another loader is bringing up waits until it is live
//   (kernel/module/main.c add_unformed_module), modprobe loads hard deps then the module, softdep
//   pre: before and post: after (libkmod kmod_module_probe_insert_module);
// - request_module() runs "modprobe -q -- <name>" as a usermode helper, independent of udev
//   (kernel/module/kmod.c call_modprobe);
// - vfio_platform's reset lookup (drivers/vfio/platform/vfio_platform_common.c
//   vfio_platform_get_reset): lookup, request_module("vfio-reset:%s"), lookup, else -ENOENT and
//   "No reset function found for device" in vfio_platform_init_common (reset_required default true).
// The design under test chooses: a driver_flavour attribute (design a), wildcard driver_override
// (design b), the reset lookup (first compatible string only, or every string best first).
import { fnmatch } from "../kmod/fnmatch.ts";
import { errnoName, type ErrnoName } from "../model/errno.ts";
import { ofDeviceIsCompatible, ofModalias, type OfNode } from "../model/of.ts";
import { pciMatchOneDevice, pciModalias, type PciIdentity } from "../model/pci.ts";
import type { ProcessResult } from "../ports.ts";
import type { Catalogue, DriverDef, ModuleDef } from "./catalogue.ts";
import { aliasText, pciIdentity, pciSpecificity } from "./catalogue.ts";
export { pciIdentity, pciSpecificity };
import type { Op, OpResult, Proc } from "./ops.ts";
import { errorText, type Costs, type TraceEntry, type TraceKind } from "./backend.ts";

export { DEFAULT_COSTS, type Costs } from "./backend.ts";

export interface WorldConfig {
  /** driver_flavour attribute and flavour-aware matching (design a). */
  flavourAttr: boolean;
  /** vfio_platform reset lookup: upstream's first compatible only, or every string best first. */
  resetLookup: "first" | "all";
  /** driver_override compared with fnmatch() against driver and module name (design b). */
  overrideGlob: boolean;
  /** Extra MODULE_SOFTDEP lines (design b's vfio_pci "pre:" list). */
  extraSoftdeps: { module: string; pre: string[] }[];
  costs: Costs;
  /** 0 = exact costs; else each cost is scaled by 1 + jitter*rand() from the seeded generator. */
  jitter: number;
  seed: number;
}

export type UdevMode = "ok" | "slow" | "dead";

export interface SimDevice {
  bus: "pci" | "platform";
  name: string;
  label: string;
  pci: PciIdentity | null;
  of: OfNode | null;
  physfn: string | null;
  driver: DriverDef | null;
  override: string | null;
  flavour: string | null;
  /** A driver_flavour store is in progress (serialises stores, keeps driver_attach off the device). */
  flavourBusy: boolean;
  flavourWaiters: (() => void)[];
  boundAt: number | null;
  /** The reset module vfio-platform found for this device. */
  resetModule: string | null;
  /** Design (a): the flavour VFs of this PF get when they are created (sriov_vf_flavour). */
  vfFlavour: string | null;
}

export type SimDeviceSpec = Omit<SimDevice, "driver" | "override" | "flavour" | "flavourBusy" | "flavourWaiters" | "boundAt" | "resetModule" | "vfFlavour">;

export type { TraceEntry, TraceKind } from "./backend.ts";

export interface UeventRecord {
  t: number;
  action: string;
  devpath: string;
  modalias: string | null;
}

interface Event {
  t: number;
  seq: number;
  fn: () => void;
}

interface Process {
  name: string;
  gen: Proc<unknown>;
  onExit: (value: unknown, error: unknown) => void;
}

export type UdevHook = (world: World, dev: SimDevice, action: string) => Proc<void> | null;

const SYS = "/sys";

const prefixCache = new Map<string, string>();
/** Alias lookups depend only on the catalogue and the missing modules: shared by every world. */
const sharedResolveCache = new WeakMap<Catalogue, Map<string, string[]>>();

function literalPrefix(pattern: string): string {
  let p = prefixCache.get(pattern);
  if (p === undefined) {
    const i = pattern.search(/[*?[\\]/);
    p = i < 0 ? pattern : pattern.slice(0, i);
    prefixCache.set(pattern, p);
  }
  return p;
}

/** mulberry32: a tiny seeded PRNG, deterministic across platforms. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class World {
  readonly cat: Catalogue;
  readonly cfg: WorldConfig;
  now = 0;
  private seq = 0;
  private queue: Event[] = [];
  private rand: () => number;
  readonly devices: SimDevice[] = [];
  readonly drivers: DriverDef[] = [];
  readonly loaded = new Map<string, { state: "coming" | "live"; at: number }>();
  readonly resetHandlers = new Map<string, string>();
  readonly trace: TraceEntry[] = [];
  readonly uevents: UeventRecord[] = [];
  readonly writes: { t: number; agent: string; path: string; data: string; result: string }[] = [];
  readonly execs: { t: number; agent: string; args: string[]; code: number }[] = [];
  /** Modules not installed (fault "variant module missing"). */
  readonly missing = new Set<string>();
  modprobeFails = false;
  udevMode: UdevMode = "ok";
  udevHook: UdevHook | null = null;
  private events = 0;
  /** MODULE_SOFTDEP lines the design adds (the catalogue itself is shared and never changed). */
  private extraPre = new Map<string, string[]>();

  constructor(cat: Catalogue, cfg: WorldConfig) {
    this.cat = cat;
    this.cfg = cfg;
    this.rand = mulberry32(cfg.seed);
    for (const s of cfg.extraSoftdeps) this.extraPre.set(s.module, [...(this.extraPre.get(s.module) ?? []), ...s.pre]);
  }

  // ---------------------------------------------------------------- scheduler

  cost(c: number): number {
    return this.cfg.jitter === 0 ? c : c * (1 + this.cfg.jitter * this.rand());
  }

  at(delay: number, fn: () => void): void {
    const ev = { t: this.now + delay, seq: this.seq++, fn };
    let lo = 0;
    let hi = this.queue.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const q = this.queue[mid]!;
      if (q.t < ev.t || (q.t === ev.t && q.seq < ev.seq)) lo = mid + 1;
      else hi = mid;
    }
    this.queue.splice(lo, 0, ev);
  }

  /** Runs events until none is left or virtual time passes `until`. */
  run(until = Infinity): void {
    for (;;) {
      const ev = this.queue[0];
      if (!ev || ev.t > until) return;
      this.queue.shift();
      this.now = ev.t;
      if (++this.events > 2_000_000) throw new Error("flavour world: event limit exceeded");
      ev.fn();
    }
  }

  idle(): boolean {
    return this.queue.length === 0;
  }

  spawn<T>(name: string, gen: Proc<T>, onExit: (value: T | undefined, error: unknown) => void = () => undefined): void {
    const p: Process = { name, gen, onExit: onExit as (v: unknown, e: unknown) => void };
    this.at(0, () => {
      this.resume(p, { ok: true, value: undefined });
    });
  }

  private resume(p: Process, input: OpResult): void {
    let step: IteratorResult<Op, unknown>;
    try {
      step = p.gen.next(input);
    } catch (e) {
      p.onExit(undefined, e);
      return;
    }
    if (step.done === true) {
      p.onExit(step.value, undefined);
      return;
    }
    this.exec(p, step.value);
  }

  private exec(p: Process, op: Op): void {
    const later = (r: OpResult, c = this.cfg.costs.sysfs): void => {
      this.at(this.cost(c), () => {
        this.resume(p, r);
      });
    };
    switch (op.op) {
      case "read":
      case "readlink":
      case "list":
      case "exists":
        later(this.sysfsQuery(op));
        return;
      case "write":
        this.sysfsWrite(op.path, op.data, p.name, (r) => {
          later(r);
        });
        return;
      case "modprobe": {
        const args = [...op.args];
        this.spawn(`modprobe(${p.name})`, this.modprobeProc(args, p.name), (res, err) => {
          if (err !== undefined) throw err instanceof Error ? err : new Error(errorText(err));
          later({ ok: true, value: res }, 0);
        });
        return;
      }
      case "readText": {
        const want = `/lib/modules/${this.cat.kver}/modules.alias`;
        if (op.path === want) later({ ok: true, value: aliasText(this.cat, this.missing) });
        else later({ ok: false, errno: "ENOENT", path: op.path });
        return;
      }
      case "sleep":
        later({ ok: true, value: undefined }, op.ms);
        return;
      case "log":
        this.note(op.text, undefined, p.name);
        later({ ok: true, value: undefined }, 0);
        return;
    }
  }

  note(text: string, device?: string, agent?: string, kind: TraceKind = "note"): void {
    this.trace.push({ t: this.now, kind, text, ...(device !== undefined ? { device } : {}), ...(agent !== undefined ? { agent } : {}) });
  }

  // ---------------------------------------------------------------- devices and uevents

  devpath(dev: SimDevice): string {
    return `${SYS}/bus/${dev.bus}/devices/${dev.name}`;
  }

  modalias(dev: SimDevice): string {
    if (dev.pci) return pciModalias(dev.pci);
    if (dev.of) return ofModalias(dev.of);
    return `platform:${dev.name}`;
  }

  /** The flavour alias the kernel requests under design a: "vfio_pci:v...", "vfio_platform:N...". */
  flavourAlias(dev: SimDevice, flavour: string): string {
    const m = this.modalias(dev);
    const body = m.slice(m.indexOf(":") + 1);
    return `${flavour}_${dev.bus}:${body}`;
  }

  findDevice(bus: string, name: string): SimDevice | undefined {
    return this.devices.find((d) => d.bus === bus && d.name === name);
  }

  uevent(dev: SimDevice, action: string): void {
    const modalias = action === "add" || action === "change" ? this.modalias(dev) : null;
    this.uevents.push({ t: this.now, action, devpath: this.devpath(dev), modalias });
    this.note(`${action.toUpperCase()} ${dev.name}${dev.driver && (action === "bind" || action === "unbind") ? ` (${dev.driver.name})` : ""}`, dev.name, undefined, "uevent");
    this.udevReceive(dev, action);
  }

  /** device_add(): ADD uevent, then bus_probe_device() with the drivers loaded right now. */
  addDevice(spec: SimDeviceSpec): SimDevice {
    const dev: SimDevice = { ...spec, driver: null, override: null, flavour: null, flavourBusy: false, flavourWaiters: [], boundAt: null, resetModule: null, vfFlavour: null };
    this.devices.push(dev);
    const pf = dev.physfn !== null ? this.findDevice(dev.bus, dev.physfn) : undefined;
    if (pf?.vfFlavour != null && this.cfg.flavourAttr) {
      dev.flavour = pf.vfFlavour; // design (a): set in pci_device_add(), before the initial probe
    } else if (pf?.driver && driverHasFlavour(pf.driver, "vfio")) {
      // vfio_pci_core.c vfio_pci_bus_notifier(), BUS_NOTIFY_ADD_DEVICE: "Captured SR-IOV VF %s driver_override"
      dev.override = pf.driver.name;
      this.note(`${pf.driver.name} ${pf.name}: Captured SR-IOV VF ${dev.name} driver_override`, dev.name);
    }
    this.uevent(dev, "add");
    this.deviceAttach(dev);
    return dev;
  }

  /** VFs sriov_numvfs would create for each PF (the simulator has no config space to derive them). */
  readonly vfTemplates = new Map<string, SimDeviceSpec[]>();

  /**
   * sriov_numvfs store (drivers/pci/iov.c sriov_numvfs_store): 0 removes the VFs; N creates them
   * unless VFs exist (-EBUSY) or N exceeds what the PF offers (-ERANGE). Design (a): with
   * sriov_vf_flavour set, the VF flavour module is requested (and waited for) before the VFs are added.
   */
  private sriovNumvfsStore(pf: SimDevice, data: string, agent: string, finish: (r: number | ErrnoName) => void): void {
    const n = Number(data.trim());
    const templates = this.vfTemplates.get(pf.name) ?? [];
    const vfs = this.devices.filter((d) => d.physfn === pf.name);
    if (!Number.isInteger(n) || n < 0) return finish("EINVAL");
    if (n === 0) {
      for (const vf of vfs) {
        this.release(vf);
        this.uevent(vf, "remove");
        this.devices.splice(this.devices.indexOf(vf), 1);
      }
      return finish(data.length);
    }
    if (vfs.length > 0) return finish("EBUSY");
    if (n > templates.length) return finish("ERANGE");
    const add = (): void => {
      for (const t of templates.slice(0, n)) this.addDevice(t);
      finish(data.length);
    };
    const first = templates[0];
    if (pf.vfFlavour === null || !this.cfg.flavourAttr || !first) return add();
    const probe: SimDevice = { ...first, driver: null, override: null, flavour: null, flavourBusy: false, flavourWaiters: [], boundAt: null, resetModule: null, vfFlavour: null };
    const alias = this.flavourAlias(probe, pf.vfFlavour);
    this.note(`request_module_alias("${alias}") for the VFs of ${pf.name}`, pf.name, "kernel", "exec");
    this.spawn(`request_module(${pf.name} VFs)`, this.modprobeProc(["-q", "--", alias], "kernel"), add);
  }

  // ---------------------------------------------------------------- matching and probing

  private overrideMatches(dev: SimDevice, drv: DriverDef): boolean {
    if (dev.override === null) return true;
    if (this.cfg.overrideGlob) return fnmatch(dev.override, drv.name) || fnmatch(dev.override, drv.module);
    return dev.override === drv.name;
  }

  /**
   * bus->match(): -1 for no match, else the specificity of the entry that matched (0 for the
   * universal entry and for the override's dummy id). Flavour-aware when the device has a flavour.
   */
  match(dev: SimDevice, drv: DriverDef): number {
    if (drv.bus !== dev.bus) return -1;
    if (!this.overrideMatches(dev, drv)) return -1;
    const override = dev.override !== null;
    if (dev.bus === "pci" && dev.pci) {
      let best = -1;
      for (const id of drv.pci) {
        if (!pciMatchOneDevice(id, dev.pci)) continue;
        if (dev.flavour !== null) {
          if (id.flavour === dev.flavour) best = Math.max(best, pciSpecificity(id));
          continue;
        }
        if (id.flavour !== null && !override) continue; // override_only: invisible without an override
        return pciSpecificity(id); // pci_match_id(): first matching entry
      }
      if (best >= 0) return best;
      return override ? 0 : -1; // pci_device_id_any
    }
    if (override) return 0; // platform_match(): the override decides alone
    if (!dev.of) return -1;
    let best = -1;
    for (const id of drv.of) {
      const wanted = dev.flavour !== null ? id.flavour === dev.flavour : id.flavour === null;
      if (!wanted) continue;
      if (id.compatible === "*") {
        best = Math.max(best, 0);
        continue;
      }
      const s = ofDeviceIsCompatible(dev.of, id.compatible, "", "");
      if (s > 0) best = Math.max(best, s);
    }
    return best;
  }

  /** Loaded drivers that match, best first: by specificity under a flavour, else registration order. */
  candidates(dev: SimDevice): DriverDef[] {
    const m = this.drivers.map((d, i) => ({ d, i, s: this.match(dev, d) })).filter((x) => x.s >= 0);
    if (dev.flavour !== null) m.sort((a, b) => b.s - a.s || a.i - b.i);
    return m.map((x) => x.d);
  }

  /** really_probe() → drv->probe(); returns 0 or a negative errno. */
  private probe(dev: SimDevice, drv: DriverDef): number {
    if (drv.probe === "vfio-platform") {
      if (!dev.of) return -6; // ENXIO: vfio_platform needs a node (ACPI not modelled)
      const compats = this.cfg.resetLookup === "first" ? dev.of.compatible.slice(0, 1) : [...dev.of.compatible];
      for (const c of compats) {
        let mod = this.resetHandlers.get(c);
        if (mod === undefined) {
          this.requestModuleNow(`vfio-reset:${c}`, dev.name);
          mod = this.resetHandlers.get(c);
        }
        if (mod !== undefined) {
          dev.resetModule = mod;
          return 0;
        }
      }
      this.note(`vfio-platform ${dev.name}: No reset function found for device ${dev.name}`, dev.name, undefined, "probe-fail");
      return -2; // ENOENT
    }
    return 0;
  }

  /** driver_probe_device(): probe, bind and BIND uevent on success. */
  tryBind(dev: SimDevice, drv: DriverDef): number {
    const ret = this.probe(dev, drv);
    if (ret !== 0) {
      this.note(`${drv.name}: probe of ${dev.name} failed with error ${ret} (${errnoName(ret) ?? "?"})`, dev.name, undefined, "probe-fail");
      return ret;
    }
    dev.driver = drv;
    dev.boundAt = this.now;
    this.note(`${dev.name} bound to ${drv.name}`, dev.name, undefined, "bind");
    this.uevent(dev, "bind");
    return 0;
  }

  /** __device_attach(): the first driver whose probe succeeds. Returns 1 if bound. */
  deviceAttach(dev: SimDevice): number {
    if (dev.driver) return 1;
    for (const drv of this.candidates(dev)) if (this.tryBind(dev, drv) === 0) return 1;
    return 0;
  }

  /** device_release_driver(): UNBIND uevent, driver gone. */
  release(dev: SimDevice): void {
    if (!dev.driver) return;
    this.note(`${dev.name} unbound from ${dev.driver.name}`, dev.name, undefined, "unbind");
    this.uevent(dev, "unbind");
    dev.driver = null;
    dev.boundAt = null;
    dev.resetModule = null;
  }

  /** driver_register() → bus_add_driver() → driver_attach(): every unbound device, never stealing. */
  registerDriver(drv: DriverDef): void {
    this.drivers.push(drv);
    for (const dev of this.devices) {
      if (dev.driver || dev.flavourBusy) continue;
      if (this.match(dev, drv) >= 0) this.tryBind(dev, drv);
    }
  }

  // ---------------------------------------------------------------- modules

  moduleAvailable(name: string): boolean {
    return this.cat.modules.has(name) && !this.missing.has(name);
  }

  /** load_module() done: module live, its drivers registered, reset handlers added. */
  private insertModule(m: ModuleDef): void {
    this.loaded.set(m.name, { state: "live", at: this.now });
    this.note(`module ${m.name} loaded`, undefined, undefined, "load");
    this.uevents.push({ t: this.now, action: "add", devpath: `${SYS}/module/${m.name}`, modalias: null });
    for (const c of m.resetFor) this.resetHandlers.set(c, m.name);
    for (const d of m.drivers) this.registerDriver(d);
  }

  /** kmod lookup: a module name, else every alias match in modules.alias order. */
  resolve(name: string): string[] {
    const norm = name.replace(/-/g, "_");
    if (this.moduleAvailable(norm)) return [norm];
    let cache = sharedResolveCache.get(this.cat);
    if (!cache) sharedResolveCache.set(this.cat, (cache = new Map<string, string[]>()));
    const key = `${[...this.missing].sort().join(",")}\u0000${name}`;
    const cached = cache.get(key);
    if (cached) return cached;
    const out: string[] = [];
    for (const a of this.cat.aliases) {
      if (this.missing.has(a.module) || out.includes(a.module)) continue;
      // the literal prefix before the first wildcard must match before fnmatch() can
      const lit = literalPrefix(a.pattern);
      if (!name.startsWith(lit)) continue;
      if (fnmatch(a.pattern, name)) out.push(a.module);
    }
    cache.set(key, out);
    return out;
  }

  /** The module and its hard dependencies, transitively (what a bound driver keeps needed). */
  requiredClosure(name: string, out = new Set<string>()): Set<string> {
    if (out.has(name)) return out;
    out.add(name);
    for (const d of this.cat.modules.get(name)?.deps ?? []) this.requiredClosure(d, out);
    return out;
  }

  /** kmod_module_get_probe_list(): softdep pre, deps deepest first, the module, softdep post. */
  probeList(name: string, seen = new Set<string>()): { name: string; required: boolean }[] {
    if (seen.has(name)) return [];
    seen.add(name);
    const m = this.cat.modules.get(name);
    if (!m) return [{ name, required: true }];
    const out: { name: string; required: boolean }[] = [];
    for (const p of [...(this.extraPre.get(name) ?? []), ...m.softPre]) for (const x of this.probeList(p, seen)) out.push({ ...x, required: false });
    for (const d of [...m.deps].reverse()) if (!seen.has(d)) {
      seen.add(d);
      out.push({ name: d, required: true });
    }
    out.push({ name, required: true });
    for (const p of m.softPost) for (const x of this.probeList(p, seen)) out.push({ ...x, required: false });
    return out;
  }

  /** The modprobe process: `modprobe [-q] [-b] [-R] [--] names...` as kmod 30 runs it. */
  *modprobeProc(args: string[], agent: string): Proc<ProcessResult> {
    let quiet = false;
    let resolveOnly = false;
    const names: string[] = [];
    let dashdash = false;
    for (const a of args) {
      if (!dashdash && a === "--") dashdash = true;
      else if (!dashdash && a.startsWith("-")) {
        if (a === "-q" || a === "--quiet") quiet = true;
        else if (a === "-R" || a === "--resolve-alias") resolveOnly = true;
      } else names.push(a);
    }
    yield { op: "sleep", ms: this.cfg.costs.modprobeExec };
    let stdout = "";
    let stderr = "";
    let code = 0;
    const result = (): ProcessResult => {
      this.execs.push({ t: this.now, agent, args, code });
      this.note(`modprobe ${args.join(" ")} → exit ${code}`, undefined, agent, "exec");
      return { code, stdout, stderr };
    };
    if (this.modprobeFails && !resolveOnly) {
      code = 1;
      stderr = `modprobe: ERROR: could not insert '${names[0] ?? ""}': Operation not permitted (kbind fault: modprobe failing)\n`;
      return result();
    }
    for (const name of names) {
      const mods = this.resolve(name);
      if (mods.length === 0) {
        code = 1;
        if (!quiet || resolveOnly) stderr += `modprobe: FATAL: Module ${name} not found in directory /lib/modules/${this.cat.kver}\n`;
        continue;
      }
      if (resolveOnly) {
        for (const m of mods) stdout += `${m}\n`;
        continue;
      }
      for (const top of mods) {
        for (const { name: n, required } of this.probeList(top)) {
          const st = this.loaded.get(n);
          if (st?.state === "live") continue;
          if (!this.moduleAvailable(n)) {
            if (!required) continue;
            code = 1;
            if (!quiet) stderr += `modprobe: FATAL: Module ${n} not found in directory /lib/modules/${this.cat.kver}\n`;
            break;
          }
          if (st?.state === "coming") {
            // add_unformed_module(): wait for the other loader, then -EEXIST, which kmod treats as loaded.
            while (this.loaded.get(n)?.state !== "live") yield { op: "sleep", ms: 0.5 };
            continue;
          }
          this.loaded.set(n, { state: "coming", at: this.now });
          yield { op: "sleep", ms: this.cfg.costs.insmod };
          this.insertModule(this.cat.modules.get(n)!);
        }
      }
    }
    return result();
  }

  /**
   * request_module() from a context that must finish now (a probe() holding the device lock):
   * the helper's modules are loaded at once and the time is not charged to other events.
   */
  requestModuleNow(name: string, device: string): number {
    this.note(`request_module("${name}")`, device, "kernel", "exec");
    if (this.modprobeFails) return 1;
    const mods = this.resolve(name);
    if (mods.length === 0) return 1;
    for (const top of mods)
      for (const { name: n } of this.probeList(top)) {
        if (this.loaded.get(n)?.state === "live" || !this.moduleAvailable(n)) continue;
        this.insertModule(this.cat.modules.get(n)!);
      }
    return 0;
  }

  // ---------------------------------------------------------------- udev

  private udevReceive(dev: SimDevice, action: string): void {
    if (this.udevMode === "dead") return;
    const delay = this.udevMode === "slow" ? this.cfg.costs.udevSlow : this.cfg.costs.udev;
    this.spawn(`udev(${dev.name} ${action})`, udevWorker(this, dev, action, delay), (_v, err) => {
      if (err !== undefined) this.note(`udev worker for ${action} ${dev.name} failed: ${errorText(err)}`, dev.name, "udev", "udev");
    });
  }

  // ---------------------------------------------------------------- sysfs

  private parseDevPath(path: string): { dev: SimDevice; attr: string } | null {
    const m = /^\/sys\/bus\/(pci|platform)\/devices\/([^/]+)(?:\/(.*))?$/.exec(path);
    if (!m) return null;
    const dev = this.findDevice(m[1]!, m[2]!);
    return dev ? { dev, attr: m[3] ?? "" } : null;
  }

  private sysfsQuery(op: Op): OpResult {
    const path = op.op === "list" ? op.dir : op.op === "read" || op.op === "readlink" || op.op === "exists" ? op.path : "";
    const err = (errno: ErrnoName): OpResult => ({ ok: false, errno, path });
    const ok = (value: unknown): OpResult => ({ ok: true, value });
    const dp = this.parseDevPath(path);
    if (op.op === "exists") {
      if (dp) return ok(dp.attr === "" || ["modalias", "driver_override", "uevent", "vendor", "device"].includes(dp.attr) || (dp.attr === "driver" && dp.dev.driver !== null) || (dp.attr === "driver_flavour" && this.cfg.flavourAttr));
      const d = /^\/sys\/bus\/(pci|platform)\/drivers\/([^/]+)$/.exec(path);
      if (d) return ok(this.drivers.some((x) => x.bus === d[1] && x.name === d[2]));
      const mod = /^\/sys\/module\/([^/]+)$/.exec(path);
      if (mod) return ok(this.loaded.has(mod[1]!));
      return ok(false);
    }
    if (op.op === "list") {
      const md = /^\/sys\/module\/([^/]+)\/drivers$/.exec(path);
      if (md) {
        if (!this.loaded.has(md[1]!)) return err("ENOENT");
        return ok(this.drivers.filter((d) => d.module === md[1]).map((d) => `${d.bus}:${d.name}`).sort());
      }
      const bd = /^\/sys\/bus\/(pci|platform)\/devices$/.exec(path);
      if (bd) return ok(this.devices.filter((d) => d.bus === bd[1]).map((d) => d.name).sort());
      return err("ENOENT");
    }
    if (!dp) return err("ENOENT");
    const { dev, attr } = dp;
    if (op.op === "readlink") {
      if (attr === "driver") return ok(dev.driver ? `../../../bus/${dev.bus}/drivers/${dev.driver.name}` : null);
      return err("ENOENT");
    }
    switch (attr) {
      case "modalias":
        return ok(`${this.modalias(dev)}\n`);
      case "driver_override":
        return ok(`${dev.override ?? "(null)"}\n`);
      case "driver_flavour":
        return this.cfg.flavourAttr ? ok(`${dev.flavour ?? ""}\n`) : err("ENOENT");
      case "sriov_vf_flavour":
        return this.cfg.flavourAttr && this.vfTemplates.has(dev.name) ? ok(`${dev.vfFlavour ?? ""}\n`) : err("ENOENT");
      case "sriov_numvfs":
        return this.vfTemplates.has(dev.name) ? ok(`${this.devices.filter((d) => d.physfn === dev.name).length}\n`) : err("ENOENT");
      case "vendor":
        return dev.pci ? ok(`0x${dev.pci.vendor.toString(16).padStart(4, "0")}\n`) : err("ENOENT");
      case "device":
        return dev.pci ? ok(`0x${dev.pci.device.toString(16).padStart(4, "0")}\n`) : err("ENOENT");
      default:
        return err("ENOENT");
    }
  }

  /** A write(2) to sysfs; `done` gets the store's result when the store returns (maybe later). */
  sysfsWrite(path: string, data: string, agent: string, done: (r: OpResult) => void): void {
    this.note(`write ${JSON.stringify(data)} > ${path}`, undefined, agent, "write");
    const finish = (r: number | ErrnoName): void => {
      const res: OpResult = typeof r === "number" ? { ok: true, value: r } : { ok: false, errno: r, path };
      this.writes.push({ t: this.now, agent, path, data, result: typeof r === "number" ? String(r) : r });
      if (typeof r !== "number") this.note(`write to ${path} failed: ${r}`, undefined, agent, "write");
      done(res);
    };
    const len = data.length;
    const bus = /^\/sys\/bus\/(pci|platform)\/(drivers_probe|drivers\/([^/]+)\/(bind|unbind))$/.exec(path);
    if (bus) {
      const name = data.replace(/\n$/, "");
      const dev = this.findDevice(bus[1]!, name);
      if (bus[2] === "drivers_probe") {
        // drivers_probe_store(): bus_find_device_by_name, bus_rescan_devices_helper; count even if nothing bound
        if (!dev) return finish("ENODEV");
        this.deviceAttach(dev);
        return finish(len);
      }
      const drv = this.drivers.find((d) => d.bus === bus[1] && d.name === bus[3]);
      if (!drv) return finish("ENOENT");
      if (!dev) return finish("ENODEV");
      if (bus[4] === "unbind") {
        if (dev.driver !== drv) return finish("ENODEV");
        this.release(dev);
        return finish(len);
      }
      // bind_store(): driver_match_device() first (-ENODEV), then device_driver_attach() (-EBUSY if bound)
      if (this.match(dev, drv) < 0) return finish("ENODEV");
      if (dev.driver) return finish("EBUSY");
      const r = this.tryBind(dev, drv);
      return finish(r === 0 ? len : (errnoName(r) ?? "EINVAL"));
    }
    const dp = this.parseDevPath(path);
    if (!dp) return finish("ENOENT");
    const { dev, attr } = dp;
    switch (attr) {
      case "driver/unbind": {
        if (!dev.driver) return finish("ENOENT"); // no driver link to follow
        if (data.replace(/\n$/, "") !== dev.name) return finish("ENODEV");
        this.release(dev);
        return finish(len);
      }
      case "driver_override": {
        // driver_set_override(): >= PAGE_SIZE-1 is EINVAL; up to first NUL, then first newline; empty clears
        if (len >= 4095) return finish("EINVAL");
        let s = data;
        const nul = s.indexOf("\0");
        if (nul >= 0) s = s.slice(0, nul);
        const nl = s.indexOf("\n");
        if (nl >= 0) s = s.slice(0, nl);
        dev.override = s === "" ? null : s;
        return finish(len);
      }
      case "uevent": {
        const action = data.replace(/\n$/, "");
        if (!["add", "change", "remove", "move", "online", "offline", "bind", "unbind"].includes(action)) return finish("EINVAL");
        this.uevent(dev, action);
        return finish(len);
      }
      case "driver_flavour":
        if (!this.cfg.flavourAttr) return finish("ENOENT");
        this.flavourStore(dev, data, agent, finish);
        return;
      case "sriov_vf_flavour": {
        if (!this.cfg.flavourAttr || !this.vfTemplates.has(dev.name)) return finish("ENOENT");
        const f = data.replace(/\n$/, "");
        if (f !== "" && f !== "vfio") return finish("EINVAL");
        dev.vfFlavour = f === "" ? null : f;
        return finish(len);
      }
      case "sriov_numvfs":
        if (!this.vfTemplates.has(dev.name)) return finish("ENOENT");
        this.sriovNumvfsStore(dev, data, agent, finish);
        return;
      default:
        return finish("EACCES");
    }
  }

  /**
   * Design (a): driver_flavour_store(). Serialised per device. "" clears: unbind a flavour driver
   * and attach normally. "vfio": request_module("vfio_<bus>:<modalias>") and wait for it (in the
   * writer's process context, device lock not held), then rank the loaded candidates; none →
   * -ENODEV and nothing changes; else set the flavour, unbind the current driver and probe the
   * candidates best first.
   */
  private flavourStore(dev: SimDevice, data: string, agent: string, finish: (r: number | ErrnoName) => void): void {
    if (dev.flavourBusy) {
      dev.flavourWaiters.push(() => {
        this.flavourStore(dev, data, agent, finish);
      });
      return;
    }
    const len = data.length;
    let s = data;
    const nl = s.indexOf("\n");
    if (nl >= 0) s = s.slice(0, nl);
    const release = (): void => {
      dev.flavourBusy = false;
      const next = dev.flavourWaiters.shift();
      if (next) next();
    };
    if (s === "") {
      const had = dev.flavour;
      dev.flavour = null;
      if (had !== null && dev.driver && driverHasFlavour(dev.driver, had)) this.release(dev);
      this.deviceAttach(dev);
      finish(len);
      return;
    }
    if (s !== "vfio") {
      finish("EINVAL");
      return;
    }
    dev.flavourBusy = true;
    const alias = this.flavourAlias(dev, s);
    this.note(`request_module_alias("${alias}")`, dev.name, "kernel", "exec");
    this.spawn(`request_module(${dev.name})`, this.modprobeProc(["-q", "--", alias], "kernel"), () => {
      const saved = dev.flavour;
      dev.flavour = s;
      const cands = this.candidates(dev);
      if (cands.length === 0) {
        dev.flavour = saved;
        release();
        finish("ENODEV");
        return;
      }
      // bound to the best candidate already: nothing to do; else (a host driver, or a lesser vfio
      // driver on a repeated store — the user asked again) unbind first
      if (dev.driver && cands[0] !== dev.driver) this.release(dev);
      let r = dev.driver ? 0 : -19;
      if (!dev.driver)
        for (const c of cands) {
          r = this.tryBind(dev, c);
          if (r === 0) break;
        }
      release();
      finish(r === 0 ? len : (errnoName(r) ?? "ENODEV"));
    });
  }
}

/** One udev worker: kmod load of MODALIAS on add (80-drivers.rules), then the design's hook. */
function* udevWorker(world: World, dev: SimDevice, action: string, delay: number): Proc<void> {
  yield { op: "sleep", ms: delay };
  if (action === "add") {
    // 80-drivers.rules: ENV{MODALIAS}=="?*", RUN{builtin}+="kmod load $env{MODALIAS}"
    yield { op: "modprobe", args: ["-b", "-q", world.modalias(dev)] };
  }
  const hook = world.udevHook?.(world, dev, action) ?? null;
  if (hook) yield* hook;
}

export { errorText } from "./backend.ts";

export function driverHasFlavour(drv: DriverDef, flavour: string): boolean {
  return drv.pci.some((i) => i.flavour === flavour) || drv.of.some((i) => i.flavour === flavour);
}

