// modprobe.d configuration exactly as libkmod parses it (kmod 30, libkmod/libkmod-config.c):
// file selection and order (kmod_config_new, conf_files_list, conf_files_filter_out,
// conf_files_insert_sorted), line reading (shared/util.c getline_wrapped), line syntax
// (kmod_config_parse), softdep tokenising (kmod_config_add_softdep) and the kernel command line
// (kmod_config_parse_kcmdline, kcmdline_parse_result). Parse problems are not fatal in libkmod:
// they are logged and the line is skipped; kbind returns them as `diagnostics` with file:line.
import { KbindError } from "../model/errors.ts";
import { strcmp } from "./bytes.ts";
import { underscores } from "./normalize.ts";

export interface ConfigFile {
  /** Full path as libkmod would open it (used in messages). */
  path: string;
  text: string;
}

export interface ConfAlias {
  pattern: string;
  module: string;
}
export interface ConfOptions {
  module: string;
  options: string;
}
export interface ConfCommand {
  module: string;
  command: string;
}
export interface ConfSoftdep {
  module: string;
  pre: string[];
  post: string[];
}
export interface ConfWeakdep {
  module: string;
  weak: string[];
}

/** A message libkmod would log while parsing: level, source line of kmod 30 and function. */
export interface ConfigDiagnostic {
  level: "ERROR";
  /** libkmod-config.c line number of the ERR() call in kmod 30 (for byte-identical stderr). */
  srcLine: number;
  fn: string;
  message: string;
  file?: string;
  line?: number;
}

export interface KmodConfig {
  aliases: ConfAlias[];
  blacklists: string[];
  options: ConfOptions[];
  installCommands: ConfCommand[];
  removeCommands: ConfCommand[];
  softdeps: ConfSoftdep[];
  weakdeps: ConfWeakdep[];
  diagnostics: ConfigDiagnostic[];
}

export function emptyConfig(): KmodConfig {
  return { aliases: [], blacklists: [], options: [], installCommands: [], removeCommands: [], softdeps: [], weakdeps: [], diagnostics: [] };
}

/** A directory listing or single file handed to the config loader (one entry of the search list). */
export type ConfigPathEntry =
  | { kind: "dir"; path: string; entries: { name: string; isDir: boolean; text: string }[] }
  | { kind: "file"; path: string; text: string }
  | { kind: "missing"; path: string };

/** libkmod's default_config_paths (libkmod.c), kmod 30 as built by Debian. */
export const DEFAULT_CONFIG_PATHS = ["/etc/modprobe.d", "/run/modprobe.d", "/usr/local/lib/modprobe.d", "/lib/modprobe.d"];

/** conf_files_filter_out (kmod 30): hidden, shorter than 6, or neither *.conf nor *.alias → skipped. */
export function confFileAccepted(name: string): boolean {
  if (name.startsWith(".")) return false;
  return name.length >= 6 && (name.endsWith(".conf") || name.endsWith(".alias"));
}

/**
 * kmod_config_new's file list: modules.softdep (and modules.weakdep, kmod ≥ 33 only) from the
 * module directory as pseudo single files, then each search path; one list sorted by basename
 * (strcmp), the first file seen with a given basename wins.
 */
export function orderConfigFiles(moduleDirFiles: ConfigFile[], paths: ConfigPathEntry[]): { files: ConfigFile[]; diagnostics: ConfigDiagnostic[] } {
  const list: { name: string; file: ConfigFile }[] = [];
  const diagnostics: ConfigDiagnostic[] = [];
  const insert = (name: string, file: ConfigFile): void => {
    let i = 0;
    let cmp = -1;
    for (; i < list.length; i++) {
      cmp = strcmp(name, list[i]!.name);
      if (cmp <= 0) break;
    }
    if (cmp === 0 && i < list.length) return; // "Ignoring duplicate config file" (DBG only)
    list.splice(i, 0, { name, file });
  };
  const base = (p: string): string => p.slice(p.lastIndexOf("/") + 1);
  for (const f of moduleDirFiles) insert(base(f.path), f);
  for (const p of paths) {
    if (p.kind === "missing") continue;
    if (p.kind === "file") {
      insert(base(p.path), { path: p.path, text: p.text });
      continue;
    }
    for (const e of p.entries) {
      if (!confFileAccepted(e.name)) continue;
      if (e.isDir) {
        diagnostics.push({ level: "ERROR", srcLine: 772, fn: "conf_files_filter_out", message: `Directories inside directories are not supported: ${p.path}/${e.name}` });
        continue;
      }
      insert(e.name, { path: `${p.path}/${e.name}`, text: e.text });
    }
  }
  return { files: list.map((x) => x.file), diagnostics };
}

