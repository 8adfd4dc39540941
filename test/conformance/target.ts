// What a conformance case runs against: a SysfsPort plus module and uevent control. The QEMU guest
// (guest-target.ts) and the model (model-target.ts) both implement it, and observe() turns a step
// into its observation string on either.
import type { ErrnoName } from "../../src/model/errno.ts";
import { SysfsError, type SysfsPort } from "../../src/ports.ts";
import { DEFAULT_UEVENT_SUBSYSTEMS, devPath, type Step } from "./case-format.ts";

export interface Target {
  readonly name: string;
  readonly sysfs: SysfsPort;
  /** modprobe argv (without "modprobe"): exit status and combined output. */
  modprobe(args: readonly string[]): Promise<{ code: number; output: string }>;
  /** delete_module(name, O_NONBLOCK): null or the errno. */
  deleteModule(name: string): Promise<ErrnoName | null>;
  /** Names of loaded modules (/proc/modules). */
  loadedModules(): Promise<string[]>;
  /** Wait until every uevent was handled (udevadm settle). */
  settle(): Promise<void>;
  /** Writes (text) or removes (null) /etc/modprobe.d/<file>. */
  setConfig(file: string, text: string | null): Promise<void>;
  /** Settles, then returns the uevents sent since the previous call as "ACTION SUBSYSTEM DEVPATH K=V...". */
  uevents(): Promise<string[]>;
}

function errnoOf(e: unknown): string {
  if (e instanceof SysfsError) return `errno ${e.errno}`;
  throw e;
}

export async function observe(t: Target, s: Step): Promise<string> {
  switch (s.op) {
    case "read":
      return t.sysfs.read(s.path).then((x) => `text ${JSON.stringify(x)}`, errnoOf);
    case "write":
      return t.sysfs.write(s.path, s.data).then((n) => `count ${n}`, errnoOf);
    case "driver": {
      const l = await t.sysfs.readlink(`${devPath(s.dev)}/driver`).catch((e: unknown) => {
        if (e instanceof SysfsError && e.errno === "ENOENT") return null;
        throw e;
      });
      return l === null ? "driver none" : `driver ${l.slice(l.lastIndexOf("/") + 1)}`;
    }
    case "link":
      return t.sysfs.readlink(s.path).then((l) => (l === null ? "link none" : `link ${l}`), errnoOf);
    case "exists":
      return (await t.sysfs.exists(s.path)) ? "yes" : "no";
    case "list":
      return t.sysfs.list(s.path).then((l) => `entries ${l.join(",")}`, errnoOf);
    case "modprobe": {
      const r = await t.modprobe(s.args);
      return s.output === true ? `exit ${r.code}: ${r.output.trim()}` : `exit ${r.code}`;
    }
    case "rmmod": {
      const e = await t.deleteModule(s.module);
      return e === null ? "ok" : `errno ${e}`;
    }
    case "loaded": {
      const have = new Set(await t.loadedModules());
      return s.modules.map((m) => `${m}=${have.has(m) ? "yes" : "no"}`).join(" ");
    }
    case "settle":
      await t.settle();
      return "settled";
    case "config":
      await t.setConfig(s.file, s.text);
      return s.text === null ? "config removed" : "config set";
    case "uevents": {
      const subs = new Set(s.subsystems ?? DEFAULT_UEVENT_SUBSYSTEMS);
      const evs = (await t.uevents()).filter((e) => subs.has(e.split(" ")[1] ?? ""));
      return evs.length === 0 ? "events none" : `events ${evs.join(" | ")}`;
    }
  }
}
