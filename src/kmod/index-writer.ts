// depmod's `.bin` index writer (tools/depmod.c index_insert + index_write), built from sorted keys.
//
// depmod inserts keys one by one into a radix trie and writes it post-order (children before their
// parent). That trie does not depend on the insertion order: the root's prefix is always empty
// (index_create), and every other node's prefix is the longest common prefix of the key suffixes
// below it, because index_insert only splits a node where a key diverges from, or ends inside, its
// prefix. So the same bytes come from the sorted, distinct keys: a range of keys sharing `depth`
// bytes is one node whose prefix runs to the range's longest common prefix (that of its first and
// last key); a key ending there holds the node's values; the rest split by their next byte into
// children. Values per key keep index_add_value's order (priority, then reverse insertion for
// ties). `IndexBuilder` in index-bin.ts is the insertion-order trie, kept as the reference:
// test/kmod/index-writer.test.ts checks both give the same bytes.
import { KbindError } from "../model/errors.ts";
import { addValue, type IndexValue } from "./index-value.ts";

const INDEX_MAGIC = 0xb007f457;
const INDEX_VERSION = 0x00020001;
const NODE_PREFIX = 0x80000000;
const NODE_VALUES = 0x40000000;
const NODE_CHILDS = 0x20000000;

/** Bytes ≥ 0x80 (depmod's index only takes 7-bit ASCII). */
const NON_ASCII = /[^\x00-\x7f]/;

export class IndexWriter {
  readonly name: string;
  private readonly byKey = new Map<string, IndexValue[]>();
  private buf = new Uint8Array(0);
  private len = 0;

  constructor(name = "index") {
    this.name = name;
  }

  private check(s: string): void {
    if (!NON_ASCII.test(s)) return;
    const i = s.search(NON_ASCII);
    throw new KbindError("INDEX_BAD_CHAR", `Module index: bad character '${s[i]!}'=0x${s.charCodeAt(i).toString(16)} - only 7-bit ASCII is supported:\n${s}`, { file: this.name, offset: i });
  }

  /** index_insert: returns true when the key already held the same value (depmod -w warns). */
  insert(key: string, value: string, priority: number): boolean {
    this.check(key);
    this.check(value);
    const values = this.byKey.get(key);
    if (values === undefined) {
      this.byKey.set(key, [{ priority, value }]);
      return false;
    }
    let duplicate = false;
    for (const v of values) if (v.value === value) duplicate = true;
    addValue(values, value, priority);
    return duplicate;
  }

  private reserve(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let cap = Math.max(1 << 16, this.buf.length * 2);
    while (cap < this.len + n) cap *= 2;
    const nb = new Uint8Array(cap);
    nb.set(this.buf.subarray(0, this.len));
    this.buf = nb;
  }

  private u32(v: number): void {
    const b = this.buf;
    b[this.len++] = (v >>> 24) & 0xff;
    b[this.len++] = (v >>> 16) & 0xff;
    b[this.len++] = (v >>> 8) & 0xff;
    b[this.len++] = v & 0xff;
  }

  /** Bytes [from, to) of a one-char-per-byte string, then a NUL (space reserved by the caller). */
  private cstr(s: string, from: number, to: number): void {
    const b = this.buf;
    let n = this.len;
    for (let i = from; i < to; i++) b[n++] = s.charCodeAt(i);
    b[n++] = 0;
    this.len = n;
  }

  /** index_write: header, post-order nodes, root offset in the header. */
  write(): Uint8Array {
    const keys = [...this.byKey.keys()].sort(); // UTF-16 unit order = byte order (7-bit keys)
    this.buf = new Uint8Array(0);
    this.len = 0;
    this.reserve(12);
    this.u32(INDEX_MAGIC);
    this.u32(INDEX_VERSION);
    this.u32(0);
    const root = keys.length === 0 ? this.len : this.node(keys, 0, keys.length, 0, true);
    const end = this.len;
    this.len = 8;
    this.u32(root);
    return this.buf.slice(0, end);
  }

  /** keys[lo, hi) share their first `depth` bytes; returns the node's offset word. */
  private node(keys: string[], lo: number, hi: number, depth: number, root: boolean): number {
    const a = keys[lo]!;
    let pos = depth;
    if (!root) {
      const z = keys[hi - 1]!;
      const n = Math.min(a.length, z.length);
      while (pos < n && a.charCodeAt(pos) === z.charCodeAt(pos)) pos++;
    }
    let values: IndexValue[] | undefined;
    let i = lo;
    if (a.length === pos) {
      values = this.byKey.get(a)!;
      i++;
    }
    let first = 0;
    let childOffs: number[] | undefined;
    if (i < hi) {
      first = keys[i]!.charCodeAt(pos);
      const last = keys[hi - 1]!.charCodeAt(pos);
      childOffs = new Array<number>(last - first + 1).fill(0);
      while (i < hi) {
        const ch = keys[i]!.charCodeAt(pos);
        let j = i + 1;
        while (j < hi && keys[j]!.charCodeAt(pos) === ch) j++;
        childOffs[ch - first] = this.node(keys, i, j, pos + 1, false);
        i = j;
      }
    }
    let size = pos > depth ? pos - depth + 1 : 0;
    if (childOffs) size += 2 + 4 * childOffs.length;
    if (values) {
      size += 4;
      for (const v of values) size += 5 + v.value.length;
    }
    this.reserve(size);
    let word = this.len;
    if (pos > depth) {
      this.cstr(a, depth, pos);
      word |= NODE_PREFIX;
    }
    if (childOffs) {
      this.buf[this.len++] = first;
      this.buf[this.len++] = first + childOffs.length - 1;
      for (const o of childOffs) this.u32(o);
      word |= NODE_CHILDS;
    }
    if (values) {
      this.u32(values.length);
      for (const v of values) {
        this.u32(v.priority);
        this.cstr(v.value, 0, v.value.length);
      }
      word |= NODE_VALUES;
    }
    return word >>> 0;
  }
}
