// glibc fnmatch(pattern, string, 0) in the C locale, as kmod calls it (libkmod-index.c, libkmod-config.c,
// libkmod-module.c always pass flags 0). A reimplementation of the single-byte path of glibc's
// posix/fnmatch_loop.c (internal_fnmatch / FCT), glibc 2.36 as shipped in Debian 12, with:
//   - FNM_PATHNAME, FNM_PERIOD, FNM_CASEFOLD, FNM_EXTMATCH, FNM_NOESCAPE all off (flags 0);
//   - the C locale (no collation rules: nrules == 0, identity collation sequence, ASCII ctype);
//   - POSIXLY_CORRECT unset, so `[^...]` negates like `[!...]`.
//
// Strings are C strings of bytes: each UTF-16 code unit is taken as one byte (read files as latin1 to be
// byte-exact) and a NUL ends the string, as it does for the C function. Behaviour kept from glibc on
// purpose, all covered by test/kmod/fnmatch.test.ts and the differential test against the real glibc:
//   - `*` never backtracks further than the last `*` (glibc's `ends` record), which is exact for globs;
//   - an unterminated `[` is a literal `[` (glibc >= 2.34 also after the set matched a character);
//   - a trailing `\` never matches; `\` inside brackets escapes; `[a-` never matches;
//   - `[:name:]` only with names made of a..y (glibc's `c >= 'z'` test), an unknown class fails the match;
//   - `[=c=]` and `[.c.]` (single characters only, as the C locale has no collation names).

const NUL = 0;
const STAR = 42; // *
const QUEST = 63; // ?
const LBRACK = 91; // [
const RBRACK = 93; // ]
const BSLASH = 92; // \
const BANG = 33; // !
const CARET = 94; // ^
const COLON = 58; // :
const EQUALS = 61; // =
const DOT = 46; // .
const DASH = 45; // -
const LOWER_A = 97;
const LOWER_Z = 122;

// C-locale ctype classes (glibc locale/C-ctype.c), bit per class for bytes 0..127; bytes >= 128 are in none.
const C_ALNUM = 1 << 0;
const C_ALPHA = 1 << 1;
const C_BLANK = 1 << 2;
const C_CNTRL = 1 << 3;
const C_DIGIT = 1 << 4;
const C_GRAPH = 1 << 5;
const C_LOWER = 1 << 6;
const C_PRINT = 1 << 7;
const C_PUNCT = 1 << 8;
const C_SPACE = 1 << 9;
const C_UPPER = 1 << 10;
const C_XDIGIT = 1 << 11;

const CLASS_BITS: ReadonlyMap<string, number> = new Map([
  ["alnum", C_ALNUM],
  ["alpha", C_ALPHA],
  ["blank", C_BLANK],
  ["cntrl", C_CNTRL],
  ["digit", C_DIGIT],
  ["graph", C_GRAPH],
  ["lower", C_LOWER],
  ["print", C_PRINT],
  ["punct", C_PUNCT],
  ["space", C_SPACE],
  ["upper", C_UPPER],
  ["xdigit", C_XDIGIT],
]);

const CTYPE = new Uint16Array(128);
for (let c = 0; c < 128; c++) {
  let m = 0;
  const digit = c >= 48 && c <= 57;
  const upper = c >= 65 && c <= 90;
  const lower = c >= 97 && c <= 122;
  if (digit) m |= C_DIGIT | C_XDIGIT;
  if (upper) m |= C_UPPER | C_ALPHA;
  if (lower) m |= C_LOWER | C_ALPHA;
  if ((c >= 65 && c <= 70) || (c >= 97 && c <= 102)) m |= C_XDIGIT;
  if (digit || upper || lower) m |= C_ALNUM;
  if (c === 32 || c === 9) m |= C_BLANK;
  if (c < 32 || c === 127) m |= C_CNTRL;
  if (c > 32 && c < 127) m |= C_GRAPH;
  if (c >= 32 && c < 127) m |= C_PRINT;
  if (c > 32 && c < 127 && !(digit || upper || lower)) m |= C_PUNCT;
  if ((c >= 9 && c <= 13) || c === 32) m |= C_SPACE;
  CTYPE[c] = m;
}

