// The flavour switch: put a PCI device (or its whole IOMMU group) into the vfio flavour and back,
// never losing it. Written once against the ports (SysfsPort, ModprobePort), so the same code runs on
// a real /sys, the temp-dir fake, the simulated kernel (src/kernel/sysfs.ts) and a QEMU guest's sysfs
// over the serial console.
//
// Forward steps (libvirt's virPCIDeviceBindWithDriverOverride order, plus what it lacks):
//   modprobe MODULE → learn the driver from /sys/module/<mod>/drivers/pci:<drv> → write driver_override
//   → unbind from the current driver → write the device to /sys/bus/pci/drivers_probe → VERIFY the
//   device's driver link names the planned driver (libvirt does not verify; driverctl does but has no
//   rollback: userspace.md §6–§7).
// Any failure → restore the exact previous state (driver and override), verified, or say loudly that
// it could not. A journal is written before every step; recoverInterrupted() finishes or undoes an
// interrupted run.
import { KbindError } from "../model/errors.ts";
import { SysfsError, type ModprobePort, type SysfsPort } from "../ports.ts";
import {
  deviceRealPath,
  devicePath,
  iommuGroupMembers,
  moduleDrivers,
  readAttrOrNull,
  readBindState,
  readIommuGroup,
  type BindState,
} from "./device-state.ts";
import { devicesInUse } from "./in-use.ts";
import type { Journal, JournalMember, JournalStore } from "./journal.ts";
import { resolveDevice, validateDriverName, validateModuleName } from "./validate.ts";
import { chooseVfioDriver, parsePciModalias, VFIO_PCI_FALLBACK, type VfioAliasEntry, type VfioChoice } from "./vfio-variant.ts";

/** Thrown by a test harness from `beforeStep` to model SIGKILL: the switch must not catch it. */
export class ProcessKilled extends Error {
  readonly at: string;
  constructor(at: string) {
    super(`killed before: ${at}`);
    this.name = "ProcessKilled";
    this.at = at;
  }
}

export interface SwitchEnv {
  sysfs: SysfsPort;
  modprobe: ModprobePort;
  journal: JournalStore;
  /** /proc/self/mountinfo text (for the in-use check). */
  mountinfo: () => Promise<string>;
  /** Parsed vfio_pci: aliases of the running kernel's modules.alias (null: unknown → vfio-pci). */
  vfioAliases: readonly VfioAliasEntry[] | null;
  /** Progress lines ("write ... ok"). */
  log: (line: string) => void;
  /** Called before every step, after the journal is written. Test harnesses throw ProcessKilled. */
  beforeStep?: (label: string) => void;
}

/**
 * Drivers that may share an IOMMU group with a vfio-owned device: vfio drivers themselves and the
 * drivers with driver_managed_dma set (pci-stub, pcieport), which iommu_device_use_default_domain()
 * (drivers/iommu/iommu.c) lets coexist with a user-owned group.
 */
export function isGroupSafeDriver(driver: string): boolean {
  return /vfio/.test(driver) || driver === "pci-stub" || driver === "pcieport";
}

export interface MemberPlan extends JournalMember {
  /** The module to load for a set (null for unset). */
  module: string | null;
  /** Why this module: the alias and its wildcard count, or the fallback. */
  choice: VfioChoice | null;
}

export interface SwitchPlan {
  op: "set" | "unset";
  flavour: "vfio";
  members: MemberPlan[];
  /** Human-readable warnings (no IOMMU group, module not loaded yet...). */
  notes: string[];
}

export interface SetOptions {
  group?: boolean;
  force?: boolean;
  /** Use this module instead of libvirt's choice (libvirt's <driver model='...'/>; the persisted config). */
  module?: string;
}

export interface UnsetOptions {
  group?: boolean;
  force?: boolean;
  /** The host driver to verify after unset (from the persisted config); null = any non-vfio driver. */
  hostDriver?: string | null;
}

function describe(s: BindState): string {
  return `driver ${s.driver ?? "(none)"}, override ${s.override ?? "(null)"}`;
}

