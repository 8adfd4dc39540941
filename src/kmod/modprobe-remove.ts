// modprobe -r (kmod 30+20221128 as Debian 12 ships it, tools/modprobe.c): rmmod_all → rmmod →
// rmmod_do_module → rmmod_do_modlist / rmmod_do_remove_module, the modprobe-side command_do for
// `remove` commands, and libkmod's kmod_module_remove_module (libkmod-module.c:856, delete_module
// with O_NONBLOCK) and kmod_module_get_refcnt / kmod_module_get_holders, all through the
// KmodKernelPort.
//
// Why `modprobe -r virtio_net` leaves `failover` loaded (seen on a real Debian 6.1 guest):
// step 4 of rmmod_do_module walks kmod_module_get_dependencies(virtio_net) — the modules.dep line
// "virtio_net.ko: net_failover.ko failover.ko" reversed by kmod_module_parse_depline, so
// [failover, net_failover] — and removes each dependency whose refcnt is 0 at ITS turn, without
// recursing. failover comes first and is still held by net_failover (refcnt 1): skipped.
// net_failover (refcnt 0 once virtio_net is gone) is removed next, which frees failover too late.
import type { KmodContext, KmodModule } from "./context.ts";
import { lookupWithError } from "./lookup.ts";
import { getSoftdeps } from "./probe.ts";

const ENOENT = 2;
const EEXIST = 17;
const EBUSY = 16;
const ENOSYS = 38;

export interface RemoveOptions {
  dryRun: boolean;
  force: boolean;
  firstTime: boolean;
  ignoreCommands: boolean;
  ignoreLoaded: boolean;
  removeHolders: boolean;
  /** --wait MSEC; 0 when not given. */
  waitMsec: number;
}

export interface RemoveIo {
  /** LOG(): modprobe's log_printf at log_priority (FATAL, or WARNING with -a). */
  log(msg: string): void;
  /** ERR() of tools/log.h. */
  err(msg: string): void;
  /** WRN() of tools/log.h. */
  warn(msg: string): void;
  /** SHOW(): stdout when -n/-D/-v. */
  show(msg: string): void;
  /** Renders libkmod messages logged so far (keeps stderr order). */
  flush(): void;
  strerror(errno: number): string;
}

const RMMOD_FLAG_REMOVE_HOLDERS = 0x1;
const RMMOD_FLAG_IGNORE_BUILTIN = 0x2;

/** kmod_module_get_refcnt: the port's /sys/module/<name>/refcnt, -ENOSYS when the port cannot tell. */
function refcnt(ctx: KmodContext, m: KmodModule): number {
  const k = ctx.kernel;
  return k.moduleRefcnt ? k.moduleRefcnt(m.name) : -ENOSYS;
}

/** kmod_module_get_holders: modules named by /sys/module/<name>/holders/. */
function holders(ctx: KmodContext, m: KmodModule, strerror: (errno: number) => string): KmodModule[] {
  const k = ctx.kernel;
  const h = k.moduleHolders ? k.moduleHolders(m.name) : [];
  if (typeof h === "number") {
    ctx.log("run", "ERROR", "../libkmod/libkmod-module.c", 1998, "kmod_module_get_holders", `could not open '/sys/module/${m.name}/holders': ${strerror(-h)}`);
    return [];
  }
  return h.map((n) => ctx.moduleFromName(n));
}

/** kmod_module_remove_module: delete_module(name, O_NONBLOCK [| O_TRUNC]), ERR unless NOLOG. */
function kmodRemoveModule(ctx: KmodContext, m: KmodModule, nolog: boolean, io: RemoveIo): number {
  const r = ctx.kernel.deleteModule(m.name);
  if (r < 0 && !nolog) {
    ctx.log("run", "ERROR", "../libkmod/libkmod-module.c", 856, "kmod_module_remove_module", `could not remove '${m.name}': ${io.strerror(-r)}`);
  }
  return r;
}

/** tools/modprobe.c command_do: $CMDLINE_OPTS → "" (remove commands get no options), system(). */
function commandDo(ctx: KmodContext, m: KmodModule, type: string, command: string, o: RemoveOptions, io: RemoveIo): number {
  const cmd = command.split("$CMDLINE_OPTS").join("");
  io.show(`${type} ${cmd}\n`);
  if (o.dryRun) return 0;
  const status = ctx.kernel.runCommand(cmd, { MODPROBE_MODULE: m.name });
  if (status === -1 || status !== 0) {
    io.log(`Error running ${type} command for ${m.name}\n`);
    if (status !== -1) return -status;
  }
  return status;
}