/** glibc's CHAR_CLASS_MAX_LENGTH = CHARCLASS_NAME_MAX (bits/posix2_lim.h). */
const CHAR_CLASS_MAX_LENGTH = 2048;

const NOMATCH = 1;
const MATCH = 0;

// Pattern and string of the current call, and the `ends` record (struct STRUCT) an inner call fills
// when it reaches a `*`. With flags 0 only two levels ever exist (the outer loop and one inner call that
// stops at the next `*`), so module state is enough and no object is allocated per call.
let pat = "";
let plen = 0;
let str = "";
let slen = 0;
let endP = -1;
let endN = -1;

/** The pattern byte at i, 0 at or past the end (C string semantics). */
function pc(i: number): number {
  return i < plen ? pat.charCodeAt(i) : NUL;
}

/**
 * FCT(pattern + p, string + n, string_end, ..., ends) of fnmatch_loop.c. `inner` is `ends != NULL`.
 * Returns MATCH (0) or NOMATCH (1).
 */
function fct(p: number, n: number, inner: boolean): number {
  let c: number;
  while ((c = pc(p++)) !== NUL) {
    switch (c) {
      case QUEST:
        if (n === slen) return NOMATCH;
        break;

      case BSLASH:
        c = pc(p++);
        if (c === NUL) return NOMATCH; // trailing \ loses
        if (n === slen || str.charCodeAt(n) !== c) return NOMATCH;
        break;

      case STAR: {
        if (inner) {
          endP = p - 1;
          endN = n;
          return MATCH;
        }
        for (c = pc(p++); c === QUEST || c === STAR; c = pc(p++)) {
          if (c === QUEST) {
            if (n === slen) return NOMATCH;
            ++n;
          }
        }
        if (c === NUL) return MATCH; // the wildcards end the pattern
        // endp = memchr(n, '\0', ...) is string_end: the string has no NUL before its end.
        endP = -1;
        let found = false;
        if (c === LBRACK) {
          --p;
          for (; n < slen; ++n) {
            if (fct(p, n, true) === MATCH) {
              found = true;
              break;
            }
          }
        } else {
          if (c === BSLASH) c = pc(p);
          --p;
          for (; n < slen; ++n) {
            if (str.charCodeAt(n) === c && fct(p, n, true) === MATCH) {
              found = true;
              break;
            }
          }
        }
        if (found && endP < 0) return MATCH;
        if (endP >= 0) {
          p = endP;
          n = endN;
          continue;
        }
        return NOMATCH;
      }

      case LBRACK: {
        const r = bracket(p, n);
        if (r === BRACKET_NOMATCH) return NOMATCH;
        if (r === BRACKET_LITERAL) {
          // [ unterminated, treat as normal character (normal_match).
          if (n === slen || str.charCodeAt(n) !== LBRACK) return NOMATCH;
        } else {
          p = r;
        }
        break;
      }

      default:
        if (n === slen || c !== str.charCodeAt(n)) return NOMATCH;
    }
    ++n;
  }
  return n === slen ? MATCH : NOMATCH;
}

const BRACKET_NOMATCH = -1;
const BRACKET_LITERAL = -2;

/**
 * The `case L_('['):` branch. `p` is just after the `[`, `n` the string position. Returns the pattern
 * position after the closing `]` when the bracket matched the character, BRACKET_NOMATCH when the whole
 * fnmatch fails, BRACKET_LITERAL when the `[` is unterminated and must be matched as a plain `[`.
 */
