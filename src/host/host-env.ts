// What the host commands need from the machine, injectable so tests never touch the real /sys, the
// real modprobe or the real uid: the CLI builds it from these factories.
import { existsSync, readFileSync } from "node:fs";
import { release } from "node:os";
import { join } from "node:path";
import type { ModprobePort, SysfsPort } from "../ports.ts";
import { ProcessModprobe } from "./modprobe-process.ts";
import { RealSysfs } from "./sysfs-real.ts";

export interface HostDeps {
  getuid: () => number;
  sysfs: (root: string) => SysfsPort;
  /** The modprobe to run for a given sysfs root. */
  modprobe: (root: string) => ModprobePort;
  mountinfo: (root: string) => Promise<string>;
  kernelRelease: () => string;
}

/** Never runs the real modprobe(8) for a sysfs tree that is not the running kernel's. */
export function refusingModprobe(root: string): ModprobePort {
  return {
    modprobe: (args) =>
      Promise.resolve({ code: 1, stdout: "", stderr: `kbind: not running modprobe ${args.join(" ")}: --sysfs-root ${root} is not the running kernel (load the module there first)\n` }),
  };
}

export const realHostDeps: HostDeps = {
  getuid: () => (typeof process.getuid === "function" ? process.getuid() : 0),
  sysfs: (root) => new RealSysfs(root),
  modprobe: (root) => (root === "/" ? new ProcessModprobe() : refusingModprobe(root)),
  mountinfo: (root) => {
    const p = join(root, "proc/self/mountinfo");
    return Promise.resolve(existsSync(p) ? readFileSync(p, "utf8") : "");
  },
  kernelRelease: () => release(),
};
