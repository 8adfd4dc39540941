// kmod 30's modprobe (tools/modprobe.c do_modprobe, insmod, show_config, options_from_array,
// print_action; tools/log.c) as a pure function: argv in, {code, stdout, stderr} out. The module
// directory, config paths and the kernel come through `ModprobeEnv`, so the simulator can be the
// kernel and tests can compare byte for byte with the real binary.
import type { ConfigFile, ConfigPathEntry } from "./config.ts";
import { orderConfigFiles, DEFAULT_CONFIG_PATHS } from "./config.ts";
import { createKmodContext, type KmodContext, type KmodLog, type KmodModule } from "./context.ts";
import type { KmodKernelPort } from "./kernel-port.ts";
import { lookupWithError } from "./lookup.ts";
import { rmmodAll } from "./modprobe-remove.ts";
import type { ModuleDir } from "./module-dir.ts";
import {
  KMOD_PROBE_APPLY_BLACKLIST,
  KMOD_PROBE_APPLY_BLACKLIST_ALIAS_ONLY,
  KMOD_PROBE_DRY_RUN,
  KMOD_PROBE_FAIL_ON_LOADED,
  KMOD_PROBE_FORCE_MODVERSION,
  KMOD_PROBE_FORCE_VERMAGIC,
  KMOD_PROBE_IGNORE_COMMAND,
  KMOD_PROBE_IGNORE_LOADED,
  probeInsertModule,
} from "./probe.ts";

export interface ModprobeEnv {
  kernel: KmodKernelPort;
  /** uname -r, used when -S is not given. */
  unameRelease: string;
  /** Process environment (MODPROBE_OPTIONS is honoured). */
  env?: Record<string, string | undefined>;
  /** The modules directory at an absolute path (an empty ModuleDir if it does not exist). */
  openModuleDir(dirname: string): ModuleDir;
  /** One entry of the config search list: a directory listing, a single file, or missing. */
  readConfigPath(path: string): ConfigPathEntry;
  /** MODULE_DIRECTORY (compile time); Debian's kmod 30 uses /lib/modules. */
  moduleDirectory?: string;
  /** Require .ko files named by modules.dep to exist (kmod stats them); default true. */
  checkModuleFiles?: boolean;
  /** Current directory: kmod_new makes a relative dirname absolute (path_make_absolute_cwd). */
  cwd?: string;
}

export interface ModprobeResult {
  code: number;
  stdout: string;
  stderr: string;
}

interface LongOpt {
  name: string;
  arg: boolean;
  val: string;
}

const SHORT = "arw:RibfDcnC:d:S:sqvVh";
const LONG: LongOpt[] = [
  { name: "all", arg: false, val: "a" },
  { name: "remove", arg: false, val: "r" },
  { name: "remove-dependencies", arg: false, val: "5" },
  { name: "remove-holders", arg: false, val: "5" },
  { name: "wait", arg: true, val: "w" },
  { name: "resolve-alias", arg: false, val: "R" },
  { name: "first-time", arg: false, val: "3" },
  { name: "ignore-install", arg: false, val: "i" },
  { name: "ignore-remove", arg: false, val: "i" },
  { name: "use-blacklist", arg: false, val: "b" },
  { name: "force", arg: false, val: "f" },
  { name: "force-modversion", arg: false, val: "2" },
  { name: "force-vermagic", arg: false, val: "1" },
  { name: "show-depends", arg: false, val: "D" },
  { name: "showconfig", arg: false, val: "c" },
  { name: "show-config", arg: false, val: "c" },
  { name: "show-modversions", arg: false, val: "4" },
  { name: "dump-modversions", arg: false, val: "4" },
  { name: "show-exports", arg: false, val: "6" },
  { name: "dry-run", arg: false, val: "n" },
  { name: "show", arg: false, val: "n" },
  { name: "config", arg: true, val: "C" },
  { name: "dirname", arg: true, val: "d" },
  { name: "set-version", arg: true, val: "S" },
  { name: "syslog", arg: false, val: "s" },
  { name: "quiet", arg: false, val: "q" },
  { name: "verbose", arg: false, val: "v" },
  { name: "version", arg: false, val: "V" },
  { name: "help", arg: false, val: "h" },
];