function bracket(p: number, n: number): number {
  if (n === slen) return BRACKET_NOMATCH;
  const not = pc(p) === BANG || pc(p) === CARET;
  if (not) ++p;
  const fn = str.charCodeAt(n);
  let c = pc(p++);
  let cold: number;
  let matched = false;
  for (;;) {
    let normal = false; // reached normal_bracket with c set
    if (c === BSLASH) {
      if (pc(p) === NUL) return BRACKET_NOMATCH;
      c = pc(p);
      ++p;
      normal = true;
    } else if (c === LBRACK && pc(p) === COLON) {
      const startp = p;
      let c1 = 0;
      let name = "";
      let isClass = true;
      for (;;) {
        if (c1 === CHAR_CLASS_MAX_LENGTH) return BRACKET_NOMATCH; // name too long: ill-formed
        c = pc(++p);
        if (c === COLON && pc(p + 1) === RBRACK) {
          p += 2;
          break;
        }
        if (c < LOWER_A || c >= LOWER_Z) {
          // Cannot be a class name: match the `[` as a normal character.
          p = startp;
          c = LBRACK;
          isClass = false;
          break;
        }
        name += String.fromCharCode(c);
        c1++;
      }
      if (isClass) {
        const bit = CLASS_BITS.get(name);
        if (bit === undefined) return BRACKET_NOMATCH; // invalid class name
        if (fn < 128 && (CTYPE[fn]! & bit) !== 0) {
          matched = true;
          break;
        }
        c = pc(p++);
      } else {
        normal = true;
      }
    } else if (c === LBRACK && pc(p) === EQUALS) {
      const startp = p;
      c = pc(++p);
      if (c === NUL) {
        p = startp;
        c = LBRACK;
        normal = true;
      } else {
        const eq = c;
        c = pc(++p);
        if (c !== EQUALS || pc(p + 1) !== RBRACK) {
          p = startp;
          c = LBRACK;
          normal = true;
        } else {
          p += 2;
          if (fn === eq) {
            matched = true;
            break;
          }
          c = pc(p++);
        }
      }
    } else if (c === NUL) {
      return BRACKET_LITERAL;
    } else if (c === LBRACK && pc(p) === DOT) {
      // A collating symbol [.x.]: in the C locale only a single character is a valid name.
      const startp = p;
      let c1 = 0;
      for (;;) {
        c = pc(++p);
        if (c === DOT && pc(p + 1) === RBRACK) {
          p += 2;
          break;
        }
        if (c === NUL) return BRACKET_NOMATCH;
        ++c1;
      }
      const isRange = pc(p) === DASH && pc(p + 1) !== NUL;
      if (c1 !== 1) return BRACKET_NOMATCH;
      const sym = pc(startp + 1);
      if (!isRange && fn === sym) {
        matched = true;
        break;
      }
      cold = sym;
      c = pc(p++);
      const r = range(c, p, cold, fn);
      if (r === RANGE_FAIL) return BRACKET_NOMATCH;
      if (r !== RANGE_NONE) p = rangeEnd;
      if (r === RANGE_MATCHED) {
        matched = true;
        break;
      }
      if (r === RANGE_NOT_MATCHED) c = pc(p++);
      if (c === RBRACK) break;
      continue;
    } else {
      normal = true;
    }

    if (normal) {
      // normal_bracket:
      const isRange = pc(p) === DASH && pc(p + 1) !== NUL && pc(p + 1) !== RBRACK;
      if (!isRange && c === fn) {
        matched = true;
        break;
      }
      cold = c;
      c = pc(p++);
      const r = range(c, p, cold, fn);
      if (r === RANGE_FAIL) return BRACKET_NOMATCH;
      if (r !== RANGE_NONE) p = rangeEnd;
      if (r === RANGE_MATCHED) {
        matched = true;
        break;
      }
      if (r === RANGE_NOT_MATCHED) c = pc(p++);
    }
    if (c === RBRACK) break;
  }

  if (!matched) return not ? p : BRACKET_NOMATCH;

  // matched: skip the rest of the [...] that already matched.
  while ((c = pc(p++)) !== RBRACK) {
    if (c === NUL) return BRACKET_LITERAL; // [ unterminated, treat as normal character
    if (c === BSLASH) {
      if (pc(p) === NUL) return BRACKET_NOMATCH;
      ++p;
    } else if (c === LBRACK && pc(p) === COLON) {
      let c1 = 0;
      const startp = p;
      for (;;) {
        c = pc(++p);
        if (++c1 === CHAR_CLASS_MAX_LENGTH) return BRACKET_NOMATCH;
        if (pc(p) === COLON && pc(p + 1) === RBRACK) break;
        if (c < LOWER_A || c >= LOWER_Z) {
          p = startp - 2;
          break;
        }
      }
      p += 2;
    } else if (c === LBRACK && pc(p) === EQUALS) {
      c = pc(++p);
      if (c === NUL) return BRACKET_NOMATCH;
      c = pc(++p);
      if (c !== EQUALS || pc(p + 1) !== RBRACK) return BRACKET_NOMATCH;
      p += 2;
    } else if (c === LBRACK && pc(p) === DOT) {
      for (;;) {
        c = pc(++p);
        if (c === NUL) return BRACKET_NOMATCH;
        if (c === DOT && pc(p + 1) === RBRACK) break;
      }
      p += 2;
    }
  }
  return not ? BRACKET_NOMATCH : p;
}

