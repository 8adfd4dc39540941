// depmod's `.bin` index writer (tools/depmod.c index_insert + index_write), built by partitioning
// the keys byte by byte (an MSD radix sort that is the trie itself), without sorting or a key map.
//
// depmod inserts keys one by one into a radix trie and writes it post-order (children before their
// parent). That trie does not depend on the insertion order: the root's prefix is always empty
// (index_create), and every other node's prefix is the longest common prefix of the key suffixes
// below it, because index_insert only splits a node where a key diverges from, or ends inside, its
// prefix. So the same bytes come from the set of entries: a group of entries sharing `depth` bytes
// is one node whose prefix runs to the group's longest common prefix; the entries whose key ends
// there hold the node's values; the rest split by their next byte into children, written in byte
// order. Values per key keep index_add_value's order (priority, then reverse insertion for ties):
// the partitions are stable, so a key's entries stay in insertion order. `IndexBuilder` in
// index-bin.ts is the insertion-order trie, kept as the reference: test/kmod/index-writer.test.ts
// checks both give the same bytes.
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

/** Entries (key, value, priority) in insertion order; key bytes one after the other in `keyBytes`. */
export class IndexWriter {
  readonly name: string;
  private keyBytes = new Uint8Array(1 << 12);
  private keyUsed = 0;
  /** Entry i's key is keyBytes[keyStart[i], keyStart[i + 1]). */
  private keyStart: number[] = [0];
  private readonly values: string[] = [];
  private readonly priorities: number[] = [];
  /** The last value checked for 7-bit ASCII. */
  private lastValue: string | null = null;
  private buf = new Uint8Array(0);
  private len = 0;
  /** The entries being partitioned (write), and scratch space for a stable partition. */
  private ord = new Int32Array(0);
  private tmp = new Int32Array(0);
  /** Child offsets and bucket counts of the nodes being written (each node on top of its parent's). */
  private stack = new Int32Array(1024);

  constructor(name = "index") {
    this.name = name;
  }

  private check(s: string): void {
    const i = nonAscii(s);
    if (i < 0) return;
    throw new KbindError("INDEX_BAD_CHAR", `Module index: bad character '${s[i]!}'=0x${s.charCodeAt(i).toString(16)} - only 7-bit ASCII is supported:\n${s}`, { file: this.name, offset: i });
  }

  /** index_insert (its duplicate report, for `depmod -w`, is not modelled). */
  insert(key: string, value: string, priority: number): void {
    const n = key.length;
    if (this.keyUsed + n > this.keyBytes.length) {
      const nb = new Uint8Array(Math.max(this.keyBytes.length * 2, this.keyUsed + n));
      nb.set(this.keyBytes.subarray(0, this.keyUsed));
      this.keyBytes = nb;
    }
    // The key is copied and checked in one pass (a char ≥ 0x80 sets a bit above 0x7f in `all`).
    const kb = this.keyBytes;
    let at = this.keyUsed;
    let all = 0;
    for (let i = 0; i < n; i++) {
      const c = key.charCodeAt(i);
      all |= c;
      kb[at++] = c;
    }
    if (all > 0x7f) this.check(key);
    // A value is mostly the one given just before (a module's name, once per alias or symbol).
    if (value !== this.lastValue) {
      this.check(value);
      this.lastValue = value;
    }
    this.keyUsed = at;
    this.keyStart.push(at);
    this.values.push(value);
    this.priorities.push(priority);
  }

  private reserve(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let cap = Math.max(1 << 16, this.buf.length * 2);
    while (cap < this.len + n) cap *= 2;
    const nb = new Uint8Array(cap);
    nb.set(this.buf.subarray(0, this.len));
    this.buf = nb;
  }

  private stackRoom(n: number): void {
    if (n <= this.stack.length) return;
    const st = new Int32Array(Math.max(this.stack.length * 2, n));
    st.set(this.stack);
    this.stack = st;
  }

  private u32(v: number): void {
    const b = this.buf;
    b[this.len++] = (v >>> 24) & 0xff;
    b[this.len++] = (v >>> 16) & 0xff;
    b[this.len++] = (v >>> 8) & 0xff;
    b[this.len++] = v & 0xff;
  }

  /** A one-char-per-byte string, then a NUL (space reserved by the caller). */
  private cstr(s: string): void {
    const b = this.buf;
    let n = this.len;
    for (let i = 0; i < s.length; i++) b[n++] = s.charCodeAt(i);
    b[n++] = 0;
    this.len = n;
  }

  /** index_write: header, post-order nodes, root offset in the header. */
  write(): Uint8Array {
    const n = this.values.length;
    this.ord = new Int32Array(n);
    this.tmp = new Int32Array(n);
    for (let i = 0; i < n; i++) this.ord[i] = i;
    let size = 12 + this.keyUsed;
    for (let i = 0; i < n; i++) size += this.values[i]!.length + 24;
    this.buf = new Uint8Array(0);
    this.len = 0;
    this.reserve(size);
    this.u32(INDEX_MAGIC);
    this.u32(INDEX_VERSION);
    this.u32(0);
    const root = n === 0 ? this.len : this.node(0, n, 0, true, 0);
    const end = this.len;
    this.len = 8;
    this.u32(root);
    return this.buf.slice(0, end);
  }

