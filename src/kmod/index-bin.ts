// The kmod `.bin` index: a radix trie of 7-bit keys with prioritised string values.
// Reader: libkmod/libkmod-index.c (index_mm_open, index_mm_read_node, index_mm_search,
// index_mm_searchwild, index_mm_dump). Writer: tools/depmod.c (index_create, index_insert,
// index_add_value, index_write__node — post-order, children before their parent).
import { KbindError } from "../model/errors.ts";
import { ByteWriter, bytesToLatin1 } from "./bytes.ts";
import { AliasMatcher } from "./alias-matcher.ts";
import { fnmatch } from "./fnmatch.ts";
import { addValue, type IndexValue } from "./index-value.ts";

export const INDEX_MAGIC = 0xb007f457;
export const INDEX_VERSION = 0x00020001;
const INDEX_VERSION_MAJOR = 0x0002;
const NODE_PREFIX = 0x80000000;
const NODE_VALUES = 0x40000000;
const NODE_CHILDS = 0x20000000;
const NODE_MASK = 0x0fffffff;
const CHILDMAX = 128;

export type { IndexValue } from "./index-value.ts";
export { addValue } from "./index-value.ts";

export interface IndexNode {
  prefix: string;
  /** First child byte; CHILDMAX (128) when the node has no children. */
  first: number;
  last: number;
  children: (IndexNode | null)[];
  /** Values in stored order (the writer keeps them sorted by priority). */
  values: IndexValue[];
}

function readCString(b: Uint8Array, at: number, file: string): [string, number] {
  let end = at;
  while (end < b.length && b[end] !== 0) end++;
  if (end >= b.length) throw new KbindError("INDEX_CORRUPT", `${file}: string at offset ${at} runs past the end of the index`, { file, offset: at });
  // One flat string (a `+=` per byte would leave a rope that every later hash or compare walks).
  return [bytesToLatin1(b, at, end), end + 1];
}

/** A parsed `.bin` index (kmod's mmap reader, fully decoded up front). */
export class KmodIndex {
  readonly root: IndexNode | null;
  readonly file: string;

  constructor(root: IndexNode | null, file: string) {
    this.root = root;
    this.file = file;
  }

  /**
   * index_mm_open + node decoding. A short file, a bad magic or a major version other than 2 is
   * -EINVAL in libkmod; kbind raises INDEX_BAD_HEADER. A node offset outside the file or a cycle
   * (which would crash or hang libkmod's mmap reader) raises INDEX_CORRUPT.
   */
  static parse(bytes: Uint8Array, file = "index"): KmodIndex {
    if (bytes.length < 12) throw new KbindError("INDEX_BAD_HEADER", `${file}: shorter than the 12-byte index header (EINVAL)`, { file, offset: 0, errno: "EINVAL" });
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const magic = dv.getUint32(0);
    if (magic !== INDEX_MAGIC)
      throw new KbindError("INDEX_BAD_HEADER", `${file}: magic check fail: ${magic.toString(16)} instead of ${INDEX_MAGIC.toString(16)}`, { file, offset: 0, errno: "EINVAL" });
    const version = dv.getUint32(4);
    if (version >>> 16 !== INDEX_VERSION_MAJOR)
      throw new KbindError("INDEX_BAD_HEADER", `${file}: major version check fail: ${version >>> 16} instead of ${INDEX_VERSION_MAJOR}`, { file, offset: 4, errno: "EINVAL" });
    const rootOff = dv.getUint32(8);
    const onPath = new Set<number>();
    const readNode = (word: number): IndexNode | null => {
      const off = word & NODE_MASK;
      if (off === 0) return null;
      if (off > bytes.length || (off === bytes.length && (word & 0xf0000000) !== 0)) throw new KbindError("INDEX_CORRUPT", `${file}: node offset ${off} is past the end of the file (${bytes.length} bytes)`, { file, offset: off });
      if (onPath.has(off)) throw new KbindError("INDEX_CORRUPT", `${file}: node at offset ${off} is its own ancestor (cycle)`, { file, offset: off });
      onPath.add(off);
      let p = off;
      let prefix = "";
      if ((word & NODE_PREFIX) !== 0) [prefix, p] = readCString(bytes, p, file);
      let first = CHILDMAX;
      let last = 0;
      const children: (IndexNode | null)[] = [];
      if ((word & NODE_CHILDS) !== 0) {
        if (p + 2 > bytes.length) throw new KbindError("INDEX_CORRUPT", `${file}: child range at offset ${p} is truncated`, { file, offset: p });
        first = bytes[p]!;
        last = bytes[p + 1]!;
        p += 2;
        // index_mm_read_node reads first/last as (signed) char and rejects first > last.
        const sf = first > 127 ? first - 256 : first;
        const sl = last > 127 ? last - 256 : last;
        if (sf > sl) throw new KbindError("INDEX_CORRUPT", `${file}: child range ${first}..${last} at offset ${p - 2} is inverted`, { file, offset: p - 2 });
        // child_count = last - first + 1 on the signed chars (a range like 0xB1..0x75 passes the
        // signed check above; the unsigned difference would be negative).
        const count = sl - sf + 1;
        if (p + 4 * count > bytes.length) throw new KbindError("INDEX_CORRUPT", `${file}: child table at offset ${p} is truncated`, { file, offset: p });
        const words: number[] = [];
        for (let i = 0; i < count; i++) words.push(dv.getUint32(p + 4 * i));
        p += 4 * count;
        for (const w of words) children.push(readNode(w));
      }
      const values: IndexValue[] = [];
      if ((word & NODE_VALUES) !== 0) {
        if (p + 4 > bytes.length) throw new KbindError("INDEX_CORRUPT", `${file}: value count at offset ${p} is truncated`, { file, offset: p });
        const n = dv.getUint32(p);
        p += 4;
        if (n > bytes.length) throw new KbindError("INDEX_CORRUPT", `${file}: value count ${n} at offset ${p - 4} exceeds the file size`, { file, offset: p - 4 });
        for (let i = 0; i < n; i++) {
          if (p + 4 > bytes.length) throw new KbindError("INDEX_CORRUPT", `${file}: value at offset ${p} is truncated`, { file, offset: p });
          const priority = dv.getUint32(p);
          let value: string;
          [value, p] = readCString(bytes, p + 4, file);
          values.push({ priority, value });
        }
      }
      onPath.delete(off);
      return { prefix, first, last, children, values };
    };
    return new KmodIndex(readNode(rootOff), file);
  }

