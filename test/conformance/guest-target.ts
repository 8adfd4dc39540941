// The real kernel: a QEMU guest driven over its serial console (src/host/qemu).
import type { GuestSession } from "../../src/host/qemu/session.ts";
import type { ErrnoName } from "../../src/model/errno.ts";
import type { SysfsPort } from "../../src/ports.ts";
import type { Target } from "./target.ts";

export class GuestTarget implements Target {
  readonly name = "kernel";
  readonly sysfs: SysfsPort;
  private readonly s: GuestSession;
  constructor(s: GuestSession) {
    this.s = s;
    this.sysfs = s.sysfs;
  }
  async modprobe(args: readonly string[]): Promise<{ code: number; output: string }> {
    const r = await this.s.control.modprobe(args);
    return { code: r.code, output: r.stdout };
  }
  deleteModule(name: string): Promise<ErrnoName | null> {
    return this.s.control.deleteModule(name);
  }
  loadedModules(): Promise<string[]> {
    return this.s.control.procModules();
  }
  async settle(): Promise<void> {
    await this.s.control.settle();
  }
  async setConfig(file: string, text: string | null): Promise<void> {
    if (!/^[\w.-]+\.conf$/.test(file)) throw new Error(`bad modprobe.d file name ${file}`);
    const path = `/etc/modprobe.d/${file}`;
    const cmd = text === null ? `rm -f ${path}` : `echo ${Buffer.from(text, "latin1").toString("base64")} | base64 -d > ${path}`;
    const r = await this.s.control.sh(cmd);
    if (r.code !== 0) throw new Error(`${cmd}: exit ${r.code}: ${r.stdout}`);
  }
  private seen = 0;
  async uevents(): Promise<string[]> {
    await this.s.control.settle();
    const lines = (await this.s.control.ueventLog()).split("\n").filter((l) => l.startsWith("uevent "));
    const fresh = lines.slice(this.seen);
    this.seen = lines.length;
    // "uevent SEQNUM rest" → rest
    return fresh.map((l) => l.split(" ").slice(2).join(" "));
  }
}