  /**
   * Entries ord[lo, hi) (in insertion order) share their first `depth` key bytes; writes their
   * node after its children and returns its offset word (an int32: bit 31 is NODE_PREFIX, and u32
   * writes it as the same 4 bytes).
   */
  private node(lo: number, hi: number, depth: number, root: boolean, stackTop: number): number {
    const kb = this.keyBytes;
    const ks = this.keyStart;
    const ord = this.ord;
    const first = ord[lo]!;
    const fs = ks[first]!;
    // The prefix: as far as every key agrees with the first one.
    let pos = depth;
    if (!root) {
      let end = ks[first + 1]! - fs;
      for (let k = lo + 1; k < hi && end > depth; k++) {
        const e = ord[k]!;
        const es = ks[e]!;
        const m = Math.min(end, ks[e + 1]! - es);
        let p = depth;
        while (p < m && kb[es + p] === kb[fs + p]) p++;
        end = p;
      }
      pos = end;
    }
    // Entries whose key ends here hold the values; the others go to children by their byte at pos.
    let nValues = 0;
    let valueOf = -1;
    let minCh = 256;
    let maxCh = -1;
    for (let k = lo; k < hi; k++) {
      const e = ord[k]!;
      const es = ks[e]!;
      if (ks[e + 1]! - es === pos) {
        if (nValues++ === 0) valueOf = e;
        continue;
      }
      const c = kb[es + pos]!;
      if (c < minCh) minCh = c;
      if (c > maxCh) maxCh = c;
    }
    let list: IndexValue[] | undefined;
    if (nValues > 1) {
      list = [];
      for (let k = lo; k < hi; k++) {
        const e = ord[k]!;
        if (ks[e + 1]! - ks[e]! === pos) addValue(list, this.values[e]!, this.priorities[e]!);
      }
    }
    const nChild = maxCh < 0 ? 0 : maxCh - minCh + 1;
    if (nChild > 0) {
      // Stable counting partition of the children's entries by byte, into ord[lo + nValues, hi).
      // stack[stackTop, +nChild): child offsets; [+nChild, +2 nChild): bucket starts.
      this.stackRoom(stackTop + 2 * nChild + 1);
      const st = this.stack;
      const starts = stackTop + nChild;
      st.fill(0, stackTop, starts + nChild + 1);
      for (let k = lo; k < hi; k++) {
        const e = ord[k]!;
        const es = ks[e]!;
        if (ks[e + 1]! - es !== pos) st[starts + 1 + kb[es + pos]! - minCh]!++;
      }
      st[starts] = lo + nValues;
      for (let c = 0; c < nChild; c++) st[starts + c + 1]! += st[starts + c]!;
      const tmp = this.tmp;
      let v = lo;
      for (let k = lo; k < hi; k++) {
        const e = ord[k]!;
        const es = ks[e]!;
        if (ks[e + 1]! - es === pos) tmp[v++] = e;
        else tmp[st[starts + kb[es + pos]! - minCh]!++] = e;
      }
      for (let k = lo; k < hi; k++) ord[k] = tmp[k]!;
      // The bucket starts were advanced to the bucket ends: bucket c is [end of c - 1, end of c).
      let from = lo + nValues;
      for (let c = 0; c < nChild; c++) {
        const to = this.stack[starts + c]!;
        if (to > from) {
          // Not `this.stack[..] = this.node(..)`: the child may grow (replace) the stack first.
          const off = this.node(from, to, pos + 1, false, starts + nChild);
          this.stack[stackTop + c] = off;
        }
        from = to;
      }
    }
    let size = pos > depth ? pos - depth + 1 : 0;
    if (nChild > 0) size += 2 + 4 * nChild;
    if (list) {
      size += 4;
      for (const v of list) size += 5 + v.value.length;
    } else if (nValues === 1) size += 9 + this.values[valueOf]!.length;
    this.reserve(size);
    let word = this.len;
    if (pos > depth) {
      const b = this.buf;
      let n = this.len;
      for (let p = depth; p < pos; p++) b[n++] = kb[fs + p]!;
      b[n++] = 0;
      this.len = n;
      word |= NODE_PREFIX;
    }
    if (nChild > 0) {
      this.buf[this.len++] = minCh;
      this.buf[this.len++] = maxCh;
      for (let c = 0; c < nChild; c++) this.u32(this.stack[stackTop + c]!);
      word |= NODE_CHILDS;
    }
    if (list) {
      this.u32(list.length);
      for (const v of list) {
        this.u32(v.priority);
        this.cstr(v.value);
      }
      word |= NODE_VALUES;
    } else if (nValues === 1) {
      this.u32(1);
      this.u32(this.priorities[valueOf]!);
      this.cstr(this.values[valueOf]!);
      word |= NODE_VALUES;
    }
    return word;
  }
}
