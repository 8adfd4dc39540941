// udev's `RUN{builtin}+="kmod load"` (systemd src/udev/udev-builtin-kmod.c) calls
// module_load_and_warn (src/shared/module-util.c): kmod_module_new_from_lookup, then for EVERY
// match: built in → log, live → skip, else kmod_module_probe_insert_module with
// KMOD_PROBE_APPLY_BLACKLIST (the blacklist applies whether or not the match came via an alias),
// no --first-time, install commands run by libkmod itself. -ENODEV/-ENOENT are not errors.
import type { KmodContext } from "./context.ts";
import { lookupWithError } from "./lookup.ts";
import { KMOD_PROBE_APPLY_BLACKLIST, probeInsertModule } from "./probe.ts";

export type UdevLoadOutcome = "builtin" | "live" | "inserted" | "denylisted" | "failed";

export interface UdevLoadResult {
  /** module_load_and_warn's return: 0, or the last error that was not -ENODEV/-ENOENT. */
  result: number;
  modules: { name: string; outcome: UdevLoadOutcome; err: number }[];
  /** systemd's log lines (debug level unless noted), for traces. */
  log: string[];
}

const ENOENT = 2;
const ENODEV = 19;

export function moduleLoadAndWarn(ctx: KmodContext, modalias: string): UdevLoadResult {
  const log: string[] = [`Loading module: ${modalias}`];
  const { modules, err } = lookupWithError(ctx, modalias);
  if (err < 0) {
    log.push(`Failed to look up module alias '${modalias}': Invalid argument`);
    return { result: err, modules: [], log };
  }
  if (modules.length === 0) {
    log.push(`Failed to find module '${modalias}'`);
    return { result: -ENOENT, modules: [], log };
  }
  let result = 0;
  const out: UdevLoadResult["modules"] = [];
  for (const mod of modules) {
    const state = mod.initstate();
    if (state === "builtin") {
      log.push(`Module '${mod.name}' is built in`);
      out.push({ name: mod.name, outcome: "builtin", err: 0 });
      continue;
    }
    if (state === "live") {
      log.push(`Module '${mod.name}' is already loaded`);
      out.push({ name: mod.name, outcome: "live", err: 0 });
      continue;
    }
    const e = probeInsertModule(ctx, mod, KMOD_PROBE_APPLY_BLACKLIST);
    if (e === 0) {
      log.push(`Inserted module '${mod.name}'`);
      out.push({ name: mod.name, outcome: "inserted", err: 0 });
    } else if (e === KMOD_PROBE_APPLY_BLACKLIST) {
      log.push(`Module '${mod.name}' is deny-listed (by kmod)`);
      out.push({ name: mod.name, outcome: "denylisted", err: 0 });
    } else {
      log.push(`Failed to insert module '${mod.name}': errno ${-e}`);
      out.push({ name: mod.name, outcome: "failed", err: e });
      if (e !== -ENODEV && e !== -ENOENT) result = e;
    }
  }
  return { result, modules: out, log };
}