type Opt = { val: string; arg: string | null } | { error: string };

/** glibc getopt_long with argument permutation: options first, operands collected in order. */
export function getoptLong(prog: string, argv: string[]): { opts: Opt[]; operands: string[] } {
  const opts: Opt[] = [];
  const operands: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--") {
      operands.push(...argv.slice(i + 1));
      break;
    }
    if (a.startsWith("--")) {
      const eq = a.indexOf("=");
      const name = a.slice(2, eq < 0 ? undefined : eq);
      let match = LONG.filter((o) => o.name === name);
      if (match.length === 0) {
        const pref = LONG.filter((o) => o.name.startsWith(name));
        const distinct = new Set(pref.map((o) => `${o.val}/${o.arg}`));
        if (pref.length > 0 && distinct.size > 1) {
          opts.push({ error: `${prog}: option '${a.slice(0, eq < 0 ? undefined : eq)}' is ambiguous; possibilities:${pref.map((o) => ` '--${o.name}'`).join("")}\n` });
          continue;
        }
        match = pref.slice(0, 1);
      }
      const o = match[0];
      if (!o) {
        opts.push({ error: `${prog}: unrecognized option '${a}'\n` });
        continue;
      }
      if (o.arg) {
        if (eq >= 0) opts.push({ val: o.val, arg: a.slice(eq + 1) });
        else if (i + 1 < argv.length) opts.push({ val: o.val, arg: argv[++i]! });
        else opts.push({ error: `${prog}: option '--${o.name}' requires an argument\n` });
      } else if (eq >= 0) {
        opts.push({ error: `${prog}: option '--${o.name}' doesn't allow an argument\n` });
      } else opts.push({ val: o.val, arg: null });
      continue;
    }
    if (a.startsWith("-") && a.length > 1) {
      for (let j = 1; j < a.length; j++) {
        const c = a[j]!;
        const k = SHORT.indexOf(c);
        if (k < 0 || c === ":") {
          opts.push({ error: `${prog}: invalid option -- '${c}'\n` });
          continue;
        }
        if (SHORT[k + 1] === ":") {
          if (j + 1 < a.length) opts.push({ val: c, arg: a.slice(j + 1) });
          else if (i + 1 < argv.length) opts.push({ val: c, arg: argv[++i]! });
          else opts.push({ error: `${prog}: option requires an argument -- '${c}'\n` });
          break;
        }
        opts.push({ val: c, arg: null });
      }
      continue;
    }
    operands.push(a);
  }
  return { opts, operands };
}

// syslog priorities (tools/log.c prio_to_str)
const LOG_EMERG = 0;
const LOG_CRIT = 2;
const LOG_ERR = 3;
const LOG_WARNING = 4;
const PRIO_NAME: Record<number, string> = { 2: "FATAL", 3: "ERROR", 4: "WARNING", 5: "NOTICE", 6: "INFO", 7: "DEBUG" };
const LIBKMOD_PRIO: Record<KmodLog["prio"], number> = { ERROR: 3, WARNING: 4, INFO: 6 };

const STRERROR: Record<number, string> = {
  1: "Operation not permitted",
  2: "No such file or directory",
  5: "Input/output error",
  8: "Exec format error",
  11: "Resource temporarily unavailable",
  12: "Cannot allocate memory",
  13: "Permission denied",
  16: "Device or resource busy",
  17: "File exists",
  19: "No such device",
  22: "Invalid argument",
  38: "Function not implemented",
  61: "No data available",
  110: "Connection timed out",
};

