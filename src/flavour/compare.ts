// Runs one scenario (a machine, a design, a fault) in the flavour simulator: boot, then switch the
// machine's vfio devices, then judge every device against an oracle computed from the module
// catalogue, independent of the designs.
import { pciMatchOneDevice } from "../model/pci.ts";
import type { Catalogue, DriverDef } from "./catalogue.ts";
import { FLAVOUR_VFIO } from "./catalogue.ts";
import type { Design, DevRef } from "./designs/design.ts";
import type { DeviceIdentity } from "./designs/design.ts";
import { deviceSpecName, isPlatformSpec, type DeviceSpec, type MachineSpec, type PciDeviceSpec } from "./spec.ts";
import { DEFAULT_COSTS, errorText, type BackendOptions, type Costs, type FlavourBackend, type TraceEntry } from "./backend.ts";
import { pciIdentity, pciSpecificity } from "./catalogue.ts";
import { KernelBackend } from "./kernel-backend.ts";

export const FAULTS = ["none", "variant-missing", "modprobe-fails", "udev-slow", "udev-dead", "hot-add", "race"] as const;
export type Fault = (typeof FAULTS)[number];

export const FAULT_TEXT: Record<Fault, string> = {
  none: "no fault",
  "variant-missing": "mlx5_vfio_pci not installed",
  "modprobe-fails": "modprobe exits 1 during the switch",
  "udev-slow": "udev takes 2.5 s per event",
  "udev-dead": "udev not running",
  "hot-add": "a VF is hot-added during the switch",
  race: "a second agent returns a device to the host mid-switch",
};

/** The module the "variant-missing" fault removes. */
export const MISSING_VARIANT = "mlx5_vfio_pci";

export interface DeviceOutcome {
  name: string;
  label: string;
  bus: "pci" | "platform";
  /** Asked to switch to vfio (or, for the race device, also asked back). */
  role: "vfio" | "host" | "hot-added" | "race";
  hostDriver: string | null;
  /** The driver the oracle wants (for the race device: the one of the request that completed last). */
  expected: string | null;
  /**
   * Every final driver that is right. One, except for the race device when the two requests
   * overlapped in time: then either order is a valid linearisation and both outcomes are right.
   */
  acceptable: (string | null)[];
  final: string | null;
  right: boolean;
  /** Virtual ms from the switch start until the final bind, when it happened during the switch. */
  boundAfterMs: number | null;
  resetModule: string | null;
  error: string | null;
}

export interface RunResult {
  design: Design["id"];
  designTitle: string;
  designShort: string;
  fault: Fault;
  devices: DeviceOutcome[];
  modulesLoaded: string[];
  unnecessaryModules: string[];
  sysfsWrites: number;
  uevents: number;
  modprobeRuns: number;
  switchStart: number;
  /** Virtual ms from the switch start until the system was quiet. */
  settledAfterMs: number;
  trace: TraceEntry[];
}

export interface RunOptions {
  seed?: number;
  jitter?: number;
  costs?: Costs;
  /** Overrides the race agent's start offset (ms after the switch start). */
  raceOffsetMs?: number;
  /** Overrides the hot-add time (ms after the switch start). */
  hotAddOffsetMs?: number;
  /** Order in which switch agents start (indexes into the vfio device list); default machine order. */
  agentOrder?: number[];
  /** Gap between agent starts in ms (default 0: all at once). */
  agentGapMs?: number;
}

const refOf = (d: DeviceSpec): DevRef => ({ bus: isPlatformSpec(d) ? "platform" : "pci", name: deviceSpecName(d) });

const identityOf = (d: DeviceSpec): DeviceIdentity =>
  isPlatformSpec(d)
    ? { bus: "platform", name: d.platform.name, pci: null, of: { fullName: d.platform.fullName, type: d.platform.type ?? null, compatible: d.platform.compatible } }
    : { bus: "pci", name: d.slot, pci: pciIdentity(d), of: null };

/** The best vfio driver the available modules offer for a device, by the design-independent rule. */
export function oracleVfioDriver(cat: Catalogue, dev: Pick<DeviceIdentity, "pci" | "of">, available: (m: string) => boolean): string | null {
  if (dev.pci) {
    let best: { d: DriverDef; s: number } | null = null;
    for (const m of cat.modules.values()) {
      if (!available(m.name)) continue;
      for (const d of m.drivers) {
        if (d.bus !== "pci") continue;
        for (const id of d.pci) {
          if (id.flavour !== FLAVOUR_VFIO || !pciMatchOneDevice(id, dev.pci)) continue;
          const s = pciSpecificity(id);
          if (!best || s > best.s) best = { d, s };
        }
      }
    }
    return best?.d.name ?? null;
  }
  if (dev.of) {
    const vp = [...cat.modules.values()].find((m) => available(m.name) && m.drivers.some((d) => d.probe === "vfio-platform"));
    if (!vp) return null;
    const hasReset = dev.of.compatible.some((c) => [...cat.modules.values()].some((m) => available(m.name) && m.resetFor.includes(c)));
    return hasReset ? (vp.drivers.find((d) => d.probe === "vfio-platform")?.name ?? null) : null;
  }
  return null;
}

