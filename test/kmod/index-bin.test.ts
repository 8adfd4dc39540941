// The .bin index (libkmod-index.c reader, tools/depmod.c writer) and kbind's fast AliasMatcher.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { AliasMatcher } from "../../src/kmod/alias-matcher.ts";
import { pathToModname } from "../../src/kmod/depmod.ts";
import { fnmatch } from "../../src/kmod/fnmatch.ts";
import { compileGlob } from "../../src/kmod/glob-compiled.ts";
import { IndexBuilder, KmodIndex } from "../../src/kmod/index-bin.ts";
import { aliasNormalize } from "../../src/kmod/normalize.ts";
import { parseAliasFile, parseDepFile } from "../../src/kmod/text-files.ts";

const DEB = join(import.meta.dirname, "../../data/debian");

const keyChar = fc.constantFrom(..."ab:_-01*?[]!xyzC,".split(""));
const patternArb = fc.array(keyChar, { minLength: 1, maxLength: 10 }).map((a) => a.join(""));
const plainKeyArb = fc.array(fc.constantFrom(..."ab:_-01xyzC,".split("")), { maxLength: 12 }).map((a) => a.join(""));

function build(entries: [string, string, number][]): KmodIndex {
  const b = new IndexBuilder();
  for (const [k, v, p] of entries) b.insert(k, v, p);
  return KmodIndex.parse(b.write());
}

describe("kmod .bin index (libkmod-index.c / depmod.c index_write)", () => {
  it.skipIf(!existsSync(DEB))("depmod.c index_insert/index_write: modules.alias.bin and modules.dep.bin rebuilt from Debian's text files are byte-identical", () => {
    for (const arch of ["amd64", "arm64"]) {
      const d = join(DEB, `6.1.0-56-${arch}/lib/modules/6.1.0-56-${arch}`);
      const dep = parseDepFile(readFileSync(join(d, "modules.dep"), "latin1"));
      const idx = new Map(dep.map((x, i) => [pathToModname(x.path), i]));
      const a = new IndexBuilder();
      for (const l of parseAliasFile(readFileSync(join(d, "modules.alias"), "latin1"))) a.insert(aliasNormalize(l.pattern), l.module, idx.get(l.module)!);
      expect(Buffer.from(a.write()).equals(readFileSync(join(d, "modules.alias.bin")))).toBe(true);
      const b = new IndexBuilder();
      dep.forEach((x, i) => b.insert(pathToModname(x.path), x.path + ":" + x.deps.map((y) => " " + y).join(""), i));
      expect(Buffer.from(b.write()).equals(readFileSync(join(d, "modules.dep.bin")))).toBe(true);
    }
  });

  it("round trip: every inserted (key, value) comes back; index_mm_search returns the first value; dump is byte-sorted", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(patternArb, fc.constantFrom("m1", "m2", "m3"), fc.nat(5)), { maxLength: 40 }), (entries) => {
        const ki = build(entries);
        const got = ki.entries().map((e) => `${e.key}\u0000${e.value}\u0000${e.priority}`).sort();
        expect(got).toEqual(entries.map(([k, v, p]) => `${k}\u0000${v}\u0000${p}`).sort());
        const keys = ki.entries().map((e) => e.key);
        expect(keys).toEqual([...keys].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
        for (const [k] of entries) expect(ki.search(k)).toBe(ki.entries().find((e) => e.key === k)!.value);
      }),
      { numRuns: 300 },
    );
  });

  it("add_value: priorities ascending, equal priorities in reverse insertion order", () => {
    const ki = build([
      ["k", "a", 2],
      ["k", "b", 1],
      ["k", "c", 2],
      ["k", "d", 1],
    ]);
    expect(ki.entries().map((e) => e.value)).toEqual(["d", "b", "c", "a"]);
  });

  it("index_searchwild: AliasMatcher (fast path) returns exactly the trie walk's list, ties included", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(patternArb, fc.constantFrom("m1", "m2", "m3", "m4"), fc.nat(2)), { maxLength: 60 }), fc.array(plainKeyArb, { minLength: 1, maxLength: 20 }), (entries, keys) => {
        const ki = build(entries);
        const m = new AliasMatcher(ki.nodes());
        for (const k of keys) expect(m.search(k)).toEqual(ki.searchWildTrie(k));
      }),
      { numRuns: 500 },
    );
  });

  it("index_searchwild: a wildcard hit plus an exact node with equal priorities keeps the trie walk's order (found by the property below)", () => {
    const ki = build([["!", "m2", 0], ["*", "m1", 0], ["!", "m1", 0]]);
    expect(ki.searchWildTrie("!").map((v) => v.value)).toEqual(["m2", "m1", "m1"]);
    expect(ki.searchWild("!")).toEqual(ki.searchWildTrie("!"));
  });

  it("index_searchwild: searchWild equals the trie walk on keys from the patterns themselves (wildcards filled in)", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(patternArb, fc.constantFrom("m1", "m2"), fc.nat(3)), { minLength: 1, maxLength: 60 }), fc.nat(), (entries, seed) => {
        const ki = build(entries);
        for (const [p] of entries) {
          const k = p.replace(/\*/g, seed % 2 === 0 ? "" : "ab").replace(/\?/g, "x");
          expect(ki.searchWild(k)).toEqual(ki.searchWildTrie(k));
        }
      }),
      { numRuns: 300 },
    );
  });

  it("compiled globs (`*`, `?`, plain bytes) agree with glibc fnmatch", () => {
    const pat = fc.array(fc.constantFrom(..."ab*?-".split("")), { maxLength: 8 }).map((a) => a.join(""));
    const str = fc.array(fc.constantFrom(..."ab-".split("")), { maxLength: 10 }).map((a) => a.join(""));
    fc.assert(
      fc.property(pat, str, (p, s) => {
        const g = compileGlob(p);
        expect(g).not.toBeNull();
        expect(g!(s)).toBe(fnmatch(p, s));
      }),
      { numRuns: 3000 },
    );
    expect(compileGlob("a[bc]")).toBeNull();
    expect(compileGlob("a\\*")).toBeNull();
  });

  it("a key with a wildcard byte hits both the `*` subtree and the exact node (real kmod 30: `modprobe -R 'foo*'` prints m twice)", () => {
    const ki = build([
      ["foo*", "m", 0],
      ["foob", "m", 0],
    ]);
    expect(ki.searchWild("foo*").map((v) => v.value)).toEqual(["m", "m"]);
    expect(ki.searchWild("fooX").map((v) => v.value)).toEqual(["m"]);
    // Without a branch at "foo" the `*` sits inside a node prefix: one hit only.
    expect(build([["foo*", "m", 0]]).searchWild("foo*").map((v) => v.value)).toEqual(["m"]);
  });

  it("depmod.c index__checkstring: bytes >= 0x80 are rejected with a KbindError", () => {
    expect(() => new IndexBuilder("modules.alias.bin").insert("caf\u00e9", "m", 0)).toThrow(/only 7-bit ASCII/);
  });
});
