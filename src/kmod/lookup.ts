// kmod_module_new_from_lookup (kmod 30 libkmod/libkmod-module.c) and the seven lookup functions of
// libkmod/libkmod.c, tried in order; the first that yields modules wins:
//   1 kmod_lookup_alias_from_config          modprobe.d `alias` (fnmatch, every match, config order)
//   2 kmod_lookup_alias_from_moddep_file     modules.dep.bin exact (skipped when the key has ':')
//   3 kmod_lookup_alias_from_symbols_file    modules.symbols.bin wildcard, only for "symbol:" keys
//   4 kmod_lookup_alias_from_commands        first `install` (else `remove`) whose name streq's
//   5 kmod_lookup_alias_from_aliases_file    modules.alias.bin wildcard (every match, priority order)
//   6 kmod_lookup_alias_from_builtin_file    modules.builtin.bin exact, module marked builtin
//   7 kmod_lookup_alias_from_kernel_builtin_file  modules.builtin.alias.bin wildcard, builtin
import { fnmatch } from "./fnmatch.ts";
import type { KmodContext, KmodModule } from "./context.ts";
import { aliasNormalize } from "./normalize.ts";

export interface LookupResult {
  modules: KmodModule[];
  /** 0, or a negative errno (-EINVAL for an alias with an unmatched bracket). */
  err: number;
}

const EINVAL = 22;

/** The shared "nothing found" answer (never modified): a miss allocates nothing. */
const NONE: KmodModule[] = [];

function fromConfig(ctx: KmodContext, key: string): KmodModule[] {
  const aliases = ctx.config.aliases;
  if (aliases.length === 0) return NONE;
  const out: KmodModule[] = [];
  for (const a of aliases) if (fnmatch(a.pattern, key)) out.push(ctx.moduleFromAlias(a.pattern, a.module));
  return out;
}

function fromModdep(ctx: KmodContext, key: string): KmodModule[] {
  if (key.includes(":")) return NONE;
  const line = ctx.searchModdep(key);
  if (line === null) return NONE;
  const m = ctx.moduleFromName(key);
  m.parseDepline(line);
  return [m];
}

function fromAliasBin(ctx: KmodContext, kind: "alias" | "symbol" | "builtinAlias", key: string): KmodModule[] {
  const vals = ctx.searchIndexWild(kind, key);
  if (vals === null) return NONE;
  // An empty answer gives an empty list: the remembered-modules check comes first because it
  // does not have to reach into `vals`.
  return ctx.modulesFromAlias(key, vals);
}

function fromCommands(ctx: KmodContext, key: string): KmodModule[] {
  for (const c of ctx.config.installCommands) {
    if (c.module !== key) continue;
    const m = ctx.moduleFromName(key);
    m.installCommandsCache = c.command;
    return [m];
  }
  for (const c of ctx.config.removeCommands) {
    if (c.module !== key) continue;
    const m = ctx.moduleFromName(key);
    m.setRemoveCommands(c.command);
    return [m];
  }
  return NONE;
}

function fromBuiltin(ctx: KmodContext, key: string): KmodModule[] {
  if (ctx.searchIndexExact("builtin", key) === null) return NONE;
  const m = ctx.moduleFromName(key);
  m.setBuiltin(true);
  return [m];
}

/**
 * alias_normalize is the identity unless the key has `-`, `[`, `]` or NUL, or is too long.
 * (indexOf scans natively: four of them beat one loop over the key's characters.)
 */
function needsNormalize(key: string): boolean {
  return key.length >= 4095 || key.includes("-") || key.includes("[") || key.includes("]") || key.includes("\0");
}

/** The modules `key` resolves to (fresh array, or the shared empty one), or -EINVAL. */
function resolve(ctx: KmodContext, key: string): KmodModule[] | number {
  let alias = key; // alias_normalize would copy it unchanged: keep the caller's string (hash cached)
  if (needsNormalize(key)) {
    try {
      alias = aliasNormalize(key);
    } catch {
      return -EINVAL;
    }
  }
  let r = fromConfig(ctx, alias);
  if (r.length === 0) r = fromModdep(ctx, alias);
  if (r.length === 0 && alias.startsWith("symbol:")) r = fromAliasBin(ctx, "symbol", alias);
  if (r.length === 0) r = fromCommands(ctx, alias);
  if (r.length === 0) r = fromAliasBin(ctx, "alias", alias);
  if (r.length === 0) r = fromBuiltin(ctx, alias);
  if (r.length === 0) {
    r = fromAliasBin(ctx, "builtinAlias", alias);
    for (const m of r) m.setBuiltin(true);
  }
  return r;
}

/** Every module `key` resolves to, in kmod's order, duplicates kept. */
export function lookupWithError(ctx: KmodContext, key: string): LookupResult {
  const r = resolve(ctx, key);
  if (typeof r === "number") return { modules: [], err: r };
  return { modules: r === NONE ? [] : r, err: 0 };
}

/** lookup(ctx, key) (contract): kmod_module_new_from_lookup's list; [] when nothing or invalid. */
export function lookup(ctx: KmodContext, key: string): KmodModule[] {
  const r = resolve(ctx, key);
  return typeof r === "number" || r === NONE ? [] : r;
}
