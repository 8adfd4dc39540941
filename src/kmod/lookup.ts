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

function fromConfig(ctx: KmodContext, key: string): KmodModule[] {
  const out: KmodModule[] = [];
  if (ctx.config.aliases.length === 0) return out;
  for (const a of ctx.config.aliases) if (fnmatch(a.pattern, key)) out.push(ctx.moduleFromAlias(a.pattern, a.module));
  return out;
}

function fromModdep(ctx: KmodContext, key: string): KmodModule[] {
  if (key.includes(":")) return [];
  const line = ctx.searchModdep(key);
  if (line === null) return [];
  const m = ctx.moduleFromName(key);
  m.parseDepline(line);
  return [m];
}

function fromAliasBin(ctx: KmodContext, kind: "alias" | "symbol" | "builtinAlias", key: string): KmodModule[] {
  const vals = ctx.searchIndexWild(kind, key);
  if (vals === null) return [];
  return vals.map((v) => ctx.moduleFromAlias(key, v.value));
}

function fromCommands(ctx: KmodContext, key: string): KmodModule[] {
  const inst = ctx.config.installCommands.find((c) => c.module === key);
  if (inst) {
    const m = ctx.moduleFromName(key);
    m.installCommandsCache = inst.command;
    return [m];
  }
  const rem = ctx.config.removeCommands.find((c) => c.module === key);
  if (rem) {
    const m = ctx.moduleFromName(key);
    m.setRemoveCommands(rem.command);
    return [m];
  }
  return [];
}

function fromBuiltin(ctx: KmodContext, key: string): KmodModule[] {
  if (ctx.searchIndexExact("builtin", key) === null) return [];
  const m = ctx.moduleFromName(key);
  m.setBuiltin(true);
  return [m];
}

/** Every module `key` resolves to, in kmod's order, duplicates kept. */
export function lookupWithError(ctx: KmodContext, key: string): LookupResult {
  let alias: string;
  if (!/[-[\]\0]/.test(key) && key.length < 4095) {
    alias = key; // alias_normalize would copy it unchanged: keep the caller's string (hash cached)
  } else {
    try {
      alias = aliasNormalize(key);
    } catch {
      return { modules: [], err: -EINVAL };
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
  return { modules: r, err: 0 };
}

/** lookup(ctx, key) (contract): kmod_module_new_from_lookup's list; [] when nothing or invalid. */
export function lookup(ctx: KmodContext, key: string): KmodModule[] {
  return lookupWithError(ctx, key).modules;
}