async function requireNotInUse(env: SwitchEnv, bus: string, device: string, force: boolean, notes: string[]): Promise<void> {
  const real = await deviceRealPath(env.sysfs, bus, device);
  const busy = await devicesInUse(env.sysfs, real, await env.mountinfo());
  if (busy.length === 0) return;
  const what = busy.map((b) => b.detail).join("; ");
  if (!force) throw new KbindError("DEVICE_IN_USE", `${device} is in use: ${what} (use --force to switch anyway)`, { sysfsPath: devicePath(bus, device) });
  notes.push(`--force: ${device} is in use: ${what}`);
}

async function vfioChoiceFor(env: SwitchEnv, bus: string, device: string): Promise<VfioChoice> {
  if (env.vfioAliases === null) return VFIO_PCI_FALLBACK;
  const path = `${devicePath(bus, device)}/modalias`;
  const text = await env.sysfs.read(path);
  return chooseVfioDriver(env.vfioAliases, parsePciModalias(text, path));
}

/** Plans `host flavour set DEVICE vfio`: reads only. */
export async function planSet(env: SwitchEnv, spec: string, opts: SetOptions = {}): Promise<SwitchPlan> {
  const ref = await resolveDevice(env.sysfs, spec);
  if (ref.bus !== "pci") throw new KbindError("UNSUPPORTED_BUS", `the vfio flavour is implemented for PCI devices; ${spec} is on bus ${ref.bus}`, { sysfsPath: devicePath(ref.bus, ref.device) });
  const notes: string[] = [];
  const group = await readIommuGroup(env.sysfs, ref.bus, ref.device);
  const toMove = [ref.device];
  if (group === null) {
    notes.push(`${ref.device} has no IOMMU group: vfio-pci's probe fails unless vfio.enable_unsafe_noiommu_mode=1 (the switch would then be rolled back)`);
  } else {
    const hostBound: string[] = [];
    for (const other of await iommuGroupMembers(env.sysfs, group)) {
      if (other === ref.device) continue;
      const st = await readBindState(env.sysfs, "pci", other);
      if (st.driver !== null && !isGroupSafeDriver(st.driver)) hostBound.push(`${other} (${st.driver})`);
      if (opts.group && st.driver !== null && !isGroupSafeDriver(st.driver)) toMove.push(other);
    }
    if (hostBound.length > 0 && !opts.group) {
      throw new KbindError("GROUP_NOT_VIABLE", `IOMMU group ${group} of ${ref.device} also holds ${hostBound.join(", ")} bound to host drivers: vfio needs the whole group (use --group to move it)`, { sysfsPath: `/sys/kernel/iommu_groups/${group}/devices` });
    }
  }
  const members: MemberPlan[] = [];
  for (const device of toMove) {
    await requireNotInUse(env, "pci", device, opts.force ?? false, notes);
    const choice = opts.module !== undefined && device === ref.device ? { module: opts.module, alias: null, wildcards: null, line: null } : await vfioChoiceFor(env, "pci", device);
    validateModuleName(choice.module);
    const loaded = await moduleDrivers(env.sysfs, choice.module, "pci");
    const driver = loaded[0] ?? null;
    if (driver === null) notes.push(`module ${choice.module} is not loaded: its PCI driver name is read from /sys/module/${choice.module.replaceAll("-", "_")}/drivers after modprobe`);
    members.push({
      bus: "pci",
      device,
      original: await readBindState(env.sysfs, "pci", device),
      targetOverride: driver,
      targetDriver: driver,
      leaveDriver: null,
      module: choice.module,
      choice,
    });
  }
  return { op: "set", flavour: "vfio", members, notes };
}

/** Plans `host flavour unset DEVICE vfio`: clear the override and let the host driver bind. */
export async function planUnset(env: SwitchEnv, spec: string, opts: UnsetOptions = {}): Promise<SwitchPlan> {
  const ref = await resolveDevice(env.sysfs, spec);
  if (ref.bus !== "pci") throw new KbindError("UNSUPPORTED_BUS", `the vfio flavour is implemented for PCI devices; ${spec} is on bus ${ref.bus}`, { sysfsPath: devicePath(ref.bus, ref.device) });
  const notes: string[] = [];
  const devices = [ref.device];
  const group = await readIommuGroup(env.sysfs, ref.bus, ref.device);
  if (opts.group && group !== null) {
    for (const other of await iommuGroupMembers(env.sysfs, group)) {
      if (other === ref.device) continue;
      const st = await readBindState(env.sysfs, "pci", other);
      if ((st.override !== null && /vfio/.test(st.override)) || (st.driver !== null && /vfio/.test(st.driver))) devices.push(other);
    }
  }
  if (opts.hostDriver != null) validateDriverName(opts.hostDriver);
  const members: MemberPlan[] = [];
  for (const device of devices) {
    const original = await readBindState(env.sysfs, "pci", device);
    members.push({
      bus: "pci",
      device,
      original,
      targetOverride: null,
      targetDriver: device === ref.device ? (opts.hostDriver ?? null) : null,
      leaveDriver: original.driver !== null && /vfio/.test(original.driver) ? original.driver : original.override,
      module: null,
      choice: null,
    });
  }
  return { op: "unset", flavour: "vfio", members, notes };
}

