// Readers for the text files of a modules directory (written by depmod or the kernel build).
// Formats: tools/depmod.c (output_deps, output_aliases, output_softdeps, output_symbols,
// output_builtin_bin for modules.builtin) and the kernel's scripts (modules.order,
// modules.builtin.modinfo = NUL-separated "modname.key=value" records).
// libkmod itself only reads the .bin indexes; these readers serve depmod, libvirt-style consumers
// and buildModuleDir. Bad lines raise KbindError with file:line.
import { KbindError } from "../model/errors.ts";

export interface AliasLine {
  pattern: string;
  module: string;
  line: number;
}

export interface DepLine {
  /** Path relative to the modules dir, as written (e.g. kernel/fs/ext4/ext4.ko). */
  path: string;
  deps: string[];
  line: number;
}

function lines(text: string): string[] {
  const ls = text.split("\n");
  if (ls.length > 0 && ls[ls.length - 1] === "") ls.pop();
  return ls;
}

function bad(code: string, file: string, line: number, what: string): KbindError {
  return new KbindError(code, `${file}:${line}: ${what}`, { file, line });
}

/** modules.alias / modules.symbols: `# comment` and `alias PATTERN MODULE`. */
export function parseAliasFile(text: string, file = "modules.alias"): AliasLine[] {
  const out: AliasLine[] = [];
  lines(text).forEach((l, idx) => {
    const n = idx + 1;
    if (l === "" || l.startsWith("#")) return;
    const parts = l.split(" ");
    if (parts.length !== 3 || parts[0] !== "alias" || parts[1] === "" || parts[2] === "")
      throw bad("BAD_ALIAS_LINE", file, n, `expected "alias <pattern> <module>", got '${l}'`);
    out.push({ pattern: parts[1]!, module: parts[2]!, line: n });
  });
  return out;
}

/** modules.dep: `path: dep dep ...` (one line per module, idx order). */
export function parseDepFile(text: string, file = "modules.dep"): DepLine[] {
  const out: DepLine[] = [];
  lines(text).forEach((l, idx) => {
    const n = idx + 1;
    if (l === "") return;
    const colon = l.indexOf(":");
    if (colon <= 0) throw bad("BAD_DEP_LINE", file, n, `expected "<path>: <deps>", got '${l}'`);
    const rest = l.slice(colon + 1).trim();
    out.push({ path: l.slice(0, colon), deps: rest === "" ? [] : rest.split(/[ \t]+/), line: n });
  });
  return out;
}

/** modules.order / modules.builtin: one relative path per line. */
export function parsePathList(text: string): { path: string; line: number }[] {
  const out: { path: string; line: number }[] = [];
  lines(text).forEach((l, idx) => {
    if (l === "") return;
    out.push({ path: l, line: idx + 1 });
  });
  return out;
}

/**
 * modules.builtin as depmod's output_builtin_bin reads it: a line whose first byte is not a
 * letter is "Invalid modules.builtin line" (reported, skipped).
 */
export function parseBuiltinFile(text: string, file = "modules.builtin"): { paths: string[]; errors: KbindError[] } {
  const paths: string[] = [];
  const errors: KbindError[] = [];
  const raw = text.split("\n");
  for (let i = 0; i < raw.length; i++) {
    const l = raw[i]!;
    if (i === raw.length - 1 && l === "") break;
    if (!/^[A-Za-z]/.test(l)) {
      errors.push(bad("BAD_BUILTIN_LINE", file, i + 1, `Invalid modules.builtin line: ${l}`));
      continue;
    }
    paths.push(l);
  }
  return { paths, errors };
}

export interface BuiltinModinfoRecord {
  module: string;
  key: string;
  value: string;
  offset: number;
}

/** modules.builtin.modinfo: NUL-separated `modname.key=value` records (kmod_builtin_iter). */
export function parseBuiltinModinfo(text: string, file = "modules.builtin.modinfo"): BuiltinModinfoRecord[] {
  const out: BuiltinModinfoRecord[] = [];
  let off = 0;
  while (off < text.length) {
    let end = text.indexOf("\0", off);
    if (end < 0) end = text.length;
    const rec = text.slice(off, end);
    if (rec !== "") {
      const dot = rec.indexOf(".");
      const eq = rec.indexOf("=", dot + 1);
      if (dot <= 0 || eq < 0)
        throw new KbindError("BAD_BUILTIN_MODINFO", `${file}: record at offset ${off} is not "module.key=value": '${rec}'`, { file, offset: off });
      out.push({ module: rec.slice(0, dot), key: rec.slice(dot + 1, eq), value: rec.slice(eq + 1), offset: off });
    }
    off = end + 1;
  }
  return out;
}

/** modules.softdep / modules.weakdep are modprobe.d syntax: see config.ts. */
