// struct kmod_ctx and struct kmod_module (kmod 30 libkmod/libkmod.c, libkmod-module.c): the
// module directory with its indexes (kmod_load_resources), the parsed configuration
// (kmod_config_new), the module pool keyed by "name" or "name\alias" (kmod_module_new,
// kmod_module_new_from_alias), and the lazily computed per-module facts (path and dependencies from
// modules.dep.bin, builtin from modules.builtin.bin, options, install/remove commands, softdeps).
import { loadConfig, orderConfigFiles, type ConfigFile, type KmodConfig } from "./config.ts";
import { fnmatch } from "./fnmatch.ts";
import type { KmodIndex } from "./index-bin.ts";
import { addValue, type IndexValue } from "./index-value.ts";
import type { KmodKernelPort, ModuleInitstate } from "./kernel-port.ts";
import type { IndexKind, ModuleDir } from "./module-dir.ts";
import { modnameNormalize } from "./normalize.ts";

/** A message libkmod logs (ERR/INFO...), kept structured so modprobe can render it exactly. */
export interface KmodLog {
  /** "config": logged inside kmod_new, before modprobe installs its log function. */
  phase: "config" | "run";
  prio: "ERROR" | "WARNING" | "INFO";
  /** e.g. "../libkmod/libkmod-index.c", with the kmod 30 source line and function. */
  srcFile: string;
  srcLine: number;
  fn: string;
  message: string;
}

export class KmodModule {
  readonly ctx: KmodContext;
  readonly name: string;
  /** The alias through which the module was reached (config pattern or normalised key), or null. */
  readonly alias: string | null;
  /** Absolute path; undefined until modules.dep.bin was consulted. */
  path: string | null | undefined = undefined;
  private depsInit = false;
  private depList: KmodModule[] = [];
  private builtinInit = false;
  private builtinFlag = false;
  private optionsCache: string | null | undefined = undefined;
  installCommandsCache: string | null | undefined = undefined;
  private removeCommandsCache: string | null | undefined = undefined;
  visited = false;
  required = false;
  ignorecmd = false;

  constructor(ctx: KmodContext, name: string, alias: string | null) {
    this.ctx = ctx;
    this.name = name;
    this.alias = alias;
  }

  /** kmod_module_parse_depline: "relpath: dep dep" → path + dependencies (prepended = reversed). */
  parseDepline(line: string): void {
    if (this.depsInit) return;
    const colon = line.indexOf(":");
    if (colon < 0) return;
    this.depsInit = true;
    const ctx = this.ctx;
    const rel = line.slice(0, colon);
    this.path = ctx.absPath(rel);
    const deps: KmodModule[] = [];
    for (const p of line.slice(colon + 1).split(/[ \t]+/)) {
      if (p === "") continue;
      const path = ctx.absPath(p);
      const dep = ctx.moduleFromPath(path);
      if (dep === null) {
        ctx.log("run", "ERROR", "../libkmod/libkmod-module.c", 191, "kmod_module_parse_depline", `ctx=0x1 path=${path} error=No such file or directory`);
        this.depList = [];
        this.depsInit = false;
        return;
      }
      deps.unshift(dep);
    }
    this.depList = deps;
  }

  private ensureDep(): void {
    if (this.depsInit) return;
    const line = this.ctx.searchModdep(this.name);
    if (line !== null) this.parseDepline(line);
  }

  /** kmod_module_get_path. */
  getPath(): string | null {
    if (this.path === undefined) {
      this.ensureDep();
      if (this.path === undefined) return null;
    }
    return this.path;
  }

  /** kmod_module_get_dependencies: deepest first (reverse of the modules.dep line). */
  getDependencies(): KmodModule[] {
    this.ensureDep();
    return this.depList;
  }

  setBuiltin(v: boolean): void {
    this.builtinInit = true;
    this.builtinFlag = v;
  }

  /** kmod_module_is_builtin: modules.builtin.bin has the name. */
  isBuiltin(): boolean {
    if (!this.builtinInit) {
      this.builtinInit = true;
      this.builtinFlag = this.ctx.searchIndexExact("builtin", this.name) !== null;
    }
    return this.builtinFlag;
  }

  /** kmod_module_get_initstate: builtin, else /sys/module/<name>/initstate through the port. */
  initstate(): ModuleInitstate | null {
    if (this.isBuiltin()) return "builtin";
    return this.ctx.kernel.moduleInitstate(this.name);
  }

  /** module_is_inkernel: LIVE or BUILTIN. */
  isInKernel(): boolean {
    const s = this.initstate();
    return s === "live" || s === "builtin";
  }

  /** kmod_module_get_options: every `options` line for the name or the alias, joined by spaces. */
  getOptions(): string | null {
    if (this.optionsCache === undefined) {
      const parts: string[] = [];
      for (const o of this.ctx.config.options) {
        if (o.options.length < 1) continue;
        if (o.module === this.name || (this.alias !== null && o.module === this.alias)) parts.push(o.options);
      }
      this.optionsCache = parts.length > 0 ? parts.join(" ") : null;
    }
    return this.optionsCache;
  }

