// What a flavour run needs from the machine it runs on: virtual time in milliseconds, devices with
// their bound driver, modules, userspace agents (ops.ts generators), faults and the design's udev
// rule. Implemented by kernel-backend.ts on the team's driver core model (src/kernel), simulator
// (src/sim) and kmod layer (src/kmod); the interface keeps compare.ts independent of it.
import type { OfNode } from "../model/of.ts";
import type { PciIdentity } from "../model/pci.ts";
import type { Design, DeviceIdentity } from "./designs/design.ts";
import type { Proc } from "./ops.ts";
import type { DeviceSpec } from "./spec.ts";

export type TraceKind = "uevent" | "write" | "exec" | "load" | "bind" | "unbind" | "probe-fail" | "note" | "udev";

export interface TraceEntry {
  /** Virtual milliseconds. */
  t: number;
  kind: TraceKind;
  text: string;
  device?: string;
  agent?: string;
}

export interface BackendDevice {
  bus: "pci" | "platform";
  name: string;
  pci: PciIdentity | null;
  of: OfNode | null;
  /** struct device_driver.name of the bound driver, null when unbound. */
  driver: string | null;
  /** The bound driver's module. */
  driverModule: string | null;
  /** Virtual ms of the bind that holds now (null when unbound). */
  boundAt: number | null;
  /** The vfio-platform reset module the bound driver found. */
  resetModule: string | null;
}

export interface Costs {
  /** One sysfs read/write syscall. */
  sysfs: number;
  /** fork+exec of modprobe and its libkmod lookups. */
  modprobeExec: number;
  /** finit_module() of one module including its init. */
  insmod: number;
  /** udev picking up and running one event (normal / slow). */
  udev: number;
  udevSlow: number;
}

export const DEFAULT_COSTS: Costs = { sysfs: 0.02, modprobeExec: 6, insmod: 9, udev: 1, udevSlow: 2500 };

export interface BackendOptions {
  costs: Costs;
  /** 0 = exact costs; else each cost is scaled by 1 + jitter*rand() from the seeded generator. */
  jitter: number;
  seed: number;
  /** Modules not installed (fault "variant module missing"). */
  missing: ReadonlySet<string>;
}

export interface FlavourBackend {
  now(): number;
  /** Runs `fn` `delayMs` from now. */
  at(delayMs: number, fn: () => void): void;
  /** Runs events until none is left or virtual time passes `untilMs`. */
  run(untilMs?: number): void;
  addDevice(spec: DeviceSpec): void;
  devices(): BackendDevice[];
  /** Loaded (live, not built-in) modules. */
  loadedModules(): string[];
  moduleAvailable(name: string): boolean;
  spawn<T>(name: string, gen: Proc<T>, onExit: (value: T | undefined, error: unknown) => void): void;
  note(text: string, device?: string, agent?: string): void;
  /** From now on: every finit_module fails (modprobe exits 1), udev slow or dead. */
  setModprobeFails(on: boolean): void;
  setUdev(mode: "ok" | "slow" | "dead"): void;
  /** Installs the design's udev rule (design d) over the devices to switch. */
  installUdevRule(design: Design, switchSet: readonly DeviceIdentity[]): void;
  readonly trace: TraceEntry[];
  counts(): { writes: number; uevents: number; execs: number };
}

export function errorText(e: unknown): string {
  if (e instanceof Error) return e.message;
  return typeof e === "string" ? e : JSON.stringify(e);
}
