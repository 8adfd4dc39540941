// The ports between userspace logic and the kernel/host. The pure core implements them on the
// simulated kernel (src/kernel, src/sim); src/host implements them on a real /sys, a temp-dir fake
// /sys and real processes. Userspace algorithms (udev autoload, libvirt's variant selection, the
// flavour switch, conformance cases) are written once against these interfaces.
import { KbindError } from "./model/errors.ts";
import type { ErrnoName } from "./model/errno.ts";

/** A failed sysfs operation: the errno the kernel returned (write(2)/read(2)/open(2)). */
export class SysfsError extends KbindError {
  readonly errno: ErrnoName;
  readonly path: string;
  constructor(errno: ErrnoName, path: string, message?: string) {
    super(errno, message ?? `${path}: ${errno}`, { sysfsPath: path, errno });
    this.name = "SysfsError";
    this.errno = errno;
    this.path = path;
  }
}

/**
 * Path-addressed access to sysfs. Paths are absolute and start with "/sys/". Data are byte strings
 * (one JS char per byte, latin1), so NUL and newline bytes travel unchanged.
 * Every method rejects with SysfsError carrying the kernel's errno.
 */
export interface SysfsPort {
  /** read(2) of an attribute: the whole text the kernel's show() produced, trailing newline included. */
  read(path: string): Promise<string>;
  /** One write(2) of `data` to an attribute; resolves with the count the kernel's store() returned. */
  write(path: string, data: string): Promise<number>;
  /** readlink(2): the link target as the kernel shows it (relative), or null if `path` is not a link. */
  readlink(path: string): Promise<string | null>;
  /** The entries of a directory, sorted by name. Rejects with ENOENT/ENOTDIR. */
  list(dir: string): Promise<string[]>;
  exists(path: string): Promise<boolean>;
}

export interface ProcessResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Running modprobe (argv without the program name). Real: execFile("modprobe"); simulated: src/kmod. */
export interface ModprobePort {
  modprobe(args: readonly string[]): Promise<ProcessResult>;
}

/** Read-only access to files (a modules directory, modprobe.d). */
export interface FilesPort {
  readFile(path: string): Promise<Uint8Array>;
  readText(path: string): Promise<string>;
  list(dir: string): Promise<string[]>;
  exists(path: string): Promise<boolean>;
}
