// Symbol names interned straight from module bytes. depmod resolves ~185,000 undefined symbols of
// ~4,000 modules against the exported ones; making a JS string of each name, then hashing it again
// in a Map, was most of depmod's computation and of its garbage. Here a name is hashed and
// compared as bytes, stored once in one arena, and gets a small integer id (so per-symbol tables
// are typed arrays indexed by id); a name is decoded to a string only when it is written out.
import { bytesToLatin1 } from "./bytes.ts";

export class SymbolNames {
  private arena = new Uint8Array(1 << 20);
  private used = 0;
  /** Arena offset of name `id` (its end is the start of `id + 1`). */
  private start = new Int32Array(1 << 14);
  private hashes = new Int32Array(1 << 14);
  /** Open-addressing table: id + 1, 0 = empty slot. */
  private slots = new Int32Array(1 << 15);
  /** The arena decoded (see `name`), and the number of names it holds. */
  private text: string | null = null;
  private textCount = 0;
  /** Lists of ids (see `list`), one after the other. */
  private lists = new Int32Array(1 << 16);
  private listsUsed = 0;
  /** Number of distinct names (ids are 0 .. count - 1). */
  count = 0;

  /** The id of the name in bytes [from, to) of `b`, added if new. */
  intern(b: Uint8Array, from: number, to: number): number {
    // FNV-1a over the bytes.
    let h = 0x811c9dc5;
    for (let i = from; i < to; i++) h = Math.imul(h ^ b[i]!, 0x01000193);
    return this.find(b, from, to, h);
  }

  /** intern of the NUL-terminated name at `from` (ended by `stop` if no NUL comes first): one pass finds the end and hashes. */
  internCString(b: Uint8Array, from: number, stop: number): number {
    let h = 0x811c9dc5;
    let to = from;
    for (; to < stop; to++) {
      const c = b[to]!;
      if (c === 0) break;
      h = Math.imul(h ^ c, 0x01000193);
    }
    return this.find(b, from, to, h);
  }

  private find(b: Uint8Array, from: number, to: number, h: number): number {
    const slots = this.slots;
    const mask = slots.length - 1;
    let s = h & mask;
    for (;;) {
      const v = slots[s]!;
      if (v === 0) break;
      if (this.hashes[v - 1] === h && this.equals(v - 1, b, from, to)) return v - 1;
      s = (s + 1) & mask;
    }
    return this.add(b, from, to, h, s);
  }

  /** The id of the name without its first byte when that byte is `c` (the name's own id otherwise). */
  withoutLeading(id: number, c: number): number {
    const at = this.start[id]!;
    if (at === this.start[id + 1] || this.arena[at] !== c) return id;
    return this.intern(this.arena, at + 1, this.start[id + 1]!);
  }

  /**
   * `ids` as a view into one shared Int32Array: a module's needed and exported symbols live as
   * long as the whole depmod run, and ~8,000 small heap arrays of them (185,000 ids) were copied by
   * every young-generation GC; views of one store are not.
   */
  list(ids: readonly number[]): Int32Array {
    const n = ids.length;
    if (this.listsUsed + n > this.lists.length) {
      // A new store; the views already handed out keep the old one.
      this.lists = new Int32Array(Math.max(this.lists.length * 2, n));
      this.listsUsed = 0;
    }
    const at = this.listsUsed;
    const l = this.lists;
    for (let i = 0; i < n; i++) l[at + i] = ids[i]!;
    this.listsUsed += n;
    return l.subarray(at, at + n);
  }

  /** The name as a string (one char per byte). */
  name(id: number): string {
    // The whole arena is decoded at once (one native call, then a slice per name), again only
    // when names were added since.
    if (this.text === null || this.textCount < this.count) {
      this.text = bytesToLatin1(this.arena, 0, this.used);
      this.textCount = this.count;
    }
    return this.text.slice(this.start[id], this.start[id + 1]);
  }

  private equals(id: number, b: Uint8Array, from: number, to: number): boolean {
    const at = this.start[id]!;
    if (this.start[id + 1]! - at !== to - from) return false;
    const a = this.arena;
    for (let i = from, j = at; i < to; i++, j++) if (a[j] !== b[i]) return false;
    return true;
  }

  private add(b: Uint8Array, from: number, to: number, h: number, slot: number): number {
    const id = this.count++;
    const n = to - from;
    if (this.used + n > this.arena.length) {
      const a = new Uint8Array(Math.max(this.arena.length * 2, this.used + n));
      a.set(this.arena.subarray(0, this.used));
      this.arena = a;
    }
    this.arena.set(b.subarray(from, to), this.used);
    if (id + 2 > this.start.length) {
      const st = new Int32Array(this.start.length * 2);
      st.set(this.start);
      this.start = st;
      const hs = new Int32Array(this.hashes.length * 2);
      hs.set(this.hashes);
      this.hashes = hs;
    }
    this.start[id] = this.used;
    this.used += n;
    this.start[id + 1] = this.used;
    this.hashes[id] = h;
    this.slots[slot] = id + 1;
    if (this.count * 2 > this.slots.length) this.rehash();
    return id;
  }

  private rehash(): void {
    const slots = new Int32Array(this.slots.length * 2);
    const mask = slots.length - 1;
    for (let id = 0; id < this.count; id++) {
      let s = this.hashes[id]! & mask;
      while (slots[s] !== 0) s = (s + 1) & mask;
      slots[s] = id + 1;
    }
    this.slots = slots;
  }
}