/**
 * getline_wrapped (shared/util.c): a backslash before a newline joins lines, a backslash before
 * any other char keeps that char; returns each logical line with the number of its LAST
 * physical line (linenum is incremented once per physical line read).
 */
export function wrappedLines(text: string): { line: string; lineno: number }[] {
  const out: { line: string; lineno: number }[] = [];
  let i = 0;
  let lineno = 0;
  const n = text.length;
  while (i < n) {
    let buf = "";
    lineno++;
    for (;;) {
      if (i >= n) break;
      const ch = text[i++]!;
      if (ch === "\n") break;
      if (ch === "\\") {
        if (i >= n) break; // EOF after backslash: ignored
        const nx = text[i++]!;
        if (nx === "\n") {
          lineno++;
          continue;
        }
        buf += nx;
        continue;
      }
      buf += ch;
    }
    out.push({ line: buf, lineno });
  }
  return out;
}

/** strtok_r(s, "\t ") state machine, returning [token, rest-after-delimiter] or null. */
function strtok(s: string, from: number): { tok: string; next: number } | null {
  let i = from;
  while (i < s.length && (s[i] === " " || s[i] === "\t")) i++;
  if (i >= s.length) return null;
  const start = i;
  while (i < s.length && s[i] !== " " && s[i] !== "\t") i++;
  // strtok_r replaces the delimiter with NUL and continues after it.
  return { tok: s.slice(start, i), next: i < s.length ? i + 1 : i };
}

/** strtok_r(NULL, "\0"): everything left, or NULL when nothing is left. */
function rest(s: string, from: number): string | null {
  return from < s.length ? s.slice(from) : null;
}

/** kmod_config_add_softdep: whitespace-separated tokens, `pre:`/`post:` switch the list. */
export function parseSoftdepLine(module: string, line: string): ConfSoftdep {
  const pre: string[] = [];
  const post: string[] = [];
  let mode: "none" | "pre" | "post" = "none";
  for (const tok of line.split(/[ \t\n\v\f\r]+/)) {
    if (tok === "") continue;
    if (tok === "pre:") mode = "pre";
    else if (tok === "post:") mode = "post";
    else if (mode === "pre") pre.push(tok);
    else if (mode === "post") post.push(tok);
  }
  return { module, pre, post };
}

/** Weak dependencies: every whitespace-separated token (kmod_config_add_weakdep, kmod ≥ 33). */
export function parseWeakdepLine(module: string, line: string): ConfWeakdep {
  return { module, weak: line.split(/[ \t\n\v\f\r]+/).filter((t) => t !== "") };
}

export interface ConfigParseOptions {
  /** Accept `weakdep` lines (kmod >= 33). kmod 30 (the default) reports them as bad lines. */
  weakdep?: boolean;
}

/** kmod_config_parse over one file, appending to `cfg`. */
export function parseConfigFile(cfg: KmodConfig, file: ConfigFile, opts: ConfigParseOptions = {}): void {
  for (const { line, lineno } of wrappedLines(file.text)) {
    if (line === "" || line.startsWith("#")) continue;
    const c = strtok(line, 0);
    if (!c) continue;
    const cmd = c.tok;
    const badLine = (): void => {
      cfg.diagnostics.push({ level: "ERROR", srcLine: 712, fn: "kmod_config_parse", message: `${file.path} line ${lineno}: ignoring bad line starting with '${cmd}'`, file: file.path, line: lineno });
    };
    const t1 = strtok(line, c.next);
    const norm = (s: string): string | null => {
      try {
        return underscores(s);
      } catch {
        return null;
      }
    };
    switch (cmd) {
      case "alias": {
        const t2 = t1 ? strtok(line, t1.next) : null;
        if (!t1 || !t2) {
          badLine();
          continue;
        }
        const a = norm(t1.tok);
        const m = norm(t2.tok);
        if (a === null || m === null) {
          badLine();
          continue;
        }
        cfg.aliases.push({ pattern: a, module: m });
        break;
      }
      case "blacklist": {
        if (!t1) {
          badLine();
          continue;
        }
        const m = norm(t1.tok);
        if (m === null) {
          badLine();
          continue;
        }
        cfg.blacklists.push(m);
        break;
      }
      case "weakdep":
      case "options":
      case "install":
      case "remove":
      case "softdep": {
        const r = t1 ? rest(line, t1.next) : null;
        if (!t1 || r === null || (cmd === "weakdep" && opts.weakdep !== true)) {
          badLine();
          continue;
        }
        const m = norm(t1.tok);
        if (m === null) {
          badLine();
          continue;
        }
        if (cmd === "options") cfg.options.push({ module: m, options: r.replaceAll("\t", " ") });
        else if (cmd === "install") cfg.installCommands.push({ module: m, command: r });
        else if (cmd === "remove") cfg.removeCommands.push({ module: m, command: r });
        else if (cmd === "softdep") cfg.softdeps.push(parseSoftdepLine(m, r));
        else cfg.weakdeps.push(parseWeakdepLine(m, r));
        break;
      }
      case "include":
      case "config":
        cfg.diagnostics.push({ level: "ERROR", srcLine: 708, fn: "kmod_config_parse", message: `${file.path}: command ${cmd} is deprecated and not parsed anymore`, file: file.path, line: lineno });
        break;
      default:
        badLine();
    }
  }
}

