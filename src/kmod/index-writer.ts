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

/** The first char ≥ 0x80 of `s` (depmod's index only takes 7-bit ASCII), or -1. */
function nonAscii(s: string): number {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return i;
  return -1;
}

/**
 * Keys and their values. Most keys get one value, kept in the flat `value`/`priority` arrays;
 * a key given more than once gets its full index_add_value list in `lists`.
 */
export class IndexWriter {
  readonly name: string;
  private readonly idOf = new Map<string, number>();
  private readonly keys: string[] = [];
  private readonly value: string[] = [];
  private readonly priority: number[] = [];
  private readonly lists = new Map<number, IndexValue[]>();
  private buf = new Uint8Array(0);
  private len = 0;
  /** Child offsets of the nodes being written (each node takes a slice on top of the parent's). */
  private childStack = new Int32Array(1024);

  constructor(name = "index") {
    this.name = name;
  }

  private check(s: string): void {
    const i = nonAscii(s);
    if (i < 0) return;
    throw new KbindError("INDEX_BAD_CHAR", `Module index: bad character '${s[i]!}'=0x${s.charCodeAt(i).toString(16)} - only 7-bit ASCII is supported:\n${s}`, { file: this.name, offset: i });
  }

  /** index_insert: returns true when the key already held the same value (depmod -w warns). */
  insert(key: string, value: string, priority: number): boolean {
    this.check(key);
    this.check(value);
    const id = this.idOf.get(key);
    if (id === undefined) {
      this.idOf.set(key, this.keys.length);
      this.keys.push(key);
      this.value.push(value);
      this.priority.push(priority);
      return false;
    }
    let values = this.lists.get(id);
    if (values === undefined) {
      values = [{ priority: this.priority[id]!, value: this.value[id]! }];
      this.lists.set(id, values);
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
    // Key ids in key order (UTF-16 unit order = byte order: 7-bit keys).
    const keys = this.keys;
    const order = Array.from(keys.keys()).sort((x, y) => (keys[x]! < keys[y]! ? -1 : 1));
    let size = 12;
    for (let i = 0; i < keys.length; i++) size += keys[i]!.length + this.value[i]!.length + 24;
    this.buf = new Uint8Array(0);
    this.len = 0;
    this.reserve(size);
    this.u32(INDEX_MAGIC);
    this.u32(INDEX_VERSION);
    this.u32(0);
    const root = order.length === 0 ? this.len : this.node(order, 0, order.length, 0, true, 0);
    const end = this.len;
    this.len = 8;
    this.u32(root);
    return this.buf.slice(0, end);
  }

  /** Keys order[lo, hi) share their first `depth` bytes; returns the node's offset word. */
  private node(order: number[], lo: number, hi: number, depth: number, root: boolean, stackTop: number): number {
    const keys = this.keys;
    const a = keys[order[lo]!]!;
    let pos = depth;
    if (!root) {
      const z = keys[order[hi - 1]!]!;
      const n = Math.min(a.length, z.length);
      while (pos < n && a.charCodeAt(pos) === z.charCodeAt(pos)) pos++;
    }
    let valuesOf = -1;
    let i = lo;
    if (a.length === pos) {
      valuesOf = order[lo]!;
      i++;
    }
    let first = 0;
    let nChild = 0;
    if (i < hi) {
      first = keys[order[i]!]!.charCodeAt(pos);
      nChild = keys[order[hi - 1]!]!.charCodeAt(pos) - first + 1;
      if (stackTop + nChild > this.childStack.length) {
        const st = new Int32Array(Math.max(this.childStack.length * 2, stackTop + nChild));
        st.set(this.childStack);
        this.childStack = st;
      }
      this.childStack.fill(0, stackTop, stackTop + nChild);
      while (i < hi) {
        const ch = keys[order[i]!]!.charCodeAt(pos);
        let j = i + 1;
        while (j < hi && keys[order[j]!]!.charCodeAt(pos) === ch) j++;
        const off = this.node(order, i, j, pos + 1, false, stackTop + nChild);
        this.childStack[stackTop + ch - first] = off;
        i = j;
      }
    }
    const list = valuesOf < 0 ? undefined : this.lists.get(valuesOf);
    let size = pos > depth ? pos - depth + 1 : 0;
    if (nChild > 0) size += 2 + 4 * nChild;
    if (list) {
      size += 4;
      for (const v of list) size += 5 + v.value.length;
    } else if (valuesOf >= 0) size += 9 + this.value[valuesOf]!.length;
    this.reserve(size);
    let word = this.len;
    if (pos > depth) {
      this.cstr(a, depth, pos);
      word |= NODE_PREFIX;
    }
    if (nChild > 0) {
      this.buf[this.len++] = first;
      this.buf[this.len++] = first + nChild - 1;
      for (let c = 0; c < nChild; c++) this.u32(this.childStack[stackTop + c]!);
      word |= NODE_CHILDS;
    }
    if (list) {
      this.u32(list.length);
      for (const v of list) {
        this.u32(v.priority);
        this.cstr(v.value, 0, v.value.length);
      }
      word |= NODE_VALUES;
    } else if (valuesOf >= 0) {
      const v = this.value[valuesOf]!;
      this.u32(1);
      this.u32(this.priority[valuesOf]!);
      this.cstr(v, 0, v.length);
      word |= NODE_VALUES;
    }
    return word; // an int32 (bit 31 is NODE_PREFIX): u32 writes it as the same 4 bytes
  }
}
