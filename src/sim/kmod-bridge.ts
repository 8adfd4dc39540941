// The kmod layer running into the kernel model: a KmodKernelPort (src/kmod/kernel-port.ts) on the
// Kernel — /sys/module initstate, finit_module, delete_module, system() for install commands,
// /proc/cmdline — and a ModprobeEnv so kmod's modprobe (src/kmod/modprobe.ts) runs against it.
import type { Kernel } from "../kernel/kernel.ts";
import type { KmodKernelPort, ModuleInitstate } from "../kmod/kernel-port.ts";
import { ERRNO } from "../model/errno.ts";
import type { ConfigPathEntry } from "../kmod/config.ts";
import { modprobe, type ModprobeEnv, type ModprobeResult } from "../kmod/modprobe.ts";
import type { ModuleDir } from "../kmod/module-dir.ts";
import type { Trace } from "./trace.ts";

export interface BridgeOptions {
  /** Module name → errno finit_module returns instead of loading (scenario "modprobe failures"). */
  insertFailures?: ReadonlyMap<string, number>;
  trace?: Trace;
  /** Runs `modprobe` argv (for install commands that call modprobe). */
  runModprobe?: (argv: string[]) => number;
}

/** /sys/module/<m>/initstate as libkmod reads it; "builtin" for a /sys/module dir without initstate. */
export function modelInitstate(k: Kernel, name: string): ModuleInitstate | null {
  const m = k.modules.get(name);
  if (!m) return null;
  return m.builtin ? "builtin" : m.state;
}

export function modelKmodKernel(k: Kernel, opts: BridgeOptions = {}): KmodKernelPort {
  return {
    moduleInitstate: (name) => modelInitstate(k, name),
    insertModule: (name, path, params) => {
      const fail = opts.insertFailures?.get(name);
      opts.trace?.add("kmod", "finit_module", `finit_module ${path}${params ? ` ${params}` : ""}${fail !== undefined ? ` = ${fail} (injected)` : ""}`, { module: name });
      if (fail !== undefined) return fail;
      return k.insertModule(name, params);
    },
    deleteModule: (name) => {
      opts.trace?.add("kmod", "delete_module", `delete_module ${name}`, { module: name });
      return k.deleteModule(name);
    },
    // /sys/module/<m>/refcnt and /sys/module/<m>/holders/ (kernel/module/sysfs.c), which modprobe -r
    // reads: both exist only for a loaded module, not for a built-in one (-ENOENT otherwise).
    moduleRefcnt: (name) => {
      const m = k.modules.get(name);
      return m && !m.builtin ? m.refcnt : -ERRNO.ENOENT;
    },
    moduleHolders: (name) => {
      const m = k.modules.get(name);
      if (!m || m.builtin) return -ERRNO.ENOENT;
      return [...k.modules.values()].filter((x) => x.uses.includes(name)).map((x) => x.name);
    },
    runCommand: (cmd) => {
      // The model has no shell: true/false and modprobe invocations are executed, anything else is
      // reported and treated as success.
      const words = cmd.trim().split(/\s+/);
      const prog = words[0] ?? "";
      const base = prog.slice(prog.lastIndexOf("/") + 1);
      opts.trace?.add("kmod", "system", `system("${cmd}")`);
      if (base === "true") return 0;
      if (base === "false") return 1;
      if (base === "modprobe" && opts.runModprobe) return opts.runModprobe(words.slice(1));
      opts.trace?.add("kmod", "system", `install command not modelled, assuming exit 0: ${cmd}`);
      return 0;
    },
    kernelCmdline: () => k.cmdline,
  };
}

export interface ModelModprobeOptions extends BridgeOptions {
  moduleDir: ModuleDir;
  /** uname -r of the modelled kernel; the modules dir is /lib/modules/<release>. */
  release: string;
  /** modprobe.d files by absolute path (e.g. /etc/modprobe.d/blacklist.conf). */
  configFiles: { path: string; text: string }[];
}

/** A ModprobeEnv whose kernel is the model and whose files are the scenario's. */
export function modelModprobeEnv(k: Kernel, o: ModelModprobeOptions): ModprobeEnv {
  const self: ModprobeEnv = {
    kernel: modelKmodKernel(k, { ...o, runModprobe: (argv) => runModelModprobe(argv, self, o.trace).code }),
    unameRelease: o.release,
    env: {},
    openModuleDir: () => o.moduleDir,
    readConfigPath: (path): ConfigPathEntry => {
      const dir = path.replace(/\/+$/, "");
      const entries = o.configFiles
        .filter((f) => f.path.startsWith(dir + "/") && !f.path.slice(dir.length + 1).includes("/"))
        .map((f) => ({ name: f.path.slice(dir.length + 1), isDir: false, text: f.text }));
      const exact = o.configFiles.find((f) => f.path === path);
      if (exact) return { kind: "file", path, text: exact.text };
      return entries.length > 0 ? { kind: "dir", path: dir, entries } : { kind: "missing", path };
    },
    checkModuleFiles: false,
  };
  return self;
}

/** Runs kmod 30's modprobe in the model and traces it. */
export function runModelModprobe(argv: string[], env: ModprobeEnv, trace?: Trace): ModprobeResult {
  trace?.add("kmod", "modprobe", `modprobe ${argv.join(" ")}`);
  const r = modprobe(argv, env);
  for (const line of (r.stdout + r.stderr).split("\n")) if (line) trace?.add("kmod", "modprobe_output", line);
  if (r.code !== 0) trace?.add("kmod", "modprobe_exit", `modprobe exited with ${r.code}`);
  return r;
}