  private static child(node: IndexNode, ch: number): IndexNode | null {
    if (node.first <= ch && ch <= node.last) return node.children[ch - node.first] ?? null;
    return null;
  }

  /** index_mm_search: exact key, first stored value or null. */
  search(key: string): string | null {
    let node = this.root;
    let i = 0;
    while (node) {
      const pre = node.prefix;
      for (let j = 0; j < pre.length; j++) {
        if (pre.charCodeAt(j) !== key.charCodeAt(i + j)) return null;
      }
      i += pre.length;
      if (i >= key.length) return node.values.length > 0 ? node.values[0]!.value : null;
      node = KmodIndex.child(node, key.charCodeAt(i));
      i++;
    }
    return null;
  }

  private matcher: AliasMatcher | undefined;

  /**
   * index_mm_searchwild: every value whose key, read as an fnmatch pattern, matches `key`.
   * Keys without wildcard bytes (every real modalias) go through the precomputed AliasMatcher,
   * which gives the same list; others walk the trie like libkmod.
   */
  searchWild(key: string): readonly IndexValue[] {
    if (AliasMatcher.applies(key)) {
      this.matcher ??= new AliasMatcher(this.nodes());
      return this.matcher.search(key);
    }
    return this.searchWildTrie(key);
  }

  /** The trie walk of index_mm_searchwild_node, literally. */
  searchWildTrie(key: string): IndexValue[] {
    const out: IndexValue[] = [];
    let node = this.root;
    let i = 0;
    while (node) {
      const pre = node.prefix;
      for (let j = 0; j < pre.length; j++) {
        const ch = pre.charCodeAt(j);
        if (ch === 42 || ch === 63 || ch === 91) {
          searchAll(node, j, "", key.slice(i + j), out);
          return out;
        }
        if (ch !== key.charCodeAt(i + j)) return out;
      }
      i += pre.length;
      for (const wc of [42, 63, 91]) {
        const c = KmodIndex.child(node, wc);
        if (c) searchAll(c, 0, String.fromCharCode(wc), key.slice(i), out);
      }
      if (i >= key.length) {
        for (const v of node.values) addValue(out, v.value, v.priority);
        return out;
      }
      node = KmodIndex.child(node, key.charCodeAt(i));
      i++;
    }
    return out;
  }

  /** index_mm_dump: `<prefix><key> <value>\n` for every value, keys in trie (byte) order. */
  dump(prefix: string): string {
    const parts: string[] = [];
    const walk = (node: IndexNode, buf: string): void => {
      const b = buf + node.prefix;
      for (const v of node.values) parts.push(`${b} ${v.value}\n`);
      for (let ch = node.first; ch <= node.last; ch++) {
        const c = node.children[ch - node.first];
        if (c) walk(c, b + String.fromCharCode(ch));
      }
    };
    if (this.root) walk(this.root, prefix);
    return parts.join("");
  }

  /** Every key with its values in stored order, in trie (dump) order. */
  nodes(): { key: string; values: IndexValue[] }[] {
    const out: { key: string; values: IndexValue[] }[] = [];
    const walk = (node: IndexNode, buf: string): void => {
      const b = buf + node.prefix;
      if (node.values.length > 0) out.push({ key: b, values: node.values });
      for (let ch = node.first; ch <= node.last; ch++) {
        const c = node.children[ch - node.first];
        if (c) walk(c, b + String.fromCharCode(ch));
      }
    };
    if (this.root) walk(this.root, "");
    return out;
  }