/** The driver a device gets on a plain host: the first module in modules.alias order with a plain matching entry. */
export function oracleHostDriver(cat: Catalogue, spec: PciDeviceSpec): string | null {
  const id = pciIdentity(spec);
  for (const a of cat.aliases) {
    const m = cat.modules.get(a.module);
    const d = m?.drivers.find((x) => x.bus === "pci" && x.pci.some((e) => e.flavour === null && pciMatchOneDevice(e, id)));
    if (d) return d.name;
  }
  return null;
}

/**
 * What a bound driver keeps needed: its module, the hard dependencies and the soft dependencies
 * their authors declared (MODULE_SOFTDEP, e.g. vfio's "post: vfio_iommu_type1"), transitively.
 * A design's own added softdeps (design b's pre-list) are not in the catalogue and do not count.
 */
export function requiredClosure(cat: Catalogue, name: string, out = new Set<string>()): Set<string> {
  if (out.has(name)) return out;
  out.add(name);
  const m = cat.modules.get(name);
  for (const d of [...(m?.deps ?? []), ...(m?.softPre ?? []), ...(m?.softPost ?? [])]) requiredClosure(cat, d, out);
  return out;
}

export function makeBackend(cat: Catalogue, design: Design, opts: BackendOptions): FlavourBackend {
  return new KernelBackend(cat, design, opts);
}