/** strerror(3) in the C locale for the errnos module loading returns. */
export function strerror(errno: number): string {
  return STRERROR[errno] ?? `Unknown error ${errno}`;
}

/** strtoul(s, &end, 0) accepting only when s is non-empty and fully consumed; null otherwise. */
function parseStrtoul(s: string): number | null {
  const m = /^[ \t\n\v\f\r]*([+-]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)$/.exec(s);
  if (!m) return null;
  const body = m[2]!;
  const v = body.startsWith("0x") || body.startsWith("0X") ? parseInt(body.slice(2), 16) : body.startsWith("0") && body.length > 1 ? parseInt(body.slice(1), 8) : parseInt(body, 10);
  return m[1] === "-" ? -v : v;
}

/** tools/modprobe.c prepend_options_from_env: MODPROBE_OPTIONS split on blanks, before argv. */
function prependEnvOptions(argv: string[], env: Record<string, string | undefined>): string[] {
  const s = env.MODPROBE_OPTIONS;
  if (s === undefined) return argv;
  return [...s.split(/[ \t\n]+/).filter((x) => x !== ""), ...argv];
}

/** tools/modprobe.c options_from_array: args after the module, `k=v w` re-quoted as `k="v w"`. */
export function optionsFromArray(args: string[]): string | null {
  if (args.length <= 1) return null;
  const parts: string[] = [];
  for (const a of args.slice(1)) {
    const eq = a.indexOf("=");
    if (eq >= 0) {
      const value = a.slice(eq + 1);
      if (!value.startsWith('"') && !value.startsWith("'") && value.includes(" ")) {
        parts.push(`${a.slice(0, eq + 1)}"${value}"`);
        continue;
      }
    }
    parts.push(a);
  }
  return parts.join(" ");
}

/** The help text of kmod 30's modprobe -h. */
function helpText(prog: string): string {
  return (
    `Usage:\n` +
    `\t${prog} [options] [-i] [-b] modulename\n` +
    `\t${prog} [options] -a [-i] [-b] modulename [modulename...]\n` +
    `\t${prog} [options] -r [-i] modulename\n` +
    `\t${prog} [options] -r -a [-i] modulename [modulename...]\n` +
    `\t${prog} [options] -c\n` +
    `\t${prog} [options] --dump-modversions filename\n` +
    `Management Options:\n` +
    `\t-a, --all                   Consider every non-argument to\n` +
    `\t                            be a module name to be inserted\n` +
    `\t                            or removed (-r)\n` +
    `\t-r, --remove                Remove modules instead of inserting\n` +
    `\t    --remove-dependencies   Deprecated: use --remove-holders\n` +
    `\t    --remove-holders        Also remove module holders (use together with -r)\n` +
    `\t-w, --wait <MSEC>           When removing a module, wait up to MSEC for\n` +
    `\t                            module's refcount to become 0 so it can be\n` +
    `\t                            removed (use together with -r)\n` +
    `\t    --first-time            Fail if module already inserted or removed\n` +
    `\t-i, --ignore-install        Ignore install commands\n` +
    `\t-i, --ignore-remove         Ignore remove commands\n` +
    `\t-b, --use-blacklist         Apply blacklist to resolved alias.\n` +
    `\t-f, --force                 Force module insertion or removal.\n` +
    `\t                            implies --force-modversions and\n` +
    `\t                            --force-vermagic\n` +
    `\t    --force-modversion      Ignore module's version\n` +
    `\t    --force-vermagic        Ignore module's version magic\n` +
    `\n` +
    `Query Options:\n` +
    `\t-R, --resolve-alias         Only lookup and print alias and exit\n` +
    `\t-D, --show-depends          Only print module dependencies and exit\n` +
    `\t-c, --showconfig            Print out known configuration and exit\n` +
    `\t-c, --show-config           Same as --showconfig\n` +
    `\t    --show-modversions      Dump module symbol version and exit\n` +
    `\t    --dump-modversions      Same as --show-modversions\n` +
    `\t    --show-exports          Only print module exported symbol versions and exit\n` +
    `\n` +
    `General Options:\n` +
    `\t-n, --dry-run               Do not execute operations, just print out\n` +
    `\t-n, --show                  Same as --dry-run\n` +
    `\t-C, --config=FILE           Use FILE instead of default search paths\n` +
    `\t-d, --dirname=DIR           Use DIR as filesystem root for /lib/modules\n` +
    `\t-S, --set-version=VERSION   Use VERSION instead of \`uname -r\`\n` +
    `\t-s, --syslog                print to syslog, not stderr\n` +
    `\t-q, --quiet                 disable messages\n` +
    `\t-v, --verbose               enables more messages\n` +
    `\t-V, --version               show version\n` +
    `\t-h, --help                  show this help\n`
  );
}

