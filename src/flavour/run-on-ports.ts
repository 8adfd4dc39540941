// Runs a userspace algorithm generator (ops.ts) against the real ports: the same code the simulator
// runs, now doing real sysfs I/O through whatever SysfsPort the host layer provides.
import type { FilesPort, ModprobePort, SysfsPort } from "../ports.ts";
import { SysfsError } from "../ports.ts";
import type { Op, OpResult, Proc } from "./ops.ts";

export interface Ports {
  sysfs: SysfsPort;
  modprobe: ModprobePort;
  files: FilesPort;
  /** Real time sleep; the host passes e.g. a setTimeout wrapper. */
  sleep: (ms: number) => Promise<void>;
  log?: (text: string) => void;
}

async function perform(op: Op, p: Ports): Promise<unknown> {
  switch (op.op) {
    case "read":
      return p.sysfs.read(op.path);
    case "write":
      return p.sysfs.write(op.path, op.data);
    case "readlink":
      return p.sysfs.readlink(op.path);
    case "list":
      return p.sysfs.list(op.dir);
    case "exists":
      return p.sysfs.exists(op.path);
    case "modprobe":
      return p.modprobe.modprobe(op.args);
    case "readText":
      return p.files.readText(op.path);
    case "sleep":
      return p.sleep(op.ms);
    case "log":
      p.log?.(op.text);
      return undefined;
  }
}

export async function runOnPorts<T>(proc: Proc<T>, ports: Ports): Promise<T> {
  let input: OpResult = { ok: true, value: undefined };
  for (;;) {
    const step = proc.next(input);
    if (step.done === true) return step.value;
    try {
      input = { ok: true, value: await perform(step.value, ports) };
    } catch (e) {
      if (e instanceof SysfsError) input = { ok: false, errno: e.errno, path: e.path };
      else throw e;
    }
  }
}
