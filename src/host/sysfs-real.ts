// A SysfsPort over a real sysfs tree mounted under `root` (default "/"): "/sys/bus/pci/..." is
// `${root}/sys/bus/pci/...`. Tests ALWAYS pass a temp dir; only an operator's explicit command
// reaches the machine's /sys.
//
// write() is one write(2) of the bytes, like `echo -n DATA > FILE` minus O_CREAT: sysfs attribute
// stores (kernfs_fop_write_iter → sysfs_kf_write → dev_attr_store) see exactly one buffer, and the
// errno a store() returns comes back from write(2) (or close(2) on the temp-dir fake, as in libvirt's
// tests/virpcimock.c). O_TRUNC is harmless on sysfs and needed on a plain-file fake.
import { closeSync, constants, existsSync, openSync, readFileSync, readdirSync, readlinkSync, writeSync } from "node:fs";
import { join } from "node:path";
import { SysfsError, type SysfsPort } from "../ports.ts";
import { hasCode, nodeErrno } from "./errno-map.ts";

/** Accepts only absolute "/sys/..." paths without "." or ".." components. */
export function checkSysfsPath(path: string): void {
  if (!path.startsWith("/sys/") && path !== "/sys") throw new SysfsError("EINVAL", path, `${path}: not a /sys path`);
  if (path.split("/").some((c) => c === "." || c === "..")) throw new SysfsError("EINVAL", path, `${path}: path traversal refused`);
  if (path.includes("\0")) throw new SysfsError("EINVAL", path, `${path}: NUL in path`);
}

function rejectWith(e: unknown): Promise<never> {
  return Promise.reject(e instanceof Error ? e : new Error(String(e)));
}

export class RealSysfs implements SysfsPort {
  readonly root: string;
  constructor(root = "/") {
    this.root = root;
  }

  /** The host path of a "/sys/..." path. */
  hostPath(path: string): string {
    checkSysfsPath(path);
    return join(this.root, path);
  }

  read(path: string): Promise<string> {
    let p: string;
    try {
      p = this.hostPath(path);
    } catch (e) {
      return rejectWith(e);
    }
    try {
      return Promise.resolve(readFileSync(p, "latin1"));
    } catch (e) {
      return Promise.reject(new SysfsError(nodeErrno(e), path, `read ${path}: ${nodeErrno(e)}`));
    }
  }

  write(path: string, data: string): Promise<number> {
    let p: string;
    try {
      p = this.hostPath(path);
    } catch (e) {
      return rejectWith(e);
    }
    let fd: number;
    try {
      fd = openSync(p, constants.O_WRONLY | constants.O_TRUNC);
    } catch (e) {
      return Promise.reject(new SysfsError(nodeErrno(e), path, `open ${path}: ${nodeErrno(e)}`));
    }
    try {
      const n = writeSync(fd, Buffer.from(data, "latin1"));
      return Promise.resolve(n);
    } catch (e) {
      return Promise.reject(new SysfsError(nodeErrno(e), path, `write ${path}: ${nodeErrno(e)}`));
    } finally {
      try {
        closeSync(fd);
      } catch {
        // close(2) of a sysfs attribute does not report store errors; nothing to do.
      }
    }
  }

  readlink(path: string): Promise<string | null> {
    let p: string;
    try {
      p = this.hostPath(path);
    } catch (e) {
      return rejectWith(e);
    }
    try {
      return Promise.resolve(readlinkSync(p));
    } catch (e) {
      if (hasCode(e, "EINVAL") || hasCode(e, "ENOENT")) return Promise.resolve(null);
      return Promise.reject(new SysfsError(nodeErrno(e), path, `readlink ${path}: ${nodeErrno(e)}`));
    }
  }

  list(dir: string): Promise<string[]> {
    let p: string;
    try {
      p = this.hostPath(dir);
    } catch (e) {
      return rejectWith(e);
    }
    try {
      return Promise.resolve(readdirSync(p).sort());
    } catch (e) {
      return Promise.reject(new SysfsError(nodeErrno(e), dir, `list ${dir}: ${nodeErrno(e)}`));
    }
  }

  exists(path: string): Promise<boolean> {
    try {
      return Promise.resolve(existsSync(this.hostPath(path)));
    } catch (e) {
      return rejectWith(e);
    }
  }
}
