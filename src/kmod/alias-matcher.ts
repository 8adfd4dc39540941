// A precomputed structure that answers index_mm_searchwild (libkmod-index.c) exactly, but fast,
// for keys that contain none of `*`, `?`, `[` (every real modalias).
//
// Why it is exact: with such a key the trie walk never descends into a wildcard child by key
// bytes, so a stored pattern P is reported iff
//   - P has no wildcard and P == key (the exact node, reported last), or
//   - P's first wildcard is at w, P[0..w) == key[0..w) byte for byte, and
//     fnmatch(P[w..], key[w..]) — the pattern suffix index_mm_searchwild_all rebuilds.
// Discovery order (which decides equal-priority ties, as add_value inserts before equals) is:
// by w ascending, then the post-order DFS rank of P (children ascending, a node after its
// children); exact match last. Candidates are found through maps keyed by the literal prefix,
// then filtered by a literal tail (pattern ends with a plain run S: the key must end with S) or a
// 4-byte gram of the last plain run before a trailing `*` (the key must contain it), and only then
// tested with fnmatch.
import { fnmatch } from "./fnmatch.ts";
import { compileGlob, type CompiledGlob } from "./glob-compiled.ts";
import { addValue, type IndexValue } from "./index-value.ts";

interface Entry {
  pattern: string;
  w: number;
  rank: number;
  values: IndexValue[];
  stamp: number;
  /** Matcher for pattern[w..] (compiled glob, or fnmatch for brackets/escapes). */
  match: CompiledGlob;
}

interface PrefixNode {
  /** Bytes after the edge byte that led here (path compression, as in the kmod trie). */
  label: string;
  children: Map<number, PrefixNode>;
  group: Group | null;
}

/** Merges single-child nodes without a group into their child (a Patricia trie). */
function compress(n: PrefixNode): void {
  for (const c of n.children.values()) compress(c);
  while (n.group === null && n.children.size === 1 && n !== undefined) {
    const [[ch, c]] = [...n.children] as [[number, PrefixNode]];
    n.label += String.fromCharCode(ch) + c.label;
    n.children = c.children;
    n.group = c.group;
  }
}

interface Group {
  /** Candidates checked with fnmatch directly. */
  residual: Entry[];
  /** Plain literal tail → candidates, grouped by tail length. */
  tails: Map<number, Map<string, Entry[]>>;
  /** A 4-byte gram (packed big-endian) the key must contain → candidates. */
  grams: Map<number, Entry[]>;
  /** 65,536-bit filter over `grams` keys: most key positions are rejected without a Map probe. */
  gramBits: Uint32Array;
}

const GRAM = 4;
const SMALL_GROUP = 12;

function isSpecial(c: number): boolean {
  return c === 42 || c === 63 || c === 91 || c === 93 || c === 92; // * ? [ ] \
}

/**
 * Four bytes of `s` at `k`, 7 bits each (28 bits: always a small integer, so Map lookups do not
 * allocate). Bytes >= 0x80 may collide; candidates are verified by the matcher anyway.
 */
function packGram(s: string, k: number): number {
  return ((s.charCodeAt(k) & 0x7f) << 21) | ((s.charCodeAt(k + 1) & 0x7f) << 14) | ((s.charCodeAt(k + 2) & 0x7f) << 7) | (s.charCodeAt(k + 3) & 0x7f);
}

/** Post-order comparison: first differing byte decides; a proper prefix comes AFTER. */
function postOrderCmp(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return x - y;
  }
  return b.length - a.length;
}

export class AliasMatcher {
  private readonly exact = new Map<string, IndexValue[]>();
  /** Literal prefixes (pattern[0..w)) as a byte trie; a node at depth w holds that group. */
  private readonly prefixes: PrefixNode = { label: "", children: new Map(), group: null };
  private stamp = 0;
  private readonly hits: Entry[] = [];

  constructor(entries: { key: string; values: IndexValue[] }[]) {
    const wild: Entry[] = [];
    for (const e of entries) {
      let w = -1;
      for (let i = 0; i < e.key.length; i++) {
        const c = e.key.charCodeAt(i);
        if (c === 42 || c === 63 || c === 91) {
          w = i;
          break;
        }
      }
      if (w < 0) this.exact.set(e.key, e.values);
      else {
        const suffix = e.key.slice(w);
        const compiled = compileGlob(suffix);
        wild.push({ pattern: e.key, w, rank: 0, values: e.values, stamp: 0, match: compiled ?? ((k) => fnmatch(suffix, k)) });
      }
    }
    wild.sort((a, b) => postOrderCmp(a.pattern, b.pattern));
    wild.forEach((e, i) => (e.rank = i));
    const raw = new Map<number, Map<string, Entry[]>>();
    for (const e of wild) {
      let m = raw.get(e.w);
      if (!m) raw.set(e.w, (m = new Map<string, Entry[]>()));
      const p = e.pattern.slice(0, e.w);
      const l = m.get(p);
      if (l) l.push(e);
      else m.set(p, [e]);
    }
    for (const m of raw.values()) {
      for (const [p, list] of m) {
        let node = this.prefixes;
        for (let i = 0; i < p.length; i++) {
          const c = p.charCodeAt(i);
          let n = node.children.get(c);
          if (!n) node.children.set(c, (n = { label: "", children: new Map(), group: null }));
          node = n;
        }
        node.group = AliasMatcher.group(list);
      }
    }
    for (const c of this.prefixes.children.values()) compress(c);
  }

