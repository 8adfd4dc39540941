// systemd's module_load_and_warn() (src/shared/module-util.c), used by udev's builtin kmod:
// look the name up (all matches, kmod order); built-in → "is built in", live → "already loaded",
// else kmod_module_probe_insert_module(KMOD_PROBE_APPLY_BLACKLIST): blacklisted → "deny-listed
// (by kmod)"; -EPERM with module_blacklist= on the cmdline → "(by kernel)"; -ENODEV/-ENOENT are not
// errors. Returns 0 or the first real error.
// (The kmod engineer's src/kmod/udev-load.ts is the contract home of this; it is used here in
// terms of the same libkmod calls until that file lands.)
import type { KmodContext, KmodModule } from "../kmod/context.ts";
import { lookup } from "../kmod/lookup.ts";
import { KMOD_PROBE_APPLY_BLACKLIST, probeInsertModule } from "../kmod/probe.ts";
import { ERRNO } from "../model/errno.ts";

/**
 * lookup() results per context: a pure function of the context's static files (modprobe.d, the
 * modules.*.bin indexes), which do not change during a simulation; the KmodModule objects are the
 * context's pooled ones (as libkmod's module pool), their initstate is read live each time.
 */
const lookupCache = new WeakMap<KmodContext, Map<string, KmodModule[]>>();

function cachedLookup(ctx: KmodContext, name: string): KmodModule[] {
  let m = lookupCache.get(ctx);
  if (!m) lookupCache.set(ctx, (m = new Map<string, KmodModule[]>()));
  let list = m.get(name);
  if (!list) m.set(name, (list = lookup(ctx, name)));
  return list;
}

export function moduleLoadAndWarn(ctx: KmodContext, name: string, log: (line: string) => void): number {
  const list = cachedLookup(ctx, name);
  if (list.length === 0) {
    log(`Failed to find module '${name}'`);
    return -ERRNO.ENOENT;
  }
  let r = 0;
  for (const mod of list) {
    const state = mod.initstate();
    if (state === "builtin") {
      log(`Module '${mod.name}' is built in`);
      continue;
    }
    if (state === "live") {
      log(`Module '${mod.name}' is already loaded`);
      continue;
    }
    const err = probeInsertModule(ctx, mod, KMOD_PROBE_APPLY_BLACKLIST);
    if (err === 0) log(`Inserted module '${mod.name}'`);
    else if (err === KMOD_PROBE_APPLY_BLACKLIST) log(`Module '${mod.name}' is deny-listed (by kmod)`);
    else if (err === -ERRNO.EPERM && new RegExp(`(^|\\s)module_blacklist=(\\S*,)?${mod.name}(,|\\s|$)`).test(ctx.kernel.kernelCmdline())) {
      log(`Module '${mod.name}' is deny-listed (by kernel)`);
    } else {
      log(`Failed to insert module '${mod.name}': errno ${err}`);
      if (err !== -ERRNO.ENODEV && err !== -ERRNO.ENOENT && r === 0) r = err;
    }
  }
  return r;
}