/** rmmod_do_remove_module: SHOW "rmmod", then delete_module (retried on EAGAIN with --wait). */
function rmmodDoRemoveModule(ctx: KmodContext, m: KmodModule, o: RemoveOptions, io: RemoveIo): number {
  io.show(`rmmod ${m.name}\n`);
  if (o.dryRun) return 0;
  let err = kmodRemoveModule(ctx, m, o.waitMsec !== 0, io);
  io.flush();
  if (err === -EEXIST) {
    if (!o.firstTime) err = 0;
    else io.log(`Module ${m.name} is not in kernel.\n`);
  }
  // With --wait, kmod sleeps with back-off and retries while the answer is -EAGAIN. The pure model
  // does not advance while modprobe sleeps, so every retry gives the same answer: the final
  // outcome is the first one.
  if (err < 0 && o.waitMsec !== 0) io.err(`could not remove '${m.name}': ${io.strerror(-err)}\n`);
  return err;
}

/** rmmod_do_modlist: reverse order, RMMOD_FLAG_IGNORE_BUILTIN. */
function rmmodDoModlist(ctx: KmodContext, list: KmodModule[], stopOnErrors: boolean, o: RemoveOptions, io: RemoveIo): number {
  for (let i = list.length - 1; i >= 0; i--) {
    const r = rmmodDoModule(ctx, list[i]!, RMMOD_FLAG_IGNORE_BUILTIN, o, io);
    if (r < 0 && stopOnErrors) return r;
  }
  return 0;
}

/** rmmod_do_module: post softdeps, holders (--remove-holders), the module, unused deps, pre softdeps. */
function rmmodDoModule(ctx: KmodContext, m: KmodModule, flags: number, o: RemoveOptions, io: RemoveIo): number {
  let pre: KmodModule[] = [];
  let post: KmodModule[] = [];
  let cmd: string | null = null;
  if (!o.ignoreCommands) {
    ({ pre, post } = getSoftdeps(ctx, m));
    io.flush();
    cmd = m.getRemoveCommands();
  }
  // Quick check if the module is loaded, otherwise there is nothing to do.
  if (cmd === null && !o.ignoreLoaded) {
    const state = m.initstate();
    if (state === null) {
      if (o.firstTime) {
        io.log(`Module ${m.name} is not in kernel.\n`);
        return -ENOENT;
      }
      return 0;
    }
    if (state === "builtin") {
      if ((flags & RMMOD_FLAG_IGNORE_BUILTIN) !== 0) return 0;
      io.log(`Module ${m.name} is builtin.\n`);
      return -ENOENT;
    }
  }
  // 1. post softdeps in reverse order
  rmmodDoModlist(ctx, post, false, o, io);
  // 2. holders
  if ((flags & RMMOD_FLAG_REMOVE_HOLDERS) !== 0) {
    const hs = holders(ctx, m, (e) => io.strerror(e));
    io.flush();
    const err = rmmodDoModlist(ctx, hs, true, o, io);
    if (err < 0) return err;
  }
  // 3. the module itself, refcnt checked first
  if (cmd === null && !o.ignoreLoaded && o.waitMsec === 0) {
    if (refcnt(ctx, m) > 0) {
      io.log(`Module ${m.name} is in use.\n`);
      return -EBUSY;
    }
  }
  const err = cmd === null ? rmmodDoRemoveModule(ctx, m, o, io) : commandDo(ctx, m, "remove", cmd, o, io);
  if (err < 0) return err;
  // 4. dependencies that became unused, modules.dep order reversed; errors are not fatal
  if (cmd === null) {
    for (const dep of m.getDependencies()) {
      if (refcnt(ctx, dep) === 0) rmmodDoRemoveModule(ctx, dep, o, io);
    }
  }
  // 5. pre softdeps in reverse order
  rmmodDoModlist(ctx, pre, false, o, io);
  return err;
}

/** rmmod: every module the key resolves to, stopping at the first error. */
function rmmod(ctx: KmodContext, alias: string, o: RemoveOptions, io: RemoveIo): number {
  const r = lookupWithError(ctx, alias);
  io.flush();
  if (r.err < 0) return r.err;
  let err = 0;
  if (r.modules.length === 0) {
    io.log(`Module ${alias} not found.\n`);
    err = -ENOENT;
  }
  for (const m of r.modules) {
    err = rmmodDoModule(ctx, m, o.removeHolders ? RMMOD_FLAG_REMOVE_HOLDERS : 0, o, io);
    if (err < 0) break;
  }
  return err;
}

/** rmmod_all over every operand (with or without -a, as Debian's kmod 30 does); the last error is the result. */
export function rmmodAll(ctx: KmodContext, names: readonly string[], o: RemoveOptions, io: RemoveIo): number {
  let err = 0;
  for (const n of names) {
    const r = rmmod(ctx, n, o, io);
    if (r < 0) err = r;
  }
  return err;
}