/** softdep_to_char (tools/modprobe.c): "pre: a b" immediately followed by "post: c". */
function softdepToChar(pre: string[], post: string[]): string {
  let s = "";
  if (pre.length > 0) s += "pre:" + pre.map((p) => " " + p).join("");
  if (post.length > 0) s += "post:" + post.map((p) => " " + p).join("");
  return s;
}

/** show_config: config sections, the trailer, then the alias and symbol index dumps. */
export function showConfig(ctx: KmodContext): string {
  const c = ctx.config;
  const out: string[] = [];
  for (const b of c.blacklists) out.push(`blacklist ${b}\n`);
  for (const x of c.installCommands) out.push(`install ${x.module} ${x.command}\n`);
  for (const x of c.removeCommands) out.push(`remove ${x.module} ${x.command}\n`);
  for (const a of c.aliases) out.push(`alias ${a.pattern} ${a.module}\n`);
  for (const o of c.options) out.push(`options ${o.module} ${o.options}\n`);
  for (const s of c.softdeps) out.push(`softdep ${s.module} ${softdepToChar(s.pre, s.post)}\n`);
  out.push("\n# End of configuration files. Dumping indexes now:\n\n");
  for (const kind of ["alias", "symbol"] as const) {
    const idx = ctx.moduleDir.index(kind).index;
    if (idx) out.push(ctx.resourcesLoaded ? idx.dump("alias ") : dumpFileReader(idx.dump("alias ")));
  }
  return out.join("");
}

/** index_dump (stdio reader) prints each node's values after add_value re-sorting; ties flip. */
function dumpFileReader(mmDump: string): string {
  return mmDump; // values of one key share a priority only when identical strings: same output.
}

