// A SysfsPort on a QEMU guest's real sysfs, driven over the serial channel (guest.ts): every read,
// write, readlink and readdir is one system call in the guest, so a write returns the kernel's own
// errno (kbind-guest.c prints its name). Also the module and uevent controls conformance cases need.
import { KbindError } from "../../model/errors.ts";
import { isErrnoName, type ErrnoName } from "../../model/errno.ts";
import { SysfsError, type ProcessResult, type SysfsPort } from "../../ports.ts";
import { unb64, type GuestOp, type QemuGuest } from "./guest.ts";

function checkPath(path: string): void {
  if (!path.startsWith("/sys/")) throw new SysfsError("EINVAL", path, `${path}: not a /sys path`);
}

export class SerialSysfs implements SysfsPort {
  readonly guest: QemuGuest;
  constructor(guest: QemuGuest) {
    this.guest = guest;
  }

  /** Runs op; "OK <rest>" resolves with rest, an errno name rejects with SysfsError. */
  private async call(op: GuestOp, path: string, extra: readonly string[] = []): Promise<string> {
    const ans = await this.guest.request(op, [path, ...extra]);
    if (ans.startsWith("OK")) return ans.slice(3);
    const name = ans.trim();
    if (isErrnoName(name)) throw new SysfsError(name, path, `${op} ${path}: ${name}`);
    throw new KbindError("GUEST_ERRNO", `${op} ${path}: the guest answered "${name}", not a known errno name`, { sysfsPath: path });
  }

  async read(path: string): Promise<string> {
    checkPath(path);
    return unb64(await this.call("R", path));
  }

  async write(path: string, data: string): Promise<number> {
    checkPath(path);
    return Number(await this.call("W", path, [data]));
  }

  async readlink(path: string): Promise<string | null> {
    checkPath(path);
    try {
      return unb64(await this.call("L", path));
    } catch (e) {
      if (e instanceof SysfsError && e.errno === "EINVAL") return null;
      throw e;
    }
  }

  async list(dir: string): Promise<string[]> {
    checkPath(dir);
    const text = unb64(await this.call("D", dir));
    return text.split("\n").filter((s) => s.length > 0);
  }

  async exists(path: string): Promise<boolean> {
    checkPath(path);
    return (await this.call("E", path)) === "1";
  }
}

/** Module, process and uevent control of the guest. */
export class GuestControl {
  readonly guest: QemuGuest;
  constructor(guest: QemuGuest) {
    this.guest = guest;
  }

  /** /bin/sh -c cmd in the guest: exit status and stdout+stderr together. */
  async sh(cmd: string, timeoutMs?: number): Promise<ProcessResult> {
    const ans = await this.guest.request("X", [cmd], timeoutMs);
    const m = /^OK (\d+) (\S+)$/.exec(ans);
    if (!m) throw new KbindError("GUEST_PROTOCOL", `unexpected answer to X: ${ans}`);
    return { code: Number(m[1]), stdout: unb64(m[2]!), stderr: "" };
  }

  /** The real kmod modprobe in the guest (argv without "modprobe"). By absolute path: busybox sh
   *  prefers its own applets (FEATURE_SH_STANDALONE) for a bare "modprobe". */
  modprobe(args: readonly string[]): Promise<ProcessResult> {
    const quoted = args.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(" ");
    return this.sh(`/sbin/modprobe ${quoted}`);
  }

  /** delete_module(name, O_NONBLOCK): null on success or the errno name. */
  async deleteModule(name: string): Promise<ErrnoName | null> {
    const ans = await this.guest.request("U", [name]);
    if (ans.startsWith("OK")) return null;
    const e = ans.trim();
    if (isErrnoName(e)) return e;
    throw new KbindError("GUEST_ERRNO", `delete_module(${name}): unknown answer "${e}"`);
  }

  /** read(2) of any guest file (e.g. /lib/modules/<kver>/modules.dep), as a byte string. */
  async readFile(path: string): Promise<string> {
    const ans = await this.guest.request("R", [path]);
    if (!ans.startsWith("OK")) throw new KbindError("GUEST_ERRNO", `read ${path}: ${ans}`, { file: path });
    return unb64(ans.slice(3));
  }

  /** Names in /proc/modules (loadable modules that are loaded). */
  async procModules(): Promise<string[]> {
    const ans = await this.guest.request("R", ["/proc/modules"]);
    if (!ans.startsWith("OK")) throw new KbindError("GUEST_ERRNO", `/proc/modules: ${ans}`);
    return unb64(ans.slice(3)).split("\n").filter((l) => l.length > 0).map((l) => l.split(" ")[0]!);
  }

  /** Waits until the guest's uevent listener handled every uevent (udevadm settle). */
  async settle(): Promise<number> {
    const ans = await this.guest.request("S", [], 90_000);
    if (!ans.startsWith("OK")) throw new KbindError("GUEST_SETTLE", `uevent queue did not settle: ${ans}`);
    return Number(ans.slice(3));
  }

  /** The listener's log (uevents and the modprobe runs they caused). */
  async ueventLog(): Promise<string> {
    const ans = await this.guest.request("R", ["/run/uevents.log"]);
    return ans.startsWith("OK") ? unb64(ans.slice(3)) : "";
  }
}