export function runScenario(cat: Catalogue, machine: MachineSpec, design: Design, fault: Fault, opts: RunOptions = {}): RunResult {
  const missing = new Set<string>(fault === "variant-missing" ? [MISSING_VARIANT] : []);
  const world = makeBackend(cat, design, { costs: opts.costs ?? DEFAULT_COSTS, jitter: opts.jitter ?? 0, seed: opts.seed ?? 1, missing });
  for (const d of machine.devices) world.addDevice(d);
  world.run();
  const t0 = Math.ceil(world.now()) + 100;
  const hostAtT0 = new Map<string, string | null>(world.devices().map((d) => [d.name, d.driver]));
  const loadedAtT0 = new Set(world.loadedModules());
  const traceFrom = world.trace.length;
  const c0 = world.counts();

  const vfioSpecs = machine.devices.filter((d) => d.vfio === true);
  const switchSet = vfioSpecs.map(refOf);
  const ctx = { kver: cat.kver };
  const errors = new Map<string, string>();
  const finished = new Map<string, number>();
  const invoked = new Map<string, number>();
  const start = (delay: number, fn: () => void): void => {
    world.at(t0 + delay - world.now(), fn);
  };

  start(0, () => {
    world.note(`switch starts: design (${design.id}) ${design.title}; fault: ${FAULT_TEXT[fault]}`);
    if (fault === "modprobe-fails") world.setModprobeFails(true);
    if (fault === "udev-slow") world.setUdev("slow");
    if (fault === "udev-dead") world.setUdev("dead");
    world.installUdevRule(design, vfioSpecs.map(identityOf));
  });
  const order = opts.agentOrder ?? switchSet.map((_, i) => i);
  order.forEach((idx, k) => {
    const ref = switchSet[idx];
    if (!ref) return;
    start((opts.agentGapMs ?? 0) * k, () => {
      invoked.set(`switch:${ref.name}`, world.now());
      world.spawn(`switch(${ref.name})`, design.switchToVfio(ref, ctx), (_v, err) => {
        finished.set(`switch:${ref.name}`, world.now());
        if (err !== undefined) {
          const msg = errorText(err);
          errors.set(ref.name, msg);
          world.note(`switch agent failed: ${msg}`, ref.name, `switch(${ref.name})`);
        }
      });
    });
  });
  const hot = machine.hotplug[0];
  if (fault === "hot-add" && hot) {
    start(opts.hotAddOffsetMs ?? 1, () => {
      world.note(`hot-add ${hot.slot} (${hot.label})`);
      world.addDevice(hot);
    });
  }
  const raceRef = switchSet.find((r) => r.name === machine.raceDevice);
  if (fault === "race" && raceRef) {
    start(opts.raceOffsetMs ?? 5, () => {
      invoked.set(`restore:${raceRef.name}`, world.now());
      world.spawn(`restore(${raceRef.name})`, design.returnToHost(raceRef, ctx), (_v, err) => {
        finished.set(`restore:${raceRef.name}`, world.now());
        if (err !== undefined) errors.set(`${raceRef.name} (restore)`, errorText(err));
      });
    });
  }
  world.run(t0 + 120_000);

  const available = (m: string): boolean => (fault === "modprobe-fails" ? loadedAtT0.has(m) : world.moduleAvailable(m));
  const labels = new Map([...machine.devices, ...machine.hotplug].map((s) => [deviceSpecName(s), s]));
  const finalDevices = world.devices();
  const devices: DeviceOutcome[] = finalDevices.map((dev) => {
    const spec = labels.get(dev.name);
    const inSet = switchSet.some((r) => r.name === dev.name);
    const isRace = fault === "race" && dev.name === raceRef?.name;
    const hostDriver = hostAtT0.get(dev.name) ?? null;
    let role: DeviceOutcome["role"] = inSet ? "vfio" : "host";
    let expected: string | null;
    let acceptable: (string | null)[] | null = null;
    if (!hostAtT0.has(dev.name)) {
      role = "hot-added";
      expected = spec && !isPlatformSpec(spec) ? oracleHostDriver(cat, spec) : null;
    } else if (inSet) {
      expected = oracleVfioDriver(cat, dev, available) ?? hostDriver;
      if (isRace) {
        role = "race";
        const vfio = expected;
        const sI = invoked.get(`switch:${dev.name}`) ?? Infinity;
        const sR = finished.get(`switch:${dev.name}`) ?? Infinity;
        const rI = invoked.get(`restore:${dev.name}`) ?? Infinity;
        const rR = finished.get(`restore:${dev.name}`) ?? Infinity;
        if (rR >= sR) expected = hostDriver; // the request that completed last
        // Linearisability: a request that returned before the other was made must come first.
        if (sR < rI) acceptable = [hostDriver];
        else if (rR < sI) acceptable = [vfio];
        else acceptable = [hostDriver, vfio];
      }
    } else expected = hostDriver;
    acceptable ??= [expected];
    const final = dev.driver;
    return {
      name: dev.name,
      label: spec?.label ?? dev.name,
      bus: dev.bus,
      role,
      hostDriver: role === "hot-added" ? null : hostDriver,
      expected,
      acceptable,
      final,
      right: acceptable.includes(final),
      boundAfterMs: dev.driver !== null && dev.boundAt !== null && dev.boundAt >= t0 ? round(dev.boundAt - t0) : null,
      resetModule: dev.resetModule,
      error: errors.get(dev.name) ?? errors.get(`${dev.name} (restore)`) ?? null,
    };
  });

  const loadedAfter = world.loadedModules().filter((n) => !loadedAtT0.has(n));
  const needed = new Set<string>();
  for (const dev of finalDevices) {
    const mods = [dev.driverModule, dev.resetModule].filter((m): m is string => m !== null);
    for (const m of mods) for (const x of requiredClosure(cat, m)) needed.add(x);
  }
  const trace = world.trace.slice(traceFrom).sort((a, b) => a.t - b.t);
  const last = trace.length > 0 ? trace[trace.length - 1]!.t : t0;
  const c1 = world.counts();
  return {
    design: design.id,
    designTitle: design.title,
    designShort: design.short,
    fault,
    devices,
    modulesLoaded: loadedAfter,
    unnecessaryModules: loadedAfter.filter((m) => !needed.has(m)),
    sysfsWrites: c1.writes - c0.writes,
    uevents: c1.uevents - c0.uevents,
    modprobeRuns: c1.execs - c0.execs,
    switchStart: t0,
    settledAfterMs: round(Math.max(0, last - t0)),
    trace,
  };
}

const round = (x: number): number => Math.round(x * 100) / 100;

export interface SweepResult {
  design: Design["id"];
  fault: Fault;
  runs: number;
  /** Runs in which every device ended right. */
  allRight: number;
  /** Device outcomes that were right, over all runs. */
  devicesRight: number;
  devices: number;
}

/**
 * The same scenario over `n` seeded interleavings: costs jittered (x1..x3), the race agent and the
 * hot-added device at seed-dependent times in the first 60 ms of the switch.
 */
export function sweep(cat: Catalogue, machine: MachineSpec, design: Design, fault: Fault, n: number, seed0 = 1): SweepResult {
  const out: SweepResult = { design: design.id, fault, runs: n, allRight: 0, devicesRight: 0, devices: 0 };
  for (let i = 0; i < n; i++) {
    const seed = seed0 + i;
    const r = runScenario(cat, machine, design, fault, { seed, jitter: 2, raceOffsetMs: (seed * 7919) % 60, hotAddOffsetMs: (seed * 104729) % 60 });
    const right = r.devices.filter((d) => d.right).length;
    out.devicesRight += right;
    out.devices += r.devices.length;
    if (right === r.devices.length) out.allRight++;
  }
  return out;
}