/** Runs modprobe with `argv` (without the program name). */
export function modprobe(argv: string[], env: ModprobeEnv): ModprobeResult {
  const prog = "modprobe";
  let stdout = "";
  let stderr = "";
  const args = prependEnvOptions(argv, env.env ?? {});
  const { opts, operands } = getoptLong(prog, args);

  let verbose = LOG_WARNING;
  let useAll = false;
  let doRemove = false;
  let removeHolders = false;
  let waitMsec = 0;
  let lookupOnly = false;
  let firstTime = false;
  let ignoreCommands = false;
  let useBlacklist = false;
  let force = 0;
  let ignoreLoaded = false;
  let dryRun = false;
  let doShow = false;
  let doShowConfig = false;
  let unsupported: string | null = null;
  const configPaths: string[] = [];
  let root: string | null = null;
  let kversion: string | null = null;

  const log = (prio: number, msg: string): void => {
    if (prio > verbose) return;
    stderr += `${prog}: ${PRIO_NAME[prio] ?? `LOG-${String(prio).padStart(3, "0")}`}: ${msg}`;
  };

  for (const o of opts) {
    if ("error" in o) {
      stderr += o.error;
      return { code: 1, stdout, stderr };
    }
    switch (o.val) {
      case "a":
        useAll = true;
        break;
      case "r":
        doRemove = true;
        break;
      case "5":
        removeHolders = true;
        break;
      case "w": {
        // strtoul(optarg, &endptr, 0): decimal, 0x hex or 0 octal, optional sign/blanks; whole string.
        const w = parseStrtoul(o.arg ?? "");
        if (w === null) {
          log(LOG_ERR, `unexpected wait value '${o.arg ?? ""}'.\n`);
          return { code: 1, stdout, stderr };
        }
        waitMsec = w;
        break;
      }
      case "R":
        lookupOnly = true;
        break;
      case "3":
        firstTime = true;
        break;
      case "i":
        ignoreCommands = true;
        break;
      case "b":
        useBlacklist = true;
        break;
      case "f":
        force |= KMOD_PROBE_FORCE_MODVERSION | KMOD_PROBE_FORCE_VERMAGIC;
        break;
      case "2":
        force |= KMOD_PROBE_FORCE_MODVERSION;
        break;
      case "1":
        force |= KMOD_PROBE_FORCE_VERMAGIC;
        break;
      case "D":
        ignoreLoaded = true;
        dryRun = true;
        doShow = true;
        break;
      case "c":
        doShowConfig = true;
        break;
      case "4":
        unsupported = "--show-modversions";
        break;
      case "6":
        unsupported = "--show-exports";
        break;
      case "n":
        dryRun = true;
        break;
      case "C":
        configPaths.push(o.arg ?? "");
        break;
      case "d":
        root = o.arg;
        break;
      case "S":
        kversion = o.arg;
        break;
      case "s":
        break;
      case "q":
        verbose = LOG_EMERG;
        break;
      case "v":
        verbose++;
        break;
      case "V":
        stdout += "kmod version 30\n+ZSTD +XZ -ZLIB +LIBCRYPTO -EXPERIMENTAL\n";
        return { code: 0, stdout, stderr };
      case "h":
        stdout += helpText(prog);
        return { code: 0, stdout, stderr };
    }
  }

  if (!doShowConfig && operands.length === 0) {
    log(LOG_ERR, "missing parameters. See -h.\n");
    return { code: 1, stdout, stderr };
  }

  const moddir = env.moduleDirectory ?? "/lib/modules";
  const given = root !== null || kversion !== null ? `${root ?? ""}${moddir}/${kversion ?? env.unameRelease}` : `${moddir}/${env.unameRelease}`;
  // kmod_new → path_make_absolute_cwd: plain "cwd/" + path, no normalisation.
  const dirname = given.startsWith("/") || env.cwd === undefined ? given : `${env.cwd}/${given}`;

  // kmod_new: config search list (-C replaces the defaults).
  const entries = (configPaths.length > 0 ? configPaths : DEFAULT_CONFIG_PATHS).map((p) => env.readConfigPath(p));
  const ordered = orderConfigFiles([], entries);
  const configFiles: ConfigFile[] = ordered.files;
  const ctx = createKmodContext({
    moduleDir: env.openModuleDir(dirname),
    dirname,
    configFiles,
    kernel: env.kernel,
    checkModuleFiles: env.checkModuleFiles ?? true,
  });
  // Directory-in-directory errors are logged while listing, before any file is parsed.
  const cfgLogs = ordered.diagnostics.map((d) => `libkmod: ERROR ../libkmod/libkmod-config.c:${d.srcLine} ${d.fn}: ${d.message}\n`);
  stderr += cfgLogs.join("");
  let logged = 0;
  const flushLibkmod = (): void => {
    for (; logged < ctx.logs.length; logged++) {
      const l = ctx.logs[logged]!;
      if (l.phase === "config") {
        if (l.fn === "conf_files_filter_out") continue; // already printed above
        stderr += `libkmod: ${l.prio} ${l.srcFile}:${l.srcLine} ${l.fn}: ${l.message}\n`;
      } else if (LIBKMOD_PRIO[l.prio] <= verbose) {
        stderr += `${prog}: ${l.prio}: ${l.srcFile}:${l.srcLine} ${l.fn}() ${l.message}\n`;
      }
    }
  };
  flushLibkmod();

  if (doShowConfig) {
    stdout += showConfig(ctx);
    flushLibkmod();
    return { code: 0, stdout, stderr };
  }
  if (unsupported !== null) {
    stderr += `${prog}: kbind: ${unsupported} is not modelled\n`;
    return { code: 1, stdout, stderr };
  }
  if (doRemove) {
    // do_modprobe: rmmod_all(ctx, args, nargs) — every operand even without -a (checked against
    // Debian's kmod 30 with -r -n, test/kmod/modprobe-remove.test.ts).
    const err = rmmodAll(
      ctx,
      operands,
      { dryRun, force: force !== 0, firstTime, ignoreCommands, ignoreLoaded, removeHolders, waitMsec },
      {
        log: (m) => log(useAll ? LOG_WARNING : LOG_CRIT, m),
        err: (m) => log(LOG_ERR, m),
        warn: (m) => log(LOG_WARNING, m),
        show: (m) => {
          if (doShow || verbose > LOG_WARNING) stdout += m;
        },
        flush: flushLibkmod,
        strerror,
      },
    );
    flushLibkmod();
    return { code: err >= 0 ? 0 : 1, stdout, stderr };
  }

  const printAction = (m: KmodModule, install: boolean, options: string): void => {
    if (install) {
      stdout += `install ${m.getInstallCommands() ?? ""} ${options}\n`;
      return;
    }
    const path = m.getPath();
    if (path === null) {
      if (m.initstate() === "builtin") stdout += `builtin ${m.name}\n`;
    } else stdout += `insmod ${path} ${options}\n`;
  };

  let flags = force | KMOD_PROBE_APPLY_BLACKLIST_ALIAS_ONLY;
  if (ignoreCommands) flags |= KMOD_PROBE_IGNORE_COMMAND;
  if (ignoreLoaded) flags |= KMOD_PROBE_IGNORE_LOADED;
  if (dryRun) flags |= KMOD_PROBE_DRY_RUN;
  if (firstTime) flags |= KMOD_PROBE_FAIL_ON_LOADED;
  if (useBlacklist) flags |= KMOD_PROBE_APPLY_BLACKLIST;
  const show = doShow || verbose > LOG_WARNING ? printAction : undefined;

  const insmod = (alias: string, extra: string | null): number => {
    const r = lookupWithError(ctx, alias);
    flushLibkmod();
    if (r.modules.length === 0 || r.err < 0) {
      // LOG() uses log_priority: LOG_CRIT, lowered to LOG_WARNING by -a (tools/modprobe.c).
      log(useAll ? LOG_WARNING : LOG_CRIT, `Module ${alias} not found in directory ${dirname}\n`);
      return -2;
    }
    let err = 0;
    for (const mod of r.modules) {
      if (lookupOnly) stdout += `${mod.name}\n`;
      else err = probeInsertModule(ctx, mod, flags, { extraOptions: extra, ...(show ? { printAction: show } : {}) });
      flushLibkmod();
      if (err >= 0) err = 0;
      else if (err === -17) log(LOG_ERR, `could not insert '${mod.name}': Module already in kernel\n`);
      else if (err === -2) log(LOG_ERR, `could not insert '${mod.name}': Unknown symbol in module, or unknown parameter (see dmesg)\n`);
      else log(LOG_ERR, `could not insert '${mod.name}': ${strerror(-err)}\n`);
    }
    return err;
  };

  let err: number;
  if (useAll) {
    err = 0;
    for (const a of operands) {
      const r = insmod(a, null);
      if (r < 0) err = r;
    }
  } else {
    err = insmod(operands[0]!, optionsFromArray(operands));
  }
  return { code: err >= 0 ? 0 : 1, stdout, stderr };
}
