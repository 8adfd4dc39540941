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
import type { IndexValue } from "./index-value.ts";
import { PciTable, type PciPatternFields } from "./alias-pci-table.ts";

interface Entry {
  pattern: string;
  w: number;
  rank: number;
  values: IndexValue[];
  /** add_value over `values` alone: the answer when this pattern is the only one reported. */
  solo: readonly IndexValue[];
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
// non-`*` field is equal: the fields are compared directly, candidates found by (vendor, device)
// in flat typed-array tables (alias-pci-table.ts). When no other pattern can match such a key (no
// prefix-trie pattern agrees with its prefix, no wildcard-free `pci:` pattern), the table's
// answer is the whole answer.
// Per field: first and second separator byte (0: none), hex digit count.
const PCI_SEP1 = Uint8Array.from([118, 100, 115, 115, 98, 115, 105]); // v d s s b s i
const PCI_SEP2 = Uint8Array.from([0, 0, 118, 100, 99, 99, 0]); //        -  - v d c c -
const PCI_LEN = Uint8Array.from([8, 8, 8, 8, 2, 2, 2]);
/** Bytes of the layout after the prefix: v%08X d%08X sv%08X sd%08X bc%02X sc%02X i%02X. */
const PCI_BODY = 49;

/** Upper-case hex digit value by byte, -1 otherwise (file2alias prints %X; a device key is upper case). */
const HEX = new Int8Array(256).fill(-1);
for (let c = 48; c <= 57; c++) HEX[c] = c - 48;
for (let c = 65; c <= 70; c++) HEX[c] = c - 55;

const UTF8 = new TextEncoder();
/** A device key's bytes (every layout key is shorter: `vfio_pci:` + PCI_BODY). */
const KEY_BYTES = new Uint8Array(64);

/**
 * A device key's 7 fields from `start` (after the prefix) into `out` as int32 (a %08X field's
 * top bit wraps; both sides wrap alike); false when `s` is not that layout with every field hex.
 * Monomorphic; this runs once per lookup.
 */
function parsePciKey(s: string, start: number, out: Int32Array): boolean {
  if (s.length !== start + PCI_BODY) return false;
  // One native copy of the key into bytes, then plain array reads: cheaper than a charCodeAt
  // per character (the key is often a slice of a larger string). A character above U+007F
  // becomes two or more bytes: the length no longer fits and the key is not the layout.
  const b = KEY_BYTES;
  if (UTF8.encodeInto(s, b).written !== s.length) return false;
  let i = start;
  for (let f = 0; f < 7; f++) {
    if (b[i++] !== PCI_SEP1[f]) return false;
    const sep2 = PCI_SEP2[f]!;
    if (sep2 !== 0 && b[i++] !== sep2) return false;
    let v = 0;
    for (let k = PCI_LEN[f]!; k > 0; k--) {
      const h = HEX[b[i++]!]!;
      if (h < 0) return false;
      v = (v << 4) | h;
    }
    out[f] = v;
  }
  return true;
}

/**
 * A stored pattern's 7 fields (build time only): int32 values and a bit per literal field;
 * null when the pattern is not the fixed layout (each field hex or a whole `*`, optional
 * trailing `*`).
 */
function parsePciPattern(s: string, start: number): { vals: Int32Array; literal: number } | null {
  const vals = new Int32Array(7);
  let literal = 0;
  let i = start;
  for (let f = 0; f < 7; f++) {
    if (s.charCodeAt(i++) !== PCI_SEP1[f]) return null;
    const sep2 = PCI_SEP2[f]!;
    if (sep2 !== 0 && s.charCodeAt(i++) !== sep2) return null;
    if (s.charCodeAt(i) === 42) {
      i++;
      continue;
    }
    let v = 0;
    for (let k = PCI_LEN[f]!; k > 0; k--) {
      const c = s.charCodeAt(i++);
      const h = c < 128 ? HEX[c]! : -1;
      if (h < 0) return null;
      v = (v << 4) | h;
    }
    vals[f] = v;
    literal |= 1 << f;
  }
  if (i === s.length - 1 && s.charCodeAt(i) === 42) i++;
  return i === s.length ? { vals, literal } : null;
}

/** The fixed-layout patterns under one prefix (`pci:` or `vfio_pci:`). */
interface PciIndex {
  table: PciTable;
  /** Entry number (as the table reports it) → entry. */
  entries: Entry[];
  /** Entry number → its `solo` answer (one hop less than through `entries` on the common path). */
  solos: (readonly IndexValue[])[];
  /** Whether a prefix-trie pattern can match a key with this prefix (else the walk is skipped). */
  trie: boolean;
}

export class AliasMatcher {
  /** Wildcard-free patterns → add_value over their values. */
  private readonly exact = new Map<string, { values: readonly IndexValue[]; solo: readonly IndexValue[] }>();
  /** Literal prefixes (pattern[0..w)) as a byte trie; a node at depth w holds that group. */
  private readonly prefixes: PrefixNode = { label: "", children: new Map(), group: null };
  private stamp = 0;
  private readonly hits: Entry[] = [];
  /** Fixed-layout `pci:` / `vfio_pci:` patterns, kept out of the prefix trie. */
  private readonly pci = new Map<string, PciIndex>();
  private readonly pciKey = new Int32Array(7);
  /** Entry numbers one PCI lookup reports (as many as the largest table has rows). */
  private pciHits = new Int32Array(0);
  /** Whether any wildcard-free pattern starts with `pci:` / `vfio_pci:` (else a PCI key skips `exact`). */
  private exactPci = false;

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
      if (w < 0) {
        this.exact.set(e.key, { values: e.values, solo: addValues([], e.values) });
        if (e.key.startsWith("pci:") || e.key.startsWith("vfio_pci:")) this.exactPci = true;
      }
      else {
        const suffix = e.key.slice(w);
        const compiled = compileGlob(suffix);
        wild.push({ pattern: e.key, w, rank: 0, values: e.values, solo: addValues([], e.values), stamp: 0, match: compiled ?? ((k) => fnmatch(suffix, k)) });
      }
    }
    wild.sort((a, b) => postOrderCmp(a.pattern, b.pattern));
    wild.forEach((e, i) => (e.rank = i));
    const raw = new Map<number, Map<string, Entry[]>>();
    const pciFields = new Map<string, { entries: Entry[]; fields: PciPatternFields[] }>();
    for (const e of wild) {
      const prefix = e.pattern.startsWith("pci:") ? "pci:" : e.pattern.startsWith("vfio_pci:") ? "vfio_pci:" : null;
      const f = prefix !== null ? parsePciPattern(e.pattern, prefix.length) : null;
      if (prefix !== null && f !== null) {
        let l = pciFields.get(prefix);
        if (!l) pciFields.set(prefix, (l = { entries: [], fields: [] }));
        l.entries.push(e);
        l.fields.push(f);
        continue;
      }
      let m = raw.get(e.w);
      if (!m) raw.set(e.w, (m = new Map<string, Entry[]>()));
      const p = e.pattern.slice(0, e.w);
      const l = m.get(p);
      if (l) l.push(e);
      else m.set(p, [e]);
    }
    for (const [prefix, { entries, fields }] of pciFields) {
      // Entry numbers in discovery order: sorting a lookup's numbers sorts its hits.
      const order = entries.map((_, i) => i).sort((a, b) => discoveryOrder(entries[a]!, entries[b]!));
      const sortedEntries = order.map((i) => entries[i]!);
      const sortedFields = order.map((i) => fields[i]!);
      // A trie pattern is reported only if its literal prefix starts the key: for a key that
      // starts with `prefix`, that needs the two to agree on their common length.
      let trie = false;
      for (const m of raw.values()) for (const p of m.keys()) if (p.startsWith(prefix) || prefix.startsWith(p)) trie = true;
      const table = new PciTable(sortedFields);
      this.pci.set(prefix, { table, entries: sortedEntries, solos: sortedEntries.map((e) => e.solo), trie });
      if (table.size > this.pciHits.length) this.pciHits = new Int32Array(table.size);
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
    return !(key.includes("*") || key.includes("?") || key.includes("[") || key.includes("\0"));
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

  /**
   * index_mm_searchwild(key) for a key without `*`, `?`, `[`. The result may be shared with later
   * calls: callers must not modify it.
   */
  search(key: string): readonly IndexValue[] {
    const hits = this.hits;
    if (hits.length !== 0) hits.length = 0; // only after an exception: every return empties it
    const stamp = ++this.stamp;
    this.curStamp = stamp;
    this.curKey = key;
    this.subW = -1;
    let pciKey = false;
    let walk = true;
    if (this.pci.size > 0) {
      const prefix = key.startsWith("pci:") ? "pci:" : key.startsWith("vfio_pci:") ? "vfio_pci:" : null;
      const idx = prefix !== null ? this.pci.get(prefix) : undefined;
      if (idx) {
        // PCI-table entries are never in the prefix trie, so no stamps are needed on this path.
        if (parsePciKey(key, prefix!.length, this.pciKey)) {
          const found = this.pciHits;
          const n = idx.table.collect(this.pciKey, found, 0);
          if (!idx.trie && !this.exactPci) return pciAnswer(idx, found, n);
          for (let i = 0; i < n; i++) hits.push(idx.entries[found[i]!]!);
          pciKey = true;
          walk = idx.trie;
        }
        else for (const e of idx.entries) if (key.startsWith(e.pattern.slice(0, e.w))) this.test(e); // any other key shape: fnmatch
      }
    }
    let node: PrefixNode | undefined = walk ? this.prefixes : undefined;
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
    const ex = pciKey && !this.exactPci ? undefined : this.exact.get(key);
    if (hits.length === 0) return ex?.solo ?? NO_VALUES;
    if (hits.length === 1 && ex === undefined) {
      const only = hits[0]!.solo;
      hits.length = 0;
      return only;
    }
    if (hits.length > 1) hits.sort(discoveryOrder);
    const out: IndexValue[] = [];
    for (const h of hits) addValues(out, h.values);
    hits.length = 0;
    if (ex) addValues(out, ex.values);
    return out;
  }
}

const NO_VALUES: readonly IndexValue[] = [];

/**
 * The answer when only PCI-table entries can match: `found[0..n)` are entry numbers, which
 * follow discovery order, so sorting them (insertion sort: n is small) orders the hits.
 */
function pciAnswer(idx: PciIndex, found: Int32Array, n: number): readonly IndexValue[] {
  if (n === 0) return NO_VALUES;
  if (n === 1) return idx.solos[found[0]!]!;
  const entries = idx.entries;
  for (let i = 1; i < n; i++) {
    const x = found[i]!;
    let j = i - 1;
    while (j >= 0 && found[j]! > x) {
      found[j + 1] = found[j]!;
      j--;
    }
    found[j + 1] = x;
  }
  const out: IndexValue[] = [];
  for (let i = 0; i < n; i++) addValues(out, entries[found[i]!]!.values);
  return out;
}

/** The order index_mm_searchwild reports patterns in: first wildcard position, then DFS rank. */
function discoveryOrder(a: Entry, b: Entry): number {
  return a.w - b.w || a.rank - b.rank;
}

/**
 * add_value for each of `values` in turn (libkmod-index.c): sorted by priority, an equal priority
 * before the equal ones already there. The IndexValue objects are shared, not copied.
 */
function addValues(out: IndexValue[], values: readonly IndexValue[]): IndexValue[] {
  for (const v of values) {
    let i = 0;
    while (i < out.length && out[i]!.priority < v.priority) i++;
    if (i === out.length) out.push(v);
    else out.splice(i, 0, v);
  }
  return out;
}
