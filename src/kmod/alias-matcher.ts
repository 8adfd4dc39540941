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

// PCI fast path. file2alias's do_pci_entry writes fixed-layout patterns
// `pci:v%08Xd%08Xsv%08Xsd%08Xbc%02Xsc%02Xi%02X` (or `vfio_pci:`) whose fields are each either
// upper-case hex or a whole `*` (class bytes masked to 00/FF, so never half a field), with an
// optional trailing `*`. A device key has the same layout with every field hex. Lower-case field
// separators never occur in upper-case hex, so for such a key fnmatch(pattern, key) holds iff every
// non-`*` field is equal: the fields are compared directly, candidates found by (vendor, device).
const PCI_FIELDS: readonly (readonly [string, number])[] = [["v", 8], ["d", 8], ["sv", 8], ["sd", 8], ["bc", 2], ["sc", 2], ["i", 2]];

const PCI_SEP: readonly (readonly number[])[] = PCI_FIELDS.map(([sep]) => Array.from({ length: sep.length }, (_, k) => sep.charCodeAt(k)));
const PCI_LEN: readonly number[] = PCI_FIELDS.map(([, n]) => n);

function hexVal(c: number): number {
  return c >= 48 && c <= 57 ? c - 48 : c >= 65 && c <= 70 ? c - 55 : -1;
}

/**
 * The 7 fields of a fixed-layout PCI alias from `start` (after the prefix) into `out` as numbers,
 * -1 for `*` (only when `allowWild`); false when `s` is not that layout. Allocation-free.
 */
function parsePciLayout(s: string, start: number, allowWild: boolean, out: Float64Array | number[]): boolean {
  let i = start;
  for (let f = 0; f < 7; f++) {
    const sep = PCI_SEP[f]!;
    for (let k = 0; k < sep.length; k++) if (s.charCodeAt(i + k) !== sep[k]) return false;
    i += sep.length;
    if (allowWild && s.charCodeAt(i) === 42) {
      out[f] = -1;
      i++;
      continue;
    }
    let v = 0;
    for (let k = PCI_LEN[f]!; k > 0; k--) {
      const h = hexVal(s.charCodeAt(i++));
      if (h < 0) return false;
      v = v * 16 + h;
    }
    out[f] = v;
  }
  if (allowWild && i === s.length - 1 && s.charCodeAt(i) === 42) i++;
  return i === s.length;
}

interface PciEntry {
  e: Entry;
  /** sv, sd, bc, sc, i (-1 = any). */
  sv: number;
  sd: number;
  bc: number;
  sc: number;
  i: number;
}

class PciIndex {
  /** vendor → device → entries (both exact). */
  readonly byVd = new Map<number, Map<number, PciEntry[]>>();
  readonly byV = new Map<number, PciEntry[]>();
  readonly byD = new Map<number, PciEntry[]>();
  readonly any: PciEntry[] = [];
  readonly all: Entry[] = [];

  add(e: Entry, f: number[]): void {
    const pe: PciEntry = { e, sv: f[2]!, sd: f[3]!, bc: f[4]!, sc: f[5]!, i: f[6]! };
    this.all.push(e);
    const [v, d] = [f[0]!, f[1]!];
    const push = (m: Map<number, PciEntry[]>, k: number): void => {
      const l = m.get(k);
      if (l) l.push(pe);
      else m.set(k, [pe]);
    };
    if (v >= 0 && d >= 0) {
      let m = this.byVd.get(v);
      if (!m) this.byVd.set(v, (m = new Map<number, PciEntry[]>()));
      push(m, d);
    } else if (v >= 0) push(this.byV, v);
    else if (d >= 0) push(this.byD, d);
    else this.any.push(pe);
  }

  private static scan(l: PciEntry[] | undefined, k: Float64Array, out: Entry[]): void {
    if (!l) return;
    for (const pe of l) {
      if ((pe.sv < 0 || pe.sv === k[2]) && (pe.sd < 0 || pe.sd === k[3]) && (pe.bc < 0 || pe.bc === k[4]) && (pe.sc < 0 || pe.sc === k[5]) && (pe.i < 0 || pe.i === k[6])) out.push(pe.e);
    }
  }