/** Whether a member is in its target state. */
export function inTarget(m: JournalMember, s: BindState): boolean {
  if (s.override !== m.targetOverride) return false;
  if (m.targetDriver !== null) return s.driver === m.targetDriver;
  return s.driver !== null && s.driver !== m.leaveDriver;
}

function sameState(a: BindState, b: BindState): boolean {
  return a.driver === b.driver && a.override === b.override;
}

/** The writes a plan makes, in order, as "PATH <- DATA" lines (for --dry-run and the plan print). */
export function planWrites(plan: SwitchPlan): string[] {
  const out: string[] = [];
  for (const mod of new Set(plan.members.map((m) => m.module).filter((m) => m !== null))) {
    const known = plan.members.find((m) => m.module === mod && m.targetDriver !== null);
    out.push(known ? `# module ${mod} is loaded (driver ${known.targetDriver!}): no modprobe` : `run modprobe ${mod}`);
  }
  for (const m of plan.members) {
    const dp = devicePath(m.bus, m.device);
    const drv = m.targetOverride ?? (plan.op === "set" ? `<pci driver of ${m.module ?? "?"}>` : null);
    if (plan.op === "set" && m.targetDriver !== null && inTarget(m, m.original)) {
      out.push(`# ${m.device}: already bound to ${m.targetDriver} with override ${m.targetDriver}: nothing to do`);
      continue;
    }
    out.push(`write ${dp}/driver_override <- ${drv === null ? '"\\n" (clear)' : JSON.stringify(drv)}`);
    if (m.original.driver !== null && m.original.driver !== m.targetDriver) out.push(`write /sys/bus/${m.bus}/drivers/${m.original.driver}/unbind <- ${JSON.stringify(m.device)}`);
    if (m.original.driver === null || m.original.driver !== m.targetDriver) out.push(`write /sys/bus/${m.bus}/drivers_probe <- ${JSON.stringify(m.device)}`);
    out.push(`verify ${dp}/driver -> ${m.targetDriver ?? drv ?? `any driver but ${m.leaveDriver ?? "(none)"}`}`);
  }
  return out;
}

export type SwitchStatus = "done" | "noop" | "rolled-back" | "restore-failed";

export interface SwitchResult {
  status: SwitchStatus;
  /** What failed (for rolled-back / restore-failed). */
  failure: string | null;
  /** What was restored, or what could not be. */
  restored: string[];
  /** Final state of each member. */
  final: { device: string; state: BindState }[];
}

class Runner {
  readonly env: SwitchEnv;
  journal: Journal;
  constructor(env: SwitchEnv, journal: Journal) {
    this.env = env;
    this.journal = journal;
  }
  /** Journal first, then the kill point, then the step. */
  async step<T>(label: string, fn: () => Promise<T>): Promise<T> {
    this.journal = { ...this.journal, step: label };
    this.env.journal.write(this.journal);
    this.env.beforeStep?.(label);
    return fn();
  }
  async write(path: string, data: string, why: string): Promise<void> {
    await this.step(`${why}: write ${path}`, async () => {
      await this.env.sysfs.write(path, data);
    });
    this.env.log(`write ${path} <- ${JSON.stringify(data)}: ok`);
  }
}

function failureText(e: unknown): string {
  if (e instanceof SysfsError) return `write ${e.path} failed: ${e.errno}`;
  if (e instanceof KbindError) return e.message;
  return e instanceof Error ? e.message : String(e);
}

/**
 * Restores one member to its original state (driver and override) from whatever state it is in, and
 * verifies it. Idempotent: safe to re-run after a kill at any point.
 */
