// IndexWriter (depmod's index built from sorted keys) gives the same bytes as IndexBuilder (the
// insertion-order trie of tools/depmod.c index_insert/index_write) for any entries.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { IndexBuilder } from "../../src/kmod/index-bin.ts";
import { IndexWriter } from "../../src/kmod/index-writer.ts";

type Entry = [string, string, number];

function both(entries: Entry[]): [Uint8Array, Uint8Array] {
  const a = new IndexBuilder("x.bin");
  const b = new IndexWriter("x.bin");
  for (const [k, v, p] of entries) a.insert(k, v, p);
  for (const [k, v, p] of entries) b.insert(k, v, p);
  return [a.write(), b.write()];
}

const keyArb = fc.array(fc.constantFrom(..."aab:_-01*?[]!xyz,\u0000\u007f".split("")), { maxLength: 9 }).map((a) => a.join(""));

describe("IndexWriter = IndexBuilder (depmod index_insert + index_write)", () => {
  it("same bytes for random keys, values and priorities (repeated keys and values included)", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(keyArb, fc.constantFrom("m1", "m2", "a:b c", ""), fc.nat(4)), { maxLength: 60 }), (entries) => {
        const [x, y] = both(entries);
        expect(Buffer.from(y).equals(Buffer.from(x))).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it("edge cases: empty index, empty key, one key, keys that are prefixes of each other, shared long prefixes", () => {
    for (const entries of [
      [],
      [["", "v", 0]],
      [["abc", "v", 3]],
      [["a", "1", 0], ["ab", "2", 0], ["abc", "3", 0], ["", "4", 0]],
      [["symbol:foo", "m", 1], ["symbol:foobar", "m", 2], ["symbol:fo", "n", 0], ["symbol:g", "o", 5]],
      [["k", "a", 2], ["k", "b", 1], ["k", "c", 2], ["k", "a", 2]],
    ] as Entry[][]) {
      const [x, y] = both(entries);
      expect(Buffer.from(y).equals(Buffer.from(x))).toBe(true);
    }
  });

  it("many keys: byte range 0x01-0x7f at several depths (the writer's stack grows), long shared prefixes, repeated keys", () => {
    const entries: Entry[] = [];
    const c = (n: number): string => String.fromCharCode(1 + (n % 127));
    for (let i = 0; i < 3000; i++) entries.push([`${"p".repeat(i % 7 === 0 ? 300 : 3)}${c(i)}${c(i * 7)}${c(i * 31)}`, `m${i % 13}`, i % 5]);
    // Wide fan-out on every level of a deep path: 127 children at each of 8 levels.
    for (let d = 0; d < 8; d++) for (let k = 0; k < 127; k++) entries.push([`${"w".repeat(d)}${c(k)}`, "m", 0]);
    const [x, y] = both(entries);
    expect(Buffer.from(y).equals(Buffer.from(x))).toBe(true);
  });

  it("bytes >= 0x80 are refused with depmod's message", () => {
    expect(() => new IndexWriter("modules.alias.bin").insert("caf\u00e9", "m", 0)).toThrow(/bad character '\u00e9'=0xe9 - only 7-bit ASCII/);
    expect(() => new IndexWriter("modules.alias.bin").insert("k", "\u0080", 0)).toThrow(/0x80/);
  });
});
