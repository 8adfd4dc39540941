// Seeded generators of fnmatch pattern/string pairs that hit glibc's edge cases: bracket sets, ranges,
// `!`/`^` negation, `]` first, escapes inside and outside brackets, [:class:], [=c=], [.c.], unterminated
// brackets, trailing backslash, `*` runs mixed with `?`, high bytes. Deterministic for a given seed.

/** mulberry32: a small deterministic PRNG. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ALPHABET = ["a", "b", "c", "z", "A", "Z", "0", "9", "-", "_", ":", ".", "=", "/", " ", "\t", "!", "^", "]", "[", "\\", "*", "?", "\xe9", "\x7f", "\x01", "y", "{"];
const CLASSES = ["alpha", "digit", "upper", "lower", "alnum", "space", "blank", "punct", "print", "graph", "cntrl", "xdigit", "foo", "combining", "zz", "ALPHA", ""];

const TOKENS: ((r: () => number) => string)[] = [
  () => "*",
  () => "**",
  () => "?",
  () => "*?",
  () => "?*",
  (r) => pick(r, ALPHABET),
  (r) => pick(r, ALPHABET) + pick(r, ALPHABET),
  (r) => "\\" + pick(r, ALPHABET),
  () => "\\",
  (r) => "[" + bracketBody(r) + "]",
  (r) => "[" + bracketBody(r) + "]",
  (r) => "[" + bracketBody(r), // unterminated
  (r) => "[" + pick(r, ["!", "^", ""]) + "]" + bracketBody(r) + "]",
  (r) => "[[:" + pick(r, CLASSES) + ":]" + bracketBody(r) + "]",
  (r) => "[" + pick(r, ALPHABET) + "-" + pick(r, ALPHABET) + "]",
  (r) => "[!" + pick(r, ALPHABET) + "-" + pick(r, ALPHABET) + "]",
  (r) => "[[=" + pick(r, ALPHABET) + "=]" + "]",
  (r) => "[[." + pick(r, ALPHABET) + ".]" + pick(r, ["", "-", "-c", "-]", "-[.z.]"]) + "]",
  (r) => "[a-" + pick(r, ["", "\\", "\\]", "[.c.]", "[.cc.]", "[.", "]"]) + pick(r, ["", "]"]),
];

function bracketBody(r: () => number): string {
  let s = pick(r, ["", "", "!", "^", "]", "!]", "-", "\\"]);
  const n = Math.floor(r() * 4);
  for (let i = 0; i < n; i++) {
    const k = r();
    if (k < 0.4) s += pick(r, ALPHABET);
    else if (k < 0.6) s += pick(r, ALPHABET) + "-" + pick(r, ALPHABET);
    else if (k < 0.7) s += "[:" + pick(r, CLASSES) + ":]";
    else if (k < 0.75) s += "[=" + pick(r, ALPHABET) + "=]";
    else if (k < 0.8) s += "[." + pick(r, ALPHABET) + ".]";
    else if (k < 0.85) s += "[:" + pick(r, ALPHABET);
    else if (k < 0.9) s += "\\" + pick(r, ALPHABET);
    else s += "-";
  }
  return s;
}

function pick<T>(r: () => number, xs: readonly T[]): T {
  return xs[Math.floor(r() * xs.length)]!;
}

function randomString(r: () => number, max: number): string {
  const n = Math.floor(r() * max);
  let s = "";
  for (let i = 0; i < n; i++) s += pick(r, ALPHABET);
  return s;
}

/** A pattern of 0..6 tokens, and a string that is often built from the pattern's own pieces. */
export function genPair(r: () => number): [string, string] {
  const nt = Math.floor(r() * 7);
  const toks: string[] = [];
  for (let i = 0; i < nt; i++) toks.push(pick(r, TOKENS)(r));
  const pattern = toks.join("");
  let s: string;
  const k = r();
  if (k < 0.35) {
    s = randomString(r, 8);
  } else {
    // Instantiate: literal pieces stay, wildcards become random characters.
    s = "";
    for (const t of toks) {
      if (t.startsWith("*")) s += randomString(r, 4);
      else if (t === "?") s += pick(r, ALPHABET);
      else if (t.startsWith("[")) s += r() < 0.5 ? pick(r, ALPHABET) : t.slice(0, 2);
      else if (t.startsWith("\\") && t.length > 1) s += t.slice(1);
      else s += t;
    }
    if (k > 0.85 && s.length > 0) {
      const i = Math.floor(r() * s.length);
      s = s.slice(0, i) + pick(r, ALPHABET) + s.slice(i + 1);
    }
  }
  return [pattern, s];
}