async function restoreMember(r: Runner, m: JournalMember): Promise<string> {
  const { sysfs } = r.env;
  const dp = devicePath(m.bus, m.device);
  let s = await readBindState(sysfs, m.bus, m.device);
  if (sameState(s, m.original)) return `${m.device}: already in its original state (${describe(m.original)})`;
  if (s.driver !== null && s.driver !== m.original.driver) {
    await r.write(`/sys/bus/${m.bus}/drivers/${s.driver}/unbind`, m.device, `rollback ${m.device}`);
  }
  if (s.override !== m.original.override) {
    // driver_set_override(): "\n" clears; the name is stored up to the first newline.
    await r.write(`${dp}/driver_override`, m.original.override ?? "\n", `rollback ${m.device}`);
  }
  s = await readBindState(sysfs, m.bus, m.device);
  if (m.original.driver !== null && s.driver === null) {
    try {
      // bind_store (drivers/base/bus.c): exactly the original driver, not whatever drivers_probe picks.
      await r.write(`/sys/bus/${m.bus}/drivers/${m.original.driver}/bind`, m.device, `rollback ${m.device}`);
    } catch (e) {
      if (e instanceof ProcessKilled) throw e;
      r.env.log(`bind to ${m.original.driver} failed (${failureText(e)}); trying drivers_probe`);
      await r.write(`/sys/bus/${m.bus}/drivers_probe`, m.device, `rollback ${m.device}`);
    }
  }
  s = await readBindState(sysfs, m.bus, m.device);
  if (!sameState(s, m.original)) {
    throw new KbindError("RESTORE_FAILED", `${m.device}: could not restore ${describe(m.original)}; it is now ${describe(s)}`, { sysfsPath: dp });
  }
  return `${m.device}: restored ${describe(m.original)}`;
}

async function rollbackAll(r: Runner, members: readonly JournalMember[]): Promise<{ ok: boolean; restored: string[] }> {
  r.journal = { ...r.journal, phase: "rollback" };
  const restored: string[] = [];
  let ok = true;
  for (const m of [...members].reverse()) {
    try {
      restored.push(await restoreMember(r, m));
    } catch (e) {
      if (e instanceof ProcessKilled) throw e;
      ok = false;
      restored.push(`${m.device}: NOT restored: ${failureText(e)}`);
    }
  }
  if (ok) r.env.journal.remove();
  return { ok, restored };
}

async function finalStates(env: SwitchEnv, members: readonly JournalMember[]): Promise<SwitchResult["final"]> {
  const out: SwitchResult["final"] = [];
  for (const m of members) out.push({ device: m.device, state: await readBindState(env.sysfs, m.bus, m.device) });
  return out;
}