  /** kmod_module_get_install_commands: the first `install` whose pattern fnmatches the name. */
  getInstallCommands(): string | null {
    if (this.installCommandsCache === undefined) {
      this.installCommandsCache = this.ctx.config.installCommands.find((c) => fnmatch(c.module, this.name))?.command ?? null;
    }
    return this.installCommandsCache;
  }

  getRemoveCommands(): string | null {
    if (this.removeCommandsCache === undefined) {
      this.removeCommandsCache = this.ctx.config.removeCommands.find((c) => fnmatch(c.module, this.name))?.command ?? null;
    }
    return this.removeCommandsCache;
  }

  setRemoveCommands(cmd: string): void {
    this.removeCommandsCache = cmd;
  }
}

export interface KmodContextInit {
  moduleDir: ModuleDir;
  /** The modules directory as libkmod names it in paths and messages, e.g. /lib/modules/6.1.0-56-amd64. */
  dirname: string;
  /** Configuration files in libkmod's order (search paths already listed, filtered, sorted, deduped). */
  configFiles: ConfigFile[];
  kernel: KmodKernelPort;
  /** Whether .ko files named by modules.dep must exist in moduleDir (kmod_module_new_from_path stats them). */
  checkModuleFiles?: boolean;
  /** Parse `weakdep` lines (kmod >= 33); kmod 30 (default) rejects them as bad lines. */
  weakdep?: boolean;
}

export class KmodContext {
  readonly moduleDir: ModuleDir;
  readonly dirname: string;
  readonly kernel: KmodKernelPort;
  readonly config: KmodConfig;
  readonly logs: KmodLog[] = [];
  /** kmod_load_resources succeeded: the mmap readers are used (else the stdio readers). */
  readonly resourcesLoaded: boolean;
  private readonly pool = new Map<string, KmodModule>();
  /** alias → the modules reached through it (one per name; rarely more than two). */
  private readonly aliasPool = new Map<string, KmodModule[]>();
  private readonly checkFiles: boolean;

  constructor(init: KmodContextInit) {
    this.moduleDir = init.moduleDir;
    this.dirname = init.dirname.replace(/\/+$/, "");
    this.kernel = init.kernel;
    this.checkFiles = init.checkModuleFiles ?? true;
    const pseudo: ConfigFile[] = [];
    const softdep = init.moduleDir.text("modules.softdep");
    if (softdep !== undefined) pseudo.push({ path: `${this.dirname}/modules.softdep`, text: softdep });
    const ordered = orderConfigFiles(pseudo, init.configFiles.map((f) => ({ kind: "file" as const, path: f.path, text: f.text })));
    this.config = loadConfig(ordered.files, init.kernel.kernelCmdline(), { weakdep: init.weakdep === true });
    for (const d of [...ordered.diagnostics, ...this.config.diagnostics]) {
      this.log("config", "ERROR", "../libkmod/libkmod-config.c", d.srcLine, d.fn, d.message);
    }
    this.resourcesLoaded = this.loadResources();
  }

  log(phase: KmodLog["phase"], prio: KmodLog["prio"], srcFile: string, srcLine: number, fn: string, message: string): void {
    this.logs.push({ phase, prio, srcFile, srcLine, fn, message });
  }

  /** kmod_load_resources: every index but builtin.alias must open; a bad header is logged. */
  private loadResources(): boolean {
    const order: IndexKind[] = ["dep", "alias", "symbol", "builtinAlias", "builtin"];
    for (const k of order) {
      const r = this.moduleDir.index(k);
      if (r.index) continue;
      if (r.error) {
        const e = r.error;
        if (e.code === "INDEX_BAD_HEADER" && e.location.offset === 0 && e.message.includes("magic check fail"))
          this.log("run", "ERROR", "../libkmod/libkmod-index.c", 790, "index_mm_open", e.message.slice(e.message.indexOf("magic check fail")));
        else if (e.code === "INDEX_BAD_HEADER" && e.message.includes("major version check fail"))
          this.log("run", "ERROR", "../libkmod/libkmod-index.c", 797, "index_mm_open", e.message.slice(e.message.indexOf("major version check fail")));
        else if (e.code !== "INDEX_BAD_HEADER") this.log("run", "ERROR", "kbind", 0, "index", e.message);
        return false;
      }
      if (k !== "builtinAlias") return false;
    }
    return true;
  }

  /** ModuleDir caches each parsed index, so the answer per kind never changes: keep it at hand. */
  private readonly indexes = new Map<IndexKind, KmodIndex | null>();

  private index(kind: IndexKind): KmodIndex | null {
    let idx = this.indexes.get(kind);
    if (idx === undefined) {
      idx = this.moduleDir.index(kind).index;
      this.indexes.set(kind, idx);
    }
    return idx;
  }

