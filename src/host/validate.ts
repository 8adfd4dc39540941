// Input validation for everything that becomes part of a /sys path or a modprobe argument.
// A name never contains "/", never is "." or "..", never starts with "-" (no option injection into
// modprobe), and a device must be an existing entry under /sys/bus/<bus>/devices.
import { KbindError } from "../model/errors.ts";
import type { SysfsPort } from "../ports.ts";

/** Bus and device names as the kernel creates them (dev_set_name: no "/" allowed, kobject_set_name_vargs). */
const DEVICE_RE = /^[A-Za-z0-9][A-Za-z0-9:._+-]{0,127}$/;
/** MODULE_NAME_LEN is 64 (56 on 32-bit): a module name is [A-Za-z0-9_-], first char not "-". */
const MODULE_RE = /^[A-Za-z0-9_][A-Za-z0-9_-]{0,54}$/;
/** struct device_driver.name: letters, digits and "-_.:+" in practice; no "/", not starting with "-". */
const DRIVER_RE = /^[A-Za-z0-9_][A-Za-z0-9_.:+-]{0,127}$/;
const BUS_RE = /^[a-z0-9][a-z0-9_-]{0,31}$/;

export function validateDeviceName(name: string): string {
  if (!DEVICE_RE.test(name) || name === "." || name === "..") {
    throw new KbindError("BAD_DEVICE_NAME", `invalid device name ${JSON.stringify(name)} (expected e.g. 0000:01:00.0)`, { offset: firstBad(name, DEVICE_RE) });
  }
  return name;
}

export function validateModuleName(name: string): string {
  if (!MODULE_RE.test(name)) {
    throw new KbindError("BAD_MODULE_NAME", `invalid module name ${JSON.stringify(name)}`, { offset: firstBad(name, MODULE_RE) });
  }
  return name;
}

export function validateDriverName(name: string): string {
  if (!DRIVER_RE.test(name)) {
    throw new KbindError("BAD_DRIVER_NAME", `invalid driver name ${JSON.stringify(name)}`, { offset: firstBad(name, DRIVER_RE) });
  }
  return name;
}

export function validateBusName(name: string): string {
  if (!BUS_RE.test(name)) throw new KbindError("BAD_BUS_NAME", `invalid bus name ${JSON.stringify(name)}`, { offset: firstBad(name, BUS_RE) });
  return name;
}

/** Offset of the first character that makes `s` fail `re` (the shortest failing prefix). */
function firstBad(s: string, re: RegExp): number {
  for (let i = 1; i <= s.length; i++) if (!re.test(s.slice(0, i))) return i - 1;
  return s.length;
}

export interface DeviceRef {
  bus: string;
  device: string;
}

/**
 * Resolves "DEV" or "BUS/DEV" (driverctl's form) to an existing /sys/bus/<bus>/devices/<dev> entry.
 * A bare name is looked up on every bus; it must exist on exactly one.
 */
export async function resolveDevice(sysfs: SysfsPort, spec: string): Promise<DeviceRef> {
  const slash = spec.indexOf("/");
  if (slash >= 0) {
    const bus = validateBusName(spec.slice(0, slash));
    const device = validateDeviceName(spec.slice(slash + 1));
    const path = `/sys/bus/${bus}/devices/${device}`;
    if (!(await sysfs.exists(path))) throw new KbindError("NO_SUCH_DEVICE", `no such device: ${spec}`, { sysfsPath: path, errno: "ENOENT" });
    return { bus, device };
  }
  const device = validateDeviceName(spec);
  const buses = await sysfs.list("/sys/bus");
  const found: string[] = [];
  for (const bus of buses) {
    if (!BUS_RE.test(bus)) continue;
    if (await sysfs.exists(`/sys/bus/${bus}/devices/${device}`)) found.push(bus);
  }
  if (found.length === 0) throw new KbindError("NO_SUCH_DEVICE", `no such device: ${spec} (not under /sys/bus/*/devices)`, { sysfsPath: `/sys/bus/*/devices/${device}`, errno: "ENOENT" });
  if (found.length > 1) throw new KbindError("AMBIGUOUS_DEVICE", `${spec} exists on buses ${found.join(", ")}: say BUS/${spec}`, {});
  return { bus: found[0]!, device };
}