  /** Every (key, value, priority) in trie order — for tests. */
  entries(): { key: string; value: string; priority: number }[] {
    const out: { key: string; value: string; priority: number }[] = [];
    const walk = (node: IndexNode, buf: string): void => {
      const b = buf + node.prefix;
      for (const v of node.values) out.push({ key: b, value: v.value, priority: v.priority });
      for (let ch = node.first; ch <= node.last; ch++) {
        const c = node.children[ch - node.first];
        if (c) walk(c, b + String.fromCharCode(ch));
      }
    };
    if (this.root) walk(this.root, "");
    return out;
  }
}

/** index_mm_searchwild_all: DFS below a wildcard; children first, then the node's own values. */
function searchAll(node: IndexNode, j: number, buf: string, subkey: string, out: IndexValue[]): void {
  const b = buf + node.prefix.slice(j);
  for (let ch = node.first; ch <= node.last; ch++) {
    const c = node.children[ch - node.first];
    if (c) searchAll(c, 0, b + String.fromCharCode(ch), subkey, out);
  }
  if (node.values.length > 0 && fnmatch(b, subkey)) {
    for (const v of node.values) addValue(out, v.value, v.priority);
  }
}

interface BuildNode {
  prefix: string;
  values: IndexValue[];
  first: number;
  last: number;
  children: Map<number, BuildNode>;
}

function newBuildNode(prefix: string): BuildNode {
  return { prefix, values: [], first: CHILDMAX, last: 0, children: new Map() };
}

/** depmod's in-memory index (tools/depmod.c index_insert / index_write). */
export class IndexBuilder {
  private readonly root = newBuildNode("");
  readonly name: string;

  constructor(name = "index") {
    this.name = name;
  }

  private check(s: string): void {
    for (let i = 0; i < s.length; i++) {
      const ch = s.charCodeAt(i);
      if (ch >= CHILDMAX)
        throw new KbindError("INDEX_BAD_CHAR", `Module index: bad character '${s[i]!}'=0x${ch.toString(16)} - only 7-bit ASCII is supported:\n${s}`, { file: this.name, offset: i });
    }
  }

  /** index_insert: returns true when the node already held the same value (depmod -w warns). */
  insert(key: string, value: string, priority: number): boolean {
    this.check(key);
    this.check(value);
    let node = this.root;
    let i = 0;
    for (;;) {
      const pre = node.prefix;
      let j = 0;
      for (; j < pre.length; j++) {
        const ch = pre.charCodeAt(j);
        if (ch !== key.charCodeAt(i + j)) {
          // Split: the node keeps prefix[0..j), a new child at prefix[j] takes the rest.
          const n: BuildNode = { prefix: pre.slice(j + 1), values: node.values, first: node.first, last: node.last, children: node.children };
          node.prefix = pre.slice(0, j);
          node.values = [];
          node.children = new Map([[ch, n]]);
          node.first = ch;
          node.last = ch;
          break;
        }
      }
      i += j;
      if (i >= key.length) return addBuildValue(node.values, value, priority);
      const ch = key.charCodeAt(i);
      const child = node.children.get(ch);
      if (!child) {
        if (ch < node.first) node.first = ch;
        if (ch > node.last) node.last = ch;
        const c = newBuildNode(key.slice(i + 1));
        addBuildValue(c.values, value, priority);
        node.children.set(ch, c);
        return false;
      }
      node = child;
      i++;
    }
  }

  /** index_write: header, post-order nodes, root offset patched into the header. */
  write(): Uint8Array {
    const w = new ByteWriter();
    w.u32be(INDEX_MAGIC);
    w.u32be(INDEX_VERSION);
    w.u32be(0);
    const writeNode = (node: BuildNode): number => {
      const hasChildren = node.first < CHILDMAX;
      const childOffs: number[] = [];
      if (hasChildren) {
        for (let ch = node.first; ch <= node.last; ch++) {
          const c = node.children.get(ch);
          childOffs.push(c ? writeNode(c) : 0);
        }
      }
      let offset = w.length;
      if (node.prefix.length > 0) {
        w.str(node.prefix);
        w.u8(0);
        offset |= NODE_PREFIX;
      }
      if (childOffs.length > 0) {
        w.u8(node.first);
        w.u8(node.last);
        for (const o of childOffs) w.u32be(o);
        offset |= NODE_CHILDS;
      }
      if (node.values.length > 0) {
        w.u32be(node.values.length);
        for (const v of node.values) {
          w.u32be(v.priority);
          w.str(v.value);
          w.u8(0);
        }
        offset |= NODE_VALUES;
      }
      return offset >>> 0;
    };
    const rootWord = writeNode(this.root);
    w.patchU32be(8, rootWord);
    return w.bytes();
  }
}

/** depmod's index_add_value: same insertion rule as libkmod's add_value; reports duplicates. */
function addBuildValue(values: IndexValue[], value: string, priority: number): boolean {
  const duplicate = values.some((v) => v.value === value);
  addValue(values, value, priority);
  return duplicate;
}