  /** Exact search (index_mm_search / index_search); null when absent or unusable. */
  searchIndexExact(kind: IndexKind, key: string): string | null {
    const idx = this.index(kind);
    return idx ? idx.search(key) : null;
  }

  /**
   * Wildcard search; null (-ENOSYS) when the index cannot be opened. With the stdio reader
   * (resources not loaded) node values are re-sorted on read, which flips equal-priority ties.
   */
  searchIndexWild(kind: IndexKind, key: string): readonly IndexValue[] | null {
    const idx = this.index(kind);
    if (!idx) return null;
    const r = idx.searchWild(key);
    if (this.resourcesLoaded) return r;
    // index_read() builds node->values with add_value (ties reversed), then searchwild adds them
    // again: equal-priority runs coming from one node end up in stored order. Recompute that way.
    return reorderForFileReader(r);
  }

  searchModdep(name: string): string | null {
    return this.searchIndexExact("dep", name);
  }

  /** dirname + "/" + rel, unless rel is absolute (kmod_module_parse_depline, path_join). */
  absPath(rel: string): string {
    return rel.startsWith("/") ? rel : `${this.dirname}/${rel}`;
  }

  private relOf(path: string): string | null {
    return path.startsWith(this.dirname + "/") ? path.slice(this.dirname.length + 1) : null;
  }

  private poolGet(name: string, alias: string | null): KmodModule {
    const key = alias === null ? name : `${name}\\${alias}`;
    let m = this.pool.get(key);
    if (!m) {
      m = new KmodModule(this, name, alias);
      this.pool.set(key, m);
    }
    return m;
  }

  /** kmod_module_new_from_name: the name is modname_normalize'd. */
  moduleFromName(name: string): KmodModule {
    return this.poolGet(modnameNormalize(name), null);
  }

  /**
   * Per alias: the modules made from the last value list answered for it (that list hangs on the
   * array as `vals`: one object fewer to reach on a lookup).
   */
  private readonly aliasLists = new Map<string, AliasModules>();

  /**
   * kmod_module_new_from_alias for each value, in order (a fresh array). The index answers with
   * shared, never-modified lists, and the pool never drops a module, so the same list for the same
   * alias gives the same modules: they are remembered per alias instead of looked up one by one.
   */
  modulesFromAlias(alias: string, vals: readonly IndexValue[]): KmodModule[] {
    const last = this.aliasLists.get(alias);
    if (last !== undefined && last.vals === vals) return last.slice();
    if (vals.length === 0) return []; // not remembered: misses would only grow the map
    const mods = new Array<KmodModule>(vals.length) as AliasModules;
    for (let i = 0; i < vals.length; i++) mods[i] = this.moduleFromAlias(alias, vals[i]!.value);
    mods.vals = vals;
    this.aliasLists.set(alias, mods);
    return mods.slice();
  }

  /** kmod_module_new_from_alias: pool key "name\alias"; the name is used as given (no normalisation). */
  moduleFromAlias(alias: string, name: string): KmodModule {
    let mods = this.aliasPool.get(alias);
    if (mods === undefined) this.aliasPool.set(alias, (mods = []));
    for (let i = 0; i < mods.length; i++) if (mods[i]!.name === name) return mods[i]!;
    const m = this.poolGet(name, alias);
    mods.push(m);
    return m;
  }

  /** kmod_module_new_from_path: the file must exist; the name comes from the basename. */
  moduleFromPath(path: string): KmodModule | null {
    if (this.checkFiles) {
      const rel = this.relOf(path);
      if (rel === null || !this.moduleDir.has(rel)) return null;
    }
    const base = path.slice(path.lastIndexOf("/") + 1);
    const m = this.poolGet(modnameNormalize(base), null);
    if (m.path === undefined || m.path === null) m.path = path;
    return m;
  }

  /** kmod_set_modules_visited / kmod_set_modules_required over the whole pool. */
  resetProbeFlags(): void {
    for (const m of this.pool.values()) {
      m.visited = false;
      m.required = false;
    }
  }
}

/** Modules made from an index answer, and that answer. */
type AliasModules = KmodModule[] & { vals?: readonly IndexValue[] };

function reorderForFileReader(values: readonly IndexValue[]): IndexValue[] {
  // Equal-priority values are adjacent; the file reader yields each such run reversed relative to
  // the mmap reader when the run came from a single node. Runs from several nodes are rare (only
  // builtin aliases share priority 0 across nodes); reversing whole runs is the common-case model.
  const out: IndexValue[] = [];
  for (let i = values.length - 1; i >= 0; i--) addValue(out, values[i]!.value, values[i]!.priority);
  return out;
}

export type CreateKmodContextOptions = KmodContextInit;

/** createKmodContext (contract): kmod_new + kmod_load_resources. */
export function createKmodContext(init: CreateKmodContextOptions): KmodContext {
  return new KmodContext(init);
}