/**
 * kmod_config_parse_kcmdline (kmod 30): `mod.param[=value]` words become `options mod param…`,
 * `modprobe.blacklist=a,b` adds blacklist entries (not normalised). Quotes: a value may be
 * quoted (`m.p="a b"`), and a whole quoted word `"m.p=a b"` (GRUB style) is re-quoted as
 * `m p="a b"`. Anything else odd makes the word ignored.
 */
export function parseKernelCmdline(cfg: KmodConfig, cmdline: string): void {
  // read_str_safe into a 4096-byte buffer (KCMD_LINE_SIZE): at most 4095 bytes are used.
  const buf = cmdline.slice(0, 4095);
  type State = "ignore" | "modname" | "param" | "value" | "complete";
  let state: State = "modname";
  let isQuoted = false;
  let quoteStart = -1;
  let modStart = 0;
  let paramStart = -1;
  let valueStart = -1;
  let iter = true;
  for (let p = 0; iter; p++) {
    const ch = p < buf.length ? buf[p]! : "\0";
    let endAt = -1;
    switch (ch) {
      case '"':
        isQuoted = !isQuoted;
        if (isQuoted && state === "modname" && p === modStart) {
          quoteStart = p;
          modStart = p + 1;
        } else if (state !== "value") {
          state = "ignore";
        }
        break;
      case "\0":
      case "\n":
      case " ":
      case "\t":
        if (ch === "\0" || ch === "\n") iter = false;
        if (isQuoted && state === "value") {
          /* no state change */
        } else if (isQuoted) {
          state = "ignore";
        } else if (state === "value" || state === "param") {
          endAt = p;
          state = "complete";
        } else {
          modStart = p + 1;
          state = "modname";
          quoteStart = -1;
        }
        break;
      case ".":
        if (state === "modname") {
          paramStart = p + 1;
          state = "param";
        } else if (state === "param") {
          state = "ignore";
        }
        break;
      case "=":
        if (state === "param") {
          valueStart = p + 1;
          state = "value";
        } else if (state === "modname") {
          state = "ignore";
        }
        break;
    }
    if (state === "complete") {
      const modname = buf.slice(modStart, paramStart - 1);
      let param = buf.slice(paramStart, endAt);
      if (quoteStart >= 0 && quoteStart < modStart && valueStart >= 0) {
        // Re-quote: "m.p=v w" → m p="v w" (the closing quote is already at the end of the value).
        param = buf.slice(paramStart, valueStart) + '"' + buf.slice(valueStart, endAt);
      }
      kcmdlineResult(cfg, modname, param);
      modStart = p + 1;
      state = "modname";
      quoteStart = -1;
      paramStart = -1;
      valueStart = -1;
    }
  }
}

function kcmdlineResult(cfg: KmodConfig, modname: string, param: string): void {
  if (modname === "modprobe" && param.startsWith("blacklist=")) {
    for (const t of param.slice("blacklist=".length).split(",")) cfg.blacklists.push(t);
    return;
  }
  let m: string;
  try {
    m = underscores(modname);
  } catch (e) {
    // underscores() works in place: the message shows the name converted up to the bad bracket.
    const at = e instanceof KbindError && e.location.offset !== undefined ? e.location.offset : modname.length;
    const shown = modname.slice(0, at).replaceAll("-", "_") + modname.slice(at);
    cfg.diagnostics.push({ level: "ERROR", srcLine: 489, fn: "kcmdline_parse_result", message: `Ignoring bad option on kernel command line while parsing module name: '${shown}'` });
    return;
  }
  cfg.options.push({ module: m, options: param });
}

/** Builds the whole configuration: ordered files, then the kernel command line. */
export function loadConfig(files: ConfigFile[], kernelCmdline: string | null, opts: ConfigParseOptions = {}): KmodConfig {
  const cfg = emptyConfig();
  for (const f of files) parseConfigFile(cfg, f, opts);
  if (kernelCmdline !== null) parseKernelCmdline(cfg, kernelCmdline);
  return cfg;
}