  private static group(list: Entry[]): Group {
    const g: Group = { residual: [], tails: new Map(), grams: new Map(), gramBits: new Uint32Array(0) };
    if (list.length <= SMALL_GROUP) {
      g.residual = list;
      return g;
    }
    // For each pattern: a plain literal tail (suffix test), else its plain runs of >= GRAM bytes
    // (the key must contain each of them), else residual.
    const plan: { e: Entry; tail: string | null; runs: string[] }[] = [];
    const gramCount = new Map<number, number>();
    for (const e of list) {
      const p = e.pattern;
      const runs: string[] = [];
      let i = e.w;
      while (i < p.length) {
        while (i < p.length && isSpecial(p.charCodeAt(i))) i++;
        let j = i;
        while (j < p.length && !isSpecial(p.charCodeAt(j))) j++;
        if (j > i) runs.push(p.slice(i, j));
        i = j;
      }
      const last = runs[runs.length - 1];
      const tail = last !== undefined && p.endsWith(last) && !isSpecial(p.charCodeAt(p.length - 1)) ? last : null;
      plan.push({ e, tail, runs });
      if (tail === null)
        for (const r of runs)
          for (let k = 0; k + GRAM <= r.length; k++) {
            const gm = packGram(r, k);
            gramCount.set(gm, (gramCount.get(gm) ?? 0) + 1);
          }
    }
    for (const { e, tail, runs } of plan) {
      if (tail !== null) {
        let t = g.tails.get(tail.length);
        if (!t) g.tails.set(tail.length, (t = new Map<string, Entry[]>()));
        const l = t.get(tail);
        if (l) l.push(e);
        else t.set(tail, [e]);
        continue;
      }
      // The rarest 4-byte gram of any run spreads the buckets best.
      let best: number | null = null;
      let bestN = Infinity;
      for (const r of runs)
        for (let k = 0; k + GRAM <= r.length; k++) {
          const gm = packGram(r, k);
          const n = gramCount.get(gm) ?? 0;
          if (n < bestN) [best, bestN] = [gm, n];
        }
      if (best === null) {
        g.residual.push(e);
        continue;
      }
      const l = g.grams.get(best);
      if (l) l.push(e);
      else g.grams.set(best, [e]);
    }
    if (g.grams.size > 0) {
      g.gramBits = new Uint32Array(2048);
      for (const h of g.grams.keys()) {
        const bit = (h ^ (h >>> 13)) & 0xffff;
        g.gramBits[bit >>> 5]! |= 1 << (bit & 31);
      }
    }
    return g;
  }

  /** Whether the fast path is exact for this key (no wildcard bytes in it). */
  static applies(key: string): boolean {
    for (let i = 0; i < key.length; i++) {
      const c = key.charCodeAt(i);
      if (c === 42 || c === 63 || c === 91 || c === 0) return false;
    }
    return true;
  }

  /** index_mm_searchwild(key) for a key without `*`, `?`, `[`. */
  search(key: string): IndexValue[] {
    const hits = this.hits;
    hits.length = 0;
    const stamp = ++this.stamp;
    let subW = -1;
    let sub = "";
    const test = (e: Entry): void => {
      if (e.stamp === stamp) return;
      e.stamp = stamp;
      if (e.w !== subW) {
        subW = e.w;
        sub = key.slice(e.w);
      }
      if (e.match(sub)) hits.push(e);
    };
    let node: PrefixNode | undefined = this.prefixes;
    for (let w = 0; node; w++) {
      if (node.label !== "") {
        if (!key.startsWith(node.label, w)) break;
        w += node.label.length;
      }
      const g = node.group;
      if (g) {
        for (const e of g.residual) test(e);
        for (const [len, t] of g.tails) {
          if (len > key.length - w) continue;
          const l = t.get(key.slice(key.length - len));
          if (l) for (const e of l) test(e);
        }
        if (g.grams.size > 0 && key.length - w >= GRAM) {
          const bits = g.gramBits;
          let h = ((key.charCodeAt(w) & 0x7f) << 14) | ((key.charCodeAt(w + 1) & 0x7f) << 7) | (key.charCodeAt(w + 2) & 0x7f);
          for (let p = w; p + GRAM <= key.length; p++) {
            h = ((h << 7) & 0xfffffff) | (key.charCodeAt(p + 3) & 0x7f);
            const bit = (h ^ (h >>> 13)) & 0xffff;
            if ((bits[bit >>> 5]! & (1 << (bit & 31))) === 0) continue;
            const l = g.grams.get(h);
            if (l) for (const e of l) test(e);
          }
        }
      }
      if (w >= key.length) break;
      node = node.children.get(key.charCodeAt(w));
    }
    if (hits.length > 1) hits.sort((a, b) => a.w - b.w || a.rank - b.rank);
    const out: IndexValue[] = [];
    for (const h of hits) for (const v of h.values) addValue(out, v.value, v.priority);
    hits.length = 0;
    const ex = this.exact.get(key);
    if (ex) for (const v of ex) addValue(out, v.value, v.priority);
    return out;
  }
}