/** Executes a plan; on any failure rolls every member back. ProcessKilled propagates untouched. */
export async function executePlan(env: SwitchEnv, plan: SwitchPlan): Promise<SwitchResult> {
  const pending = await recoverInterrupted(env);
  if (pending !== null) env.log(`recovered an interrupted switch first: ${pending.status}`);
  // The state to restore on failure is the state right now (after any recovery), not the plan's.
  const originals: BindState[] = [];
  for (const m of plan.members) originals.push(pending === null ? m.original : await readBindState(env.sysfs, m.bus, m.device));
  const members: JournalMember[] = plan.members.map((m, i) => ({
    bus: m.bus,
    device: m.device,
    original: originals[i]!,
    targetOverride: m.targetOverride,
    targetDriver: m.targetDriver,
    leaveDriver: m.leaveDriver,
  }));
  const r = new Runner(env, { version: 1, op: plan.op, flavour: plan.flavour, phase: "forward", step: "start", members });
  try {
    // 1. Load the modules and learn the driver names (no device state changes yet).
    for (const mod of new Set(plan.members.map((m) => m.module).filter((m) => m !== null))) {
      let drivers = await moduleDrivers(env.sysfs, mod, "pci");
      if (drivers.length === 0) {
        // Like driverctl: modprobe only when the module has not registered its driver yet.
        const res = await r.step(`modprobe ${mod}`, () => env.modprobe.modprobe([mod]));
        if (res.code !== 0) throw new KbindError("MODPROBE_FAILED", `modprobe ${mod} exited ${res.code}: ${res.stderr.trim() || res.stdout.trim()}`, {});
        env.log(`modprobe ${mod}: ok`);
        drivers = await moduleDrivers(env.sysfs, mod, "pci");
      }
      const drv = drivers[0];
      if (drv === undefined) throw new KbindError("NO_PCI_DRIVER", `module ${mod} registered no PCI driver (/sys/module/${mod.replaceAll("-", "_")}/drivers has no pci: entry)`, { sysfsPath: `/sys/module/${mod.replaceAll("-", "_")}/drivers` });
      validateDriverName(drv);
      plan.members.forEach((p, i) => {
        if (p.module === mod) members[i] = { ...members[i]!, targetDriver: drv, targetOverride: drv };
      });
    }
    r.journal = { ...r.journal, members };
    // 2. Per member: override, unbind, drivers_probe, verify.
    let changed = false;
    for (const m of members) {
      const dp = devicePath(m.bus, m.device);
      let s = await readBindState(env.sysfs, m.bus, m.device);
      if (inTarget(m, s)) {
        env.log(`${m.device}: already ${describe(s)}`);
        continue;
      }
      changed = true;
      if (s.override !== m.targetOverride) await r.write(`${dp}/driver_override`, m.targetOverride ?? "\n", m.device);
      s = await readBindState(env.sysfs, m.bus, m.device);
      const leaving = s.driver !== null && (m.targetDriver === null ? s.driver === m.leaveDriver : s.driver !== m.targetDriver);
      if (leaving) await r.write(`/sys/bus/${m.bus}/drivers/${s.driver!}/unbind`, m.device, m.device);
      s = await readBindState(env.sysfs, m.bus, m.device);
      if (s.driver === null) await r.write(`/sys/bus/${m.bus}/drivers_probe`, m.device, m.device);
      s = await r.step(`verify ${m.device}`, () => readBindState(env.sysfs, m.bus, m.device));
      if (!inTarget(m, s)) {
        const want = m.targetDriver ?? `a driver other than ${m.leaveDriver ?? "(none)"}`;
        const hint = s.driver === null ? "probe failed or no driver matched (see dmesg)" : `bound to ${s.driver} instead`;
        throw new KbindError("VERIFY_FAILED", `${m.device} is not bound to ${want} after drivers_probe: ${hint}`, { sysfsPath: `${dp}/driver` });
      }
      env.log(`verify ${m.device}: ${describe(s)}`);
    }
    env.journal.remove();
    return { status: changed ? "done" : "noop", failure: null, restored: [], final: await finalStates(env, members) };
  } catch (e) {
    if (e instanceof ProcessKilled) throw e;
    const failure = failureText(e);
    env.log(`FAILED: ${failure}; rolling back`);
    const rb = await rollbackAll(r, members);
    return { status: rb.ok ? "rolled-back" : "restore-failed", failure, restored: rb.restored, final: await finalStates(env, members) };
  }
}

export interface RecoveryResult {
  status: "completed" | "rolled-back" | "restore-failed";
  journal: Journal;
  restored: string[];
}

/**
 * Finishes a switch a previous run left behind (crash, kill -9): if the journal was still in the
 * forward phase and every member is verified in its target state, the switch completed; otherwise
 * every member is restored to its recorded original state. Returns null when there is no journal.
 */
export async function recoverInterrupted(env: SwitchEnv): Promise<RecoveryResult | null> {
  const j = env.journal.read();
  if (j === null) return null;
  if (j.phase === "forward") {
    let all = true;
    for (const m of j.members) {
      if (m.targetOverride === null && m.targetDriver === null && j.op === "set") all = false;
      else if (!inTarget(m, await readBindState(env.sysfs, m.bus, m.device))) all = false;
    }
    if (all) {
      env.journal.remove();
      return { status: "completed", journal: j, restored: [] };
    }
  }
  const r = new Runner(env, j);
  const rb = await rollbackAll(r, j.members);
  return { status: rb.ok ? "rolled-back" : "restore-failed", journal: j, restored: rb.restored };
}

/** For reports: a one-line description of a member's current state. */
export async function describeDevice(sysfs: SysfsPort, bus: string, device: string): Promise<string> {
  const s = await readBindState(sysfs, bus, device);
  const mod = await readAttrOrNull(sysfs, `${devicePath(bus, device)}/modalias`);
  return `${device}: ${describe(s)}${mod ? `, ${mod.trim()}` : ""}`;
}
