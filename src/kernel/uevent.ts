// uevents: lib/kobject_uevent.c (kobject_uevent_env, kobject_synth_uevent, kobject_action_type,
// kobject_action_args) and drivers/base/core.c (dev_uevent, uevent_show, dev_uevent_filter).
// Variable order: ACTION, DEVPATH, SUBSYSTEM, the caller's extra vars (SYNTH_*), the subsystem's
// uevent() vars (dev_uevent: DRIVER, then the bus's vars incl. MODALIAS), SEQNUM last.
import { ERRNO } from "../model/errno.ts";
import type { Kernel } from "./kernel.ts";
import { UEVENT_ACTIONS, type Device, type Driver, type Uevent, type UeventAction } from "./types.ts";

/** dev_uevent(): DRIVER= when bound, then bus->uevent(). (No MAJOR/MINOR: modelled devices have no devt.) */
export function devUeventVars(k: Kernel, dev: Device): [string, string][] {
  const vars: [string, string][] = [];
  if (dev.driver) vars.push(["DRIVER", dev.driver.name]);
  const bus = dev.bus;
  if (bus?.type.uevent) vars.push(...bus.type.uevent(dev, k));
  return vars;
}

function send(k: Kernel, action: UeventAction, devpath: string, subsystem: string, ext: readonly [string, string][], vars: readonly [string, string][]): Uevent {
  let env: [string, string][] = [["ACTION", action], ["DEVPATH", devpath], ["SUBSYSTEM", subsystem], ...ext, ...vars];
  // kobject_uevent_env(): KOBJ_UNBIND → zap_modalias_env(), so that udev rules keyed on MODALIAS do
  // not load modules on unbind (every MODALIAS= variable; synthetic arguments are SYNTH_ARG_*).
  if (action === "unbind") env = env.filter(([key]) => key !== "MODALIAS");
  k.seqnum++;
  env.push(["SEQNUM", String(k.seqnum)]);
  const ev: Uevent = { action, devpath, subsystem, seqnum: k.seqnum, env };
  k.deliverUevent(ev);
  return ev;
}

function isDevice(obj: Device | Driver): obj is Device {
  return "devpath" in obj;
}

/**
 * kobject_uevent_env() for a device (subsystem = its bus; dev_uevent_filter drops bus-less, class-less
 * devices: returns null) or a driver (kset "drivers": SUBSYSTEM=drivers, no extra vars).
 */
export function kobjectUevent(k: Kernel, obj: Device | Driver, action: UeventAction, ext: readonly [string, string][] = []): Uevent | null {
  if (isDevice(obj)) {
    if (!obj.bus) return null;
    return send(k, action, obj.devpath, obj.bus.name, ext, devUeventVars(k, obj));
  }
  return send(k, action, `/bus/${obj.bus.name}/drivers/${obj.name}`, "drivers", ext, []);
}

/** A module kobject's uevent (/module/<name>, kset "module"). */
export function moduleUevent(k: Kernel, name: string, action: UeventAction, ext: readonly [string, string][] = []): Uevent {
  return send(k, action, `/module/${name}`, "module", ext, []);
}

/** A bus kobject's uevent (/bus/<name>, kset "bus"). */
export function busUevent(k: Kernel, name: string, action: UeventAction, ext: readonly [string, string][] = []): Uevent {
  return send(k, action, `/bus/${name}`, "bus", ext, []);
}

const UUID_RE = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}/;
const ALNUM = /^[0-9A-Za-z]$/;

/** Strips one trailing '\n' or NUL, as kobject_action_type / kobject_action_args do. */
function chop(s: string): string {
  return s.length > 0 && (s.endsWith("\n") || s.endsWith("\0")) ? s.slice(0, -1) : s;
}

/** action_arg_word_end(): alphanumerics up to `delim` (or the end); null on another char or empty. */
function wordEnd(s: string, from: number, delim: string): number | null {
  let i = from;
  while (i < s.length && s[i] !== delim) {
    if (!ALNUM.test(s[i]!)) return null;
    i++;
  }
  return i === from ? null : i;
}

/**
 * kobject_synth_uevent() parsing of "ACTION [UUID [KEY=VALUE ...]]": the action and the extra
 * variables (SYNTH_UUID=0 when no UUID is given), or -EINVAL.
 */
export function parseSynthUevent(buf: string): { action: UeventAction; ext: [string, string][] } | number {
  const s = chop(buf);
  if (s.length === 0) return -ERRNO.EINVAL;
  const sp = s.indexOf(" ");
  const first = sp >= 0 ? s.slice(0, sp) : s;
  const action = UEVENT_ACTIONS.find((a) => a === first);
  if (!action) return -ERRNO.EINVAL;
  if (sp < 0) return { action, ext: [["SYNTH_UUID", "0"]] };
  // kobject_action_args() sees the original buffer after the space (its own trailing-\n chop).
  const args = chop(buf.slice(sp + 1));
  if (args.length === 0 || !UUID_RE.test(args)) return -ERRNO.EINVAL;
  const ext: [string, string][] = [["SYNTH_UUID", args.slice(0, 36)]];
  let next = 36;
  while (next < args.length) {
    if (args[next] !== " ") return -ERRNO.EINVAL;
    const key = next + 1;
    if (key >= args.length) return -ERRNO.EINVAL;
    const eq = wordEnd(args, key, "=");
    if (eq === null || eq >= args.length || args[eq] !== "=") return -ERRNO.EINVAL;
    const val = eq + 1;
    if (val >= args.length) return -ERRNO.EINVAL;
    const end = wordEnd(args, val, " ");
    if (end === null) return -ERRNO.EINVAL;
    ext.push([`SYNTH_ARG_${args.slice(key, eq)}`, args.slice(val, end)]);
    next = end;
  }
  return { action, ext };
}

/** uevent_store() on a device: synthetic event; count or -EINVAL. Bus-less devices send nothing. */
export function deviceUeventStore(k: Kernel, dev: Device, buf: string): number {
  const p = parseSynthUevent(buf);
  if (typeof p === "number") {
    k.trace({ kind: "synth_uevent", text: `synth uevent: ${dev.devpath}: unknown uevent action string`, device: dev.name, errno: p });
    return p;
  }
  kobjectUevent(k, dev, p.action, p.ext);
  return buf.length;
}

/** drivers/<d>/uevent and /sys/bus/<b>/uevent and /sys/module/<m>/uevent stores. */
export function synthStore(k: Kernel, buf: string, emit: (action: UeventAction, ext: [string, string][]) => void): number {
  const p = parseSynthUevent(buf);
  if (typeof p === "number") return p;
  emit(p.action, p.ext);
  return buf.length;
}
