// The fixed-layout PCI patterns of an alias index as flat typed arrays, for the alias matcher's
// PCI fast path (alias-matcher.ts explains why comparing fields is exact there).
//
// A lookup touches few cache lines: one 64-byte open-addressing slot for the key's (vendor,
// device), which holds the group's only pattern inline (most groups have one) or the range of
// its rows; and small tables for the rare vendor-only, device-only and catch-all patterns, which
// stay in cache across lookups. No object is allocated and no Map is consulted.
//
// A row (ROW ints): for sv, sd and the packed class triple (bc << 16 | sc << 8 | i), a value and
// a mask (-1 literal, 0 for `*`; a class byte that is `*` masks its own 8 bits only), then the
// entry number. A row matches key fields k when (k & mask) === value for all three.
// A group of several rows: rows [start, end); when split, rows [start, sorted) have a literal
// value of field `field` and are sorted by it (binary search), rows [sorted, end) have `*` there.

const ROW = 8;
const R_SV = 0;
const R_SD = 2;
const R_CLASS = 4;
const R_ENTRY = 6;

/** Slot: a, b, state, start, sorted, end, field, (pad), then one inline row. */
const SLOT = 16;
const S_A = 0;
const S_B = 1;
/** 0: empty; 1: the one row is inline at S_ROW; 2: rows [start, end) of `rows`. */
const S_STATE = 2;
const S_START = 3;
const S_SORTED = 4;
const S_END = 5;
const S_FIELD = 6;
const S_ROW = 8;

/** A group longer than this is split by its most varied literal field (binary-searched). */
const SPLIT_AT = 8;

/** One pattern: its seven fields as int32 and a bit per literal field (v, d, sv, sd, bc, sc, i). */
export interface PciPatternFields {
  vals: Int32Array;
  literal: number;
}

/** Value and mask of row field `which` (0 sv, 1 sd, 2 class triple) of a pattern. */
function rowField(f: PciPatternFields, which: 0 | 1 | 2): [value: number, mask: number] {
  if (which === 0) return (f.literal & 4) !== 0 ? [f.vals[2]!, -1] : [0, 0];
  if (which === 1) return (f.literal & 8) !== 0 ? [f.vals[3]!, -1] : [0, 0];
  let value = 0;
  let mask = 0;
  for (let b = 0; b < 3; b++) {
    const shift = 16 - 8 * b;
    if ((f.literal & (16 << b)) === 0) continue;
    value |= (f.vals[4 + b]! & 0xff) << shift;
    mask |= 0xff << shift;
  }
  return [value, mask];
}

function pushRow(into: Int32Array, at: number, f: PciPatternFields, entry: number): void {
  for (const which of [0, 1, 2] as const) [into[at + 2 * which], into[at + 2 * which + 1]] = rowField(f, which);
  into[at + R_ENTRY] = entry;
}

/**
 * For a long group: the row field (0 sv, 1 sd, 2 class) with most distinct literal values, the
 * members literal there sorted by it, and the others; or field -1 and the members as they are.
 */
function split(patterns: PciPatternFields[], members: number[]): [field: number, sorted: number[], wild: number[]] {
  if (members.length <= SPLIT_AT) return [-1, [], members];
  let best = -1;
  let bestN = 1;
  for (const which of [0, 1, 2] as const) {
    const vals = new Set<number>();
    for (const n of members) {
      const [v, m] = rowField(patterns[n]!, which);
      if (m === -1) vals.add(v);
    }
    if (vals.size > bestN) [best, bestN] = [which, vals.size];
  }
  if (best < 0) return [-1, [], members];
  const field = best as 0 | 1 | 2;
  const literal = (n: number): boolean => rowField(patterns[n]!, field)[1] === -1;
  const sorted = members.filter(literal).sort((x, y) => rowField(patterns[x]!, field)[0] - rowField(patterns[y]!, field)[0] || x - y);
  return [field, sorted, members.filter((n) => !literal(n))];
}

/** Groups of patterns keyed by an int pair (vendor, device; 0 for a `*` side). */
class GroupTable {
  private readonly mask: number;
  private readonly slots: Int32Array;
  private readonly rows: Int32Array;

  constructor(patterns: PciPatternFields[], groups: { a: number; b: number; members: number[] }[]) {
    let size = 4;
    while (size < groups.length * 2) size *= 2;
    this.mask = size - 1;
    this.slots = new Int32Array(size * SLOT);
    let nRows = 0;
    for (const g of groups) if (g.members.length > 1) nRows += g.members.length;
    this.rows = new Int32Array(nRows * ROW);
    let next = 0;
    for (const g of groups) {
      let s = GroupTable.hash(g.a, g.b) & this.mask;
      while (this.slots[s * SLOT + S_STATE] !== 0) s = (s + 1) & this.mask;
      const at = s * SLOT;
      this.slots[at + S_A] = g.a;
      this.slots[at + S_B] = g.b;
      if (g.members.length === 1) {
        this.slots[at + S_STATE] = 1;
        pushRow(this.slots, at + S_ROW, patterns[g.members[0]!]!, g.members[0]!);
        continue;
      }
      const [field, sorted, wild] = split(patterns, g.members);
      this.slots[at + S_STATE] = 2;
      this.slots[at + S_START] = next;
      this.slots[at + S_SORTED] = next + sorted.length;
      this.slots[at + S_END] = next + sorted.length + wild.length;
      this.slots[at + S_FIELD] = field;
      for (const n of [...sorted, ...wild]) pushRow(this.rows, (next++) * ROW, patterns[n]!, n);
    }
  }