const RANGE_NONE = 0;
const RANGE_FAIL = 1;
const RANGE_MATCHED = 2;
const RANGE_NOT_MATCHED = 3;
/** The pattern position just after a range's end, set by range() when it read one. */
let rangeEnd = 0;

/**
 * The range part after a bracket element: `c` is the character after the element, `p` the position after
 * `c`. When `c` is `-` not followed by `]`, reads the range end (escaped, or a [.x.] symbol) and compares
 * with the identity collation sequence of the C locale. Returns RANGE_NONE (no range), RANGE_FAIL (the
 * whole match fails), RANGE_MATCHED or RANGE_NOT_MATCHED, the last two with `rangeEnd` set.
 */
function range(c: number, p: number, cold: number, fn: number): number {
  if (c !== DASH || pc(p) === RBRACK) return RANGE_NONE;
  let cend = pc(p++);
  if (cend === LBRACK && pc(p) === DOT) {
    const startp = p;
    let c1 = 0;
    for (;;) {
      const x = pc(++p);
      if (x === DOT && pc(p + 1) === RBRACK) {
        p += 2;
        break;
      }
      if (x === NUL) return RANGE_FAIL;
      ++c1;
    }
    if (c1 !== 1) return RANGE_FAIL;
    cend = pc(startp + 1);
  } else {
    if (cend === BSLASH) cend = pc(p++);
    if (cend === NUL) return RANGE_FAIL;
  }
  rangeEnd = p;
  return cold <= fn && fn <= cend ? RANGE_MATCHED : RANGE_NOT_MATCHED;
}

/**
 * fnmatch(pattern, s, 0) == 0 with glibc in the C locale. Both are C strings: a NUL ends them.
 * Iterative except for one level of recursion per `*`, no allocation, no regex.
 */
export function fnmatch(pattern: string, s: string): boolean {
  pat = pattern;
  const pz = pattern.indexOf("\0");
  plen = pz < 0 ? pattern.length : pz;
  str = s;
  const sz = s.indexOf("\0");
  slen = sz < 0 ? s.length : sz;
  return fct(0, 0, false) === MATCH;
}

/** Whether a pattern has a glob character kmod's index treats as a wildcard start (`*`, `?`, `[`). */
export function hasWildcard(pattern: string): boolean {
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern.charCodeAt(i);
    if (c === STAR || c === QUEST || c === LBRACK) return true;
  }
  return false;
}
