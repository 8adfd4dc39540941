// kmod's name normalisation (kmod shared/util.c: alias_normalize, underscores, modname_normalize).
// Dashes become underscores except inside `[...]` bracket expressions, so "snd-hda-intel" and
// "snd_hda_intel" are the same module and a pattern like "pci:v*d*sv*sd*bc0[1-3]*" keeps its range.
import { KbindError } from "../model/errors.ts";

/** PATH_MAX (4096) - 1: alias_normalize and modname_normalize stop copying there. */
const PATH_MAX_1 = 4095;

function unmatched(what: string, offset: number, s: string): KbindError {
  const ch = s.charAt(offset);
  return new KbindError(
    "UNMATCHED_BRACKET",
    `unmatched bracket in ${what}: ${ch === "" ? "'[' never closed" : `'${ch}'`} (kmod returns -EINVAL)`,
    { offset, errno: "EINVAL" },
  );
}

/** The first NUL ends a C string. */
function cstr(s: string): string {
  const z = s.indexOf("\0");
  return z < 0 ? s : s.slice(0, z);
}

/**
 * alias_normalize(): `-` → `_` outside brackets; a `]` outside brackets or a `[` without its `]` is
 * -EINVAL, thrown as KbindError UNMATCHED_BRACKET with the offset of the offending character (the `]`,
 * or the `[` that is never closed). Like kmod, copies at most PATH_MAX - 1 characters (a bracket that
 * starts before that limit is still copied whole).
 */
export function aliasNormalize(alias: string): string {
  const s = cstr(alias);
  // No bracket: the loop below only turns '-' into '_' (one replace, not a string per char).
  if (!s.includes("[") && !s.includes("]")) return dashesToUnderscores(s.length > PATH_MAX_1 ? s.slice(0, PATH_MAX_1) : s);
  let out = "";
  let i = 0;
  for (; i < PATH_MAX_1 && i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 45) {
      out += "_";
    } else if (c === 93) {
      throw unmatched("alias", i, s);
    } else if (c === 91) {
      const close = s.indexOf("]", i);
      if (close < 0) throw unmatched("alias", i, s);
      out += s.slice(i, close + 1);
      i = close;
    } else {
      out += s[i];
    }
  }
  return out;
}

/**
 * underscores(): the in-place variant used by the modprobe.d parser on alias patterns and module names.
 * Same rules, no length limit; errors as aliasNormalize.
 */
export function underscores(s: string): string {
  const t = cstr(s);
  let out = "";
  for (let i = 0; i < t.length; i++) {
    const c = t.charCodeAt(i);
    if (c === 45) {
      out += "_";
    } else if (c === 93) {
      throw unmatched("name", i, t);
    } else if (c === 91) {
      const close = t.indexOf("]", i);
      if (close < 0) throw unmatched("name", i, t);
      out += t.slice(i, close + 1);
      i = close;
    } else {
      out += t[i];
    }
  }
  return out;
}

/** Non-throwing underscores() for callers that treat -EINVAL as "skip this line": null on error. */
export function underscoresOrNull(s: string): string | null {
  try {
    return underscores(s);
  } catch (e) {
    if (e instanceof KbindError) return null;
    throw e;
  }
}

/**
 * modname_normalize(): `-` → `_` everywhere (no bracket rule) and stop at the first `.`, so
 * "snd-hda-intel.ko.xz" → "snd_hda_intel". At most PATH_MAX - 1 characters.
 */
export function modnameNormalize(name: string): string {
  const s = cstr(name);
  const dot = s.indexOf(".");
  const end = Math.min(dot < 0 ? s.length : dot, PATH_MAX_1);
  return dashesToUnderscores(end === s.length ? s : s.slice(0, end));
}

function dashesToUnderscores(s: string): string {
  return s.includes("-") ? s.replaceAll("-", "_") : s;
}

/** path_to_modname(): basename, then modname_normalize; null for an empty basename (kmod returns NULL). */
export function pathToModname(path: string): string | null {
  const base = path.slice(path.lastIndexOf("/") + 1);
  if (base === "") return null;
  return modnameNormalize(base);
}