  static hash(a: number, b: number): number {
    let h = Math.imul(a, 0x9e3779b1) ^ Math.imul(b, 0x85ebca77);
    h ^= h >>> 15;
    return Math.imul(h, 0x2c1b3c6d) ^ (h >>> 12);
  }

  /** Appends the entries of group (a, b) that match (sv, sd, cls) to `out` from `n`; the new length. */
  collect(a: number, b: number, sv: number, sd: number, cls: number, out: Int32Array, n: number): number {
    const slots = this.slots;
    const mask = this.mask;
    for (let s = GroupTable.hash(a, b) & mask; ; s = (s + 1) & mask) {
      const at = s * SLOT;
      const state = slots[at + S_STATE]!;
      if (state === 0) return n;
      if (slots[at + S_A] !== a || slots[at + S_B] !== b) continue;
      if (state === 1) return matchRows(slots, at + S_ROW, at + S_ROW + ROW, sv, sd, cls, out, n);
      const start = slots[at + S_START]!;
      const sorted = slots[at + S_SORTED]!;
      const end = slots[at + S_END]!;
      const rows = this.rows;
      if (sorted > start) {
        // Rows [start, sorted) are sorted by the split field: only the run equal to the key's.
        const field = slots[at + S_FIELD]!;
        const want = field === 0 ? sv : field === 1 ? sd : cls;
        const off = R_SV + 2 * field;
        let lo = start;
        let hi = sorted;
        while (lo < hi) {
          const mid = (lo + hi) >>> 1;
          if (rows[mid * ROW + off]! < want) lo = mid + 1;
          else hi = mid;
        }
        let r = lo;
        while (r < sorted && rows[r * ROW + off] === want) r++;
        n = matchRows(rows, lo * ROW, r * ROW, sv, sd, cls, out, n);
      }
      return matchRows(rows, sorted * ROW, end * ROW, sv, sd, cls, out, n);
    }
  }
}

/** The rows in [from, to) (int offsets) that match, appended to `out`. */
function matchRows(rows: Int32Array, from: number, to: number, sv: number, sd: number, cls: number, out: Int32Array, n: number): number {
  for (let r = from; r < to; r += ROW) {
    if ((((sv & rows[r + R_SV + 1]!) ^ rows[r + R_SV]!) | ((sd & rows[r + R_SD + 1]!) ^ rows[r + R_SD]!) | ((cls & rows[r + R_CLASS + 1]!) ^ rows[r + R_CLASS]!)) !== 0) continue;
    out[n++] = rows[r + R_ENTRY]!;
  }
  return n;
}

export class PciTable {
  /** (vendor, device) both literal. */
  private readonly vd: GroupTable;
  /** Vendor literal, device `*`: keyed (vendor, 0). */
  private readonly vOnly: GroupTable;
  /** Vendor `*`, device literal: keyed (0, device). */
  private readonly dOnly: GroupTable;
  /** Vendor and device both `*`: keyed (0, 0). */
  private readonly any: GroupTable;
  private readonly hasV: boolean;
  private readonly hasD: boolean;
  private readonly hasAny: boolean;
  /** The most entries one lookup can report (sizes the caller's buffer). */
  readonly size: number;

  /** `patterns[n]` is entry number n's fields. */
  constructor(patterns: PciPatternFields[]) {
    type Group = { a: number; b: number; members: number[] };
    const byKind = [0, 1, 2, 3].map(() => new Map<string, Group>());
    patterns.forEach((f, n) => {
      const hasV = (f.literal & 1) !== 0;
      const hasD = (f.literal & 2) !== 0;
      const kind = hasV && hasD ? 0 : hasV ? 1 : hasD ? 2 : 3;
      const a = hasV ? f.vals[0]! : 0;
      const b = hasD ? f.vals[1]! : 0;
      const k = `${a},${b}`;
      let g = byKind[kind]!.get(k);
      if (!g) byKind[kind]!.set(k, (g = { a, b, members: [] }));
      g.members.push(n);
    });
    [this.vd, this.vOnly, this.dOnly, this.any] = byKind.map((m) => new GroupTable(patterns, [...m.values()])) as [GroupTable, GroupTable, GroupTable, GroupTable];
    this.hasV = byKind[1]!.size > 0;
    this.hasD = byKind[2]!.size > 0;
    this.hasAny = byKind[3]!.size > 0;
    this.size = patterns.length;
  }

  /**
   * Appends to `out` the entry number of every pattern matching a device key's fields `k`
   * (v, d, sv, sd, bc, sc, i as int32), in no particular order; returns the new length.
   */
  collect(k: Int32Array, out: Int32Array, n: number): number {
    const v = k[0]!;
    const d = k[1]!;
    const sv = k[2]!;
    const sd = k[3]!;
    const cls = ((k[4]! & 0xff) << 16) | ((k[5]! & 0xff) << 8) | (k[6]! & 0xff);
    n = this.vd.collect(v, d, sv, sd, cls, out, n);
    if (this.hasV) n = this.vOnly.collect(v, 0, sv, sd, cls, out, n);
    if (this.hasD) n = this.dOnly.collect(0, d, sv, sd, cls, out, n);
    if (this.hasAny) n = this.any.collect(0, 0, sv, sd, cls, out, n);
    return n;
  }
}
