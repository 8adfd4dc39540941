// Userspace algorithms (libvirt's variant selection, the udev hook, the flavour switch) are written
// once as generators that yield the operations they need — sysfs reads and writes, modprobe, reading
// a file, sleeping — and receive each result. The kernel backend (kernel-backend.ts) runs them in virtual time
// with deterministic interleaving; run-on-ports.ts runs the very same generators against the real
// SysfsPort / ModprobePort / FilesPort of src/ports.ts.
import type { ErrnoName } from "../model/errno.ts";
import { SysfsError, type ProcessResult } from "../ports.ts";

export type Op =
  | { op: "read"; path: string }
  | { op: "write"; path: string; data: string }
  | { op: "readlink"; path: string }
  | { op: "list"; dir: string }
  | { op: "exists"; path: string }
  | { op: "modprobe"; args: readonly string[] }
  | { op: "readText"; path: string }
  | { op: "sleep"; ms: number }
  | { op: "log"; text: string };

export type OpResult = { ok: true; value: unknown } | { ok: false; errno: ErrnoName; path: string };

export type Proc<T> = Generator<Op, T, OpResult>;

function unwrap(r: OpResult): unknown {
  if (!r.ok) throw new SysfsError(r.errno, r.path);
  return r.value;
}

export function* sysRead(path: string): Proc<string> {
  return unwrap(yield { op: "read", path }) as string;
}

export function* sysWrite(path: string, data: string): Proc<number> {
  return unwrap(yield { op: "write", path, data }) as number;
}

export function* sysReadlink(path: string): Proc<string | null> {
  return unwrap(yield { op: "readlink", path }) as string | null;
}

/**
 * The driver a device is bound to, from its `driver` link; null when unbound. An unbound device has
 * no `driver` entry at all, so readlink(2) fails with ENOENT (libvirt's virPCIDeviceGetDriverPathAndName
 * treats that as "no driver"): the real kernel, the driver core model and a temp-dir /sys all do this.
 */
export function* sysDriverLink(devPath: string): Proc<string | null> {
  try {
    return yield* sysReadlink(`${devPath}/driver`);
  } catch (e) {
    if (e instanceof SysfsError && e.errno === "ENOENT") return null;
    throw e;
  }
}

export function* sysList(dir: string): Proc<string[]> {
  return unwrap(yield { op: "list", dir }) as string[];
}

export function* sysExists(path: string): Proc<boolean> {
  return unwrap(yield { op: "exists", path }) as boolean;
}

export function* runModprobe(args: readonly string[]): Proc<ProcessResult> {
  return unwrap(yield { op: "modprobe", args }) as ProcessResult;
}

export function* readText(path: string): Proc<string> {
  return unwrap(yield { op: "readText", path }) as string;
}

export function* sleep(ms: number): Proc<void> {
  yield { op: "sleep", ms };
}

export function* log(text: string): Proc<void> {
  yield { op: "log", text };
}

/** basename of a sysfs link target ("../../../bus/pci/drivers/mlx5_core" → "mlx5_core"). */
export function linkBase(target: string): string {
  return target.slice(target.lastIndexOf("/") + 1);
}
