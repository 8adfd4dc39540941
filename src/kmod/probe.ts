// kmod_module_probe_insert_module (kmod 30 libkmod/libkmod-module.c) with its helpers:
// kmod_module_get_probe_list / __kmod_module_get_probe_list / __kmod_module_fill_softdep
// (dependencies reversed from modules.dep, pre softdeps, module, post softdeps; `visited` breaks
// loops), kmod_module_get_softdeps (first matching softdep line), module_do_install_commands
// ($CMDLINE_OPTS substitution) and command_do (system() with MODPROBE_MODULE).
import { KbindError } from "../model/errors.ts";
import { fnmatch } from "./fnmatch.ts";
import type { KmodContext, KmodModule } from "./context.ts";
import { lookupWithError } from "./lookup.ts";

export const KMOD_PROBE_FORCE_VERMAGIC = 0x00001;
export const KMOD_PROBE_FORCE_MODVERSION = 0x00002;
export const KMOD_PROBE_IGNORE_COMMAND = 0x00004;
export const KMOD_PROBE_IGNORE_LOADED = 0x00008;
export const KMOD_PROBE_DRY_RUN = 0x00010;
export const KMOD_PROBE_FAIL_ON_LOADED = 0x00020;
export const KMOD_PROBE_APPLY_BLACKLIST_ALL = 0x10000;
export const KMOD_PROBE_APPLY_BLACKLIST = 0x20000;
export const KMOD_PROBE_APPLY_BLACKLIST_ALIAS_ONLY = 0x40000;

const ENOENT = 2;
const EINVAL = 22;
const EEXIST = 17;

export interface ProbeOptions {
  /** Options given on the modprobe command line; only for the top module. */
  extraOptions?: string | null;
  /** modprobe's print_action (used with -v / --show-depends / -n -v). */
  printAction?: (m: KmodModule, install: boolean, options: string) => void;
}

/** module_is_blacklisted: an exact `blacklist` entry for the module's name. */
export function isBlacklisted(ctx: KmodContext, m: KmodModule): boolean {
  return ctx.config.blacklists.includes(m.name);
}

/** lookup_softdep: each name through kmod_module_new_from_lookup, errors logged and skipped. */
function lookupSoftdep(ctx: KmodContext, names: string[]): KmodModule[] {
  const out: KmodModule[] = [];
  for (const n of names) {
    const r = lookupWithError(ctx, n);
    if (r.err < 0) {
      ctx.log("run", "ERROR", "../libkmod/libkmod-module.c", 1567, "lookup_softdep", `failed to lookup soft dependency '${n}', continuing anyway.`);
      continue;
    }
    out.push(...r.modules);
  }
  return out;
}

/** kmod_module_get_softdeps: the FIRST softdep entry whose name fnmatches the module (kmod bug #33). */
export function getSoftdeps(ctx: KmodContext, m: KmodModule): { pre: KmodModule[]; post: KmodModule[] } {
  for (const s of ctx.config.softdeps) {
    if (!fnmatch(s.module, m.name)) continue;
    return { pre: lookupSoftdep(ctx, s.pre), post: lookupSoftdep(ctx, s.post) };
  }
  return { pre: [], post: [] };
}

/** kmod_module_get_weakdeps (kmod ≥ 33): first matching weakdep line; never loaded by modprobe. */
export function getWeakdeps(ctx: KmodContext, m: KmodModule): KmodModule[] {
  for (const w of ctx.config.weakdeps) {
    if (!fnmatch(w.module, m.name)) continue;
    return lookupSoftdep(ctx, w.weak);
  }
  return [];
}

function fillSoftdep(ctx: KmodContext, m: KmodModule, list: KmodModule[]): void {
  const { pre, post } = getSoftdeps(ctx, m);
  for (const p of pre) getProbeList(ctx, p, false, false, list);
  list.push(m);
  m.ignorecmd = pre.length > 0 || post.length > 0;
  for (const p of post) getProbeList(ctx, p, false, false, list);
}

function getProbeList(ctx: KmodContext, m: KmodModule, required: boolean, ignorecmd: boolean, list: KmodModule[]): void {
  if (m.visited) return;
  m.visited = true;
  const deps = m.getDependencies();
  if (required) {
    m.required = true;
    for (const d of deps) d.required = true;
  }
  for (const d of deps) fillSoftdep(ctx, d, list);
  if (ignorecmd) {
    list.push(m);
    m.ignorecmd = true;
  } else {
    fillSoftdep(ctx, m, list);
  }
}

/** kmod_module_get_probe_list: the ordered list of modules to insert for `m`. */
export function probeList(ctx: KmodContext, m: KmodModule, ignorecmd: boolean): KmodModule[] {
  ctx.resetProbeFlags();
  const list: KmodModule[] = [];
  getProbeList(ctx, m, true, ignorecmd, list);
  return list;
}