  /** Entries matching a fixed-layout key with fields `k`. */
  collect(k: Float64Array, out: Entry[]): void {
    PciIndex.scan(this.byVd.get(k[0]!)?.get(k[1]!), k, out);
    PciIndex.scan(this.byV.get(k[0]!), k, out);
    PciIndex.scan(this.byD.get(k[1]!), k, out);
    PciIndex.scan(this.any, k, out);
  }
}

export class AliasMatcher {
  private readonly exact = new Map<string, IndexValue[]>();
  /** Literal prefixes (pattern[0..w)) as a byte trie; a node at depth w holds that group. */
  private readonly prefixes: PrefixNode = { label: "", children: new Map(), group: null };
  private stamp = 0;
  private readonly hits: Entry[] = [];
  /** Fixed-layout `pci:` / `vfio_pci:` patterns, kept out of the prefix trie. */
  private readonly pci = new Map<string, PciIndex>();
  private readonly pciKey = new Float64Array(7);

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
      const prefix = e.pattern.startsWith("pci:") ? "pci:" : e.pattern.startsWith("vfio_pci:") ? "vfio_pci:" : null;
      const f: number[] = [];
      if (prefix !== null && parsePciLayout(e.pattern, prefix.length, true, f)) {
        let idx = this.pci.get(prefix);
        if (!idx) this.pci.set(prefix, (idx = new PciIndex()));
        idx.add(e, f);
        continue;
      }
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
  private curKey = "";
  private curStamp = 0;
  private subW = -1;
  private sub = "";

  /** One candidate: report it once per search if its pattern suffix matches the key's. */
  private test(e: Entry): void {
    if (e.stamp === this.curStamp) return;
    e.stamp = this.curStamp;
    if (e.w !== this.subW) {
      this.subW = e.w;
      this.sub = this.curKey.slice(e.w);
    }
    if (e.match(this.sub)) this.hits.push(e);
  }

  /** index_mm_searchwild(key) for a key without `*`, `?`, `[`. */
  search(key: string): IndexValue[] {
    const hits = this.hits;
    hits.length = 0;
    const stamp = ++this.stamp;
    this.curStamp = stamp;
    this.curKey = key;
    this.subW = -1;
    if (this.pci.size > 0) {
      const prefix = key.startsWith("pci:") ? "pci:" : key.startsWith("vfio_pci:") ? "vfio_pci:" : null;
      const idx = prefix !== null ? this.pci.get(prefix) : undefined;
      if (idx) {
        const kf = this.pciKey;
        if (parsePciLayout(key, prefix!.length, false, kf)) {
          idx.collect(kf, hits);
          for (const e of hits) e.stamp = stamp;
        } else for (const e of idx.all) if (key.startsWith(e.pattern.slice(0, e.w))) this.test(e); // any other key shape: fnmatch
      }
    }
    let node: PrefixNode | undefined = this.prefixes;
    for (let w = 0; node; w++) {
      if (node.label !== "") {
        if (!key.startsWith(node.label, w)) break;
        w += node.label.length;
      }
      const g = node.group;
      if (g) {
        for (const e of g.residual) this.test(e);
        for (const [len, t] of g.tails) {
          if (len > key.length - w) continue;
          const l = t.get(key.slice(key.length - len));
          if (l) for (const e of l) this.test(e);
        }
        if (g.grams.size > 0 && key.length - w >= GRAM) {
          const bits = g.gramBits;
          let h = ((key.charCodeAt(w) & 0x7f) << 14) | ((key.charCodeAt(w + 1) & 0x7f) << 7) | (key.charCodeAt(w + 2) & 0x7f);
          for (let p = w; p + GRAM <= key.length; p++) {
            h = ((h << 7) & 0xfffffff) | (key.charCodeAt(p + 3) & 0x7f);
            const bit = (h ^ (h >>> 13)) & 0xffff;
            if ((bits[bit >>> 5]! & (1 << (bit & 31))) === 0) continue;
            const l = g.grams.get(h);
            if (l) for (const e of l) this.test(e);
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