/** module_options_concat: the module's options are always followed by a space, then the extra ones. */
function optionsConcat(a: string | null, b: string | null | undefined): string | null {
  const x = b ?? null;
  if ((a === null || a === "") && (x === null || x === "")) return null;
  return (a !== null ? a + " " : "") + (x ?? "");
}

const CMDLINE_OPTS = "$CMDLINE_OPTS";

/** module_do_install_commands: replace every $CMDLINE_OPTS, then command_do. */
function doInstallCommands(ctx: KmodContext, m: KmodModule, options: string | null): number {
  const command = m.getInstallCommands() ?? "";
  const opts = options ?? "";
  if (opts.includes(CMDLINE_OPTS) && command.includes(CMDLINE_OPTS)) {
    // kmod re-searches from the start of the string after each substitution: it never terminates.
    throw new KbindError("INSTALL_OPTIONS_LOOP", `install command for ${m.name}: options contain ${CMDLINE_OPTS}, which kmod would substitute forever`, {});
  }
  const cmd = command.split(CMDLINE_OPTS).join(opts);
  const status = ctx.kernel.runCommand(cmd, { MODPROBE_MODULE: m.name });
  // command_do: `if (err == -1 || WEXITSTATUS(err))`, and WEXITSTATUS(-1) is 255.
  if (status !== 0) {
    const retcode = status === -1 ? 255 : status;
    ctx.log("run", "ERROR", "../libkmod/libkmod-module.c", 1047, "command_do", `Error running install command '${cmd}' for module ${m.name}: retcode ${retcode}`);
    return -EINVAL;
  }
  return 0;
}

/** kmod_module_insert_module: finit_module through the kernel port. */
function insertModule(ctx: KmodContext, m: KmodModule, options: string | null): number {
  const path = m.getPath();
  if (path === null) {
    ctx.log("run", "ERROR", "../libkmod/libkmod-module.c", 895, "kmod_module_insert_module", `could not find module by name='${m.name}'`);
    return -ENOENT;
  }
  return ctx.kernel.insertModule(m.name, path, options ?? "");
}

/**
 * kmod_module_probe_insert_module: 0 / -errno, or a positive KMOD_PROBE_APPLY_BLACKLIST* flag when
 * the top module is blacklisted under the active rule.
 */
export function probeInsertModule(ctx: KmodContext, mod: KmodModule, flags: number, opts: ProbeOptions = {}): number {
  if ((flags & KMOD_PROBE_IGNORE_LOADED) === 0 && mod.isInKernel()) {
    return (flags & KMOD_PROBE_FAIL_ON_LOADED) !== 0 ? -EEXIST : 0;
  }
  // The C code's "ugly assignment + check": the first applicable rule is also the return value.
  const aliasOnly = mod.alias !== null ? flags & KMOD_PROBE_APPLY_BLACKLIST_ALIAS_ONLY : 0;
  const bl = aliasOnly !== 0 ? aliasOnly : (flags & KMOD_PROBE_APPLY_BLACKLIST_ALL) !== 0 ? flags & KMOD_PROBE_APPLY_BLACKLIST_ALL : flags & KMOD_PROBE_APPLY_BLACKLIST;
  if (bl !== 0 && isBlacklisted(ctx, mod)) return bl;

  let list = probeList(ctx, mod, (flags & KMOD_PROBE_IGNORE_COMMAND) !== 0);
  if ((flags & KMOD_PROBE_APPLY_BLACKLIST_ALL) !== 0) {
    list = list.filter((m) => !isBlacklisted(ctx, m));
    if (list.length === 0) return KMOD_PROBE_APPLY_BLACKLIST_ALL;
  }
  let err = 0;
  for (const m of list) {
    const cmd = m.getInstallCommands();
    if ((flags & KMOD_PROBE_IGNORE_LOADED) === 0 && m.isInKernel()) {
      err = -EEXIST;
    } else {
      const options = optionsConcat(m.getOptions(), m === mod ? opts.extraOptions : null);
      if (cmd !== null && !m.ignorecmd) {
        opts.printAction?.(m, true, options ?? "");
        if ((flags & KMOD_PROBE_DRY_RUN) === 0) err = doInstallCommands(ctx, m, options);
      } else {
        opts.printAction?.(m, false, options ?? "");
        if ((flags & KMOD_PROBE_DRY_RUN) === 0) err = insertModule(ctx, m, options);
      }
    }
    if (err === -EEXIST && m === mod && (flags & KMOD_PROBE_FAIL_ON_LOADED) !== 0) break;
    if (err === -EEXIST || !m.required) err = 0;
    else if (err < 0) break;
  }
  return err;
}
