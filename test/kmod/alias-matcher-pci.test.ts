// AliasMatcher's PCI fast path (fixed-layout `pci:` / `vfio_pci:` patterns of file2alias.c
// do_pci_entry indexed by vendor/device, fields compared as numbers) must give exactly what
// libkmod's index_mm_searchwild trie walk gives: same modules, same order, duplicates and
// equal-priority ties included — for layout keys, near-layout keys (lower-case hex, missing or
// extra fields) and patterns that only look like the layout (half-field wildcards, brackets).
import { existsSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { readModuleDir } from "../../src/host/kmod-files.ts";
import { AliasMatcher } from "../../src/kmod/alias-matcher.ts";
import { IndexBuilder, KmodIndex } from "../../src/kmod/index-bin.ts";

const hexDigit = fc.constantFrom(..."0123456789ABCDEF".split(""));
const hexN = (n: number) => fc.array(hexDigit, { minLength: n, maxLength: n }).map((a) => a.join(""));
// Few distinct values so that patterns and keys collide often.
const field = (n: number) => fc.oneof(fc.constant("*"), fc.constantFrom("0".repeat(n), "1".repeat(n), "F".repeat(n)), hexN(n));
const FIELDS: [string, number][] = [["v", 8], ["d", 8], ["sv", 8], ["sd", 8], ["bc", 2], ["sc", 2], ["i", 2]];
const layout = fc.tuple(fc.constantFrom("pci:", "vfio_pci:"), ...FIELDS.map(([, n]) => field(n)), fc.boolean()).map(([p, ...rest]) => {
  const trailing = rest.pop() as boolean;
  return p + FIELDS.map(([s], i) => s + (rest[i] as string)).join("") + (trailing ? "*" : "");
});
// Near-layout patterns that must stay on the generic path.
const odd = fc.constantFrom("pci:*", "pci:v*", "p*", "*", "pci:v0000*d*sv*sd*bc*sc*i*", "pci:v00001111d*sv*sd*bc0*sc*i*", "pci:v*d*sv*sd*bc0[0-2]sc*i*", "vfio_pci:*", "pci:v*d*sv*sd*bc*sc*i*x", "pci:v?0001111d*");
const pattern = fc.oneof({ weight: 4, arbitrary: layout }, { weight: 1, arbitrary: odd });

function build(entries: [string, string, number][]): KmodIndex {
  const b = new IndexBuilder();
  for (const [k, v, p] of entries) b.insert(k, v, p);
  return KmodIndex.parse(b.write());
}

/** A key from a pattern: `*` fields filled, sometimes mangled. */
function keyFrom(p: string, seed: number): string {
  let k = p.replace(/\*$/, "").replace(/([a-z]+)\*/g, (_, s: string) => s + (s.length === 1 && s !== "i" ? "1".repeat(8) : s === "i" || s === "bc" || s === "sc" ? "1".repeat(2) : "1".repeat(8)));
  if (seed % 7 === 1) k = k.toLowerCase();
  if (seed % 7 === 2) k = k.slice(0, -1);
  if (seed % 7 === 3) k = k + "0";
  return k;
}

describe("AliasMatcher PCI fast path = index_mm_searchwild trie walk (libkmod-index.c)", () => {
  it("random fixed-layout and near-layout patterns, keys from the patterns (filled, lower-cased, truncated, extended)", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(pattern, fc.constantFrom("m1", "m2", "m3"), fc.nat(2)), { minLength: 1, maxLength: 50 }), fc.nat(), (entries, seed) => {
        const ki = build(entries);
        const m = new AliasMatcher(ki.nodes());
        entries.forEach(([p], i) => {
          const k = keyFrom(p, seed + i);
          if (k.includes("*") || k.includes("?") || k.includes("[")) return;
          expect(m.search(k)).toEqual(ki.searchWildTrie(k));
        });
      }),
      { numRuns: 1500 },
    );
  });

  it("crowded (vendor, device) buckets, split by their next field, report what the trie walk reports", () => {
    // Few distinct vendor/device values and many patterns: buckets exceed the split size, so
    // both the per-field map and the wild list of a bucket are exercised; keys mix values.
    const few = (n: number) => fc.constantFrom("*", "0".repeat(n), "1".repeat(n), "A".repeat(n));
    const crowded = fc.tuple(fc.constantFrom("0".repeat(8), "1".repeat(8)), fc.constantFrom("0".repeat(8), "*"), few(8), few(8), few(2), few(2), few(2), fc.boolean()).map(
      ([v, d, sv, sd, bc, sc, i, star]) => `pci:v${v}d${d}sv${sv}sd${sd}bc${bc}sc${sc}i${i}${star ? "*" : ""}`,
    );
    const val = (n: number) => fc.constantFrom("0".repeat(n), "1".repeat(n), "A".repeat(n), "F".repeat(n));
    const key = fc.tuple(fc.constantFrom("0".repeat(8), "1".repeat(8)), val(8), val(8), val(8), val(2), val(2), val(2)).map(([v, d, sv, sd, bc, sc, i]) => `pci:v${v}d${d}sv${sv}sd${sd}bc${bc}sc${sc}i${i}`);
    fc.assert(
      fc.property(fc.array(fc.tuple(crowded, fc.constantFrom("m1", "m2", "m3"), fc.nat(2)), { minLength: 10, maxLength: 120 }), fc.array(key, { minLength: 1, maxLength: 20 }), (entries, keys) => {
        const ki = build(entries);
        const m = new AliasMatcher(ki.nodes());
        for (const k of keys) expect(m.search(k)).toEqual(ki.searchWildTrie(k));
      }),
      { numRuns: 400 },
    );
  });

  const DIR = join(import.meta.dirname, "../../data/debian/6.1.0-56-amd64/lib/modules/6.1.0-56-amd64");
  it.skipIf(!existsSync(join(DIR, "modules.alias.bin")))("Debian 6.1 amd64 modules.alias.bin: every pci:/vfio_pci: pattern turned into a key (every 2nd pattern, wildcard fields filled with 1s and with Fs) gives the trie walk's list", () => {
    const idx = readModuleDir(DIR).index("alias").index!;
    const m = new AliasMatcher(idx.nodes());
    let n = 0;
    let j = 0;
    for (const { key } of idx.nodes()) {
      if (!key.startsWith("pci:") && !key.startsWith("vfio_pci:")) continue;
      if (j++ % 2 === 1) continue;
      for (const fill of ["1", "F"]) {
        const k = key.replace(/\*$/, "").replace(/(v|d|sv|sd)\*/g, (_, s: string) => s + fill.repeat(8)).replace(/(bc|sc|i)\*/g, (_, s: string) => s + fill.repeat(2));
        if (/[*?[]/.test(k)) continue;
        expect(m.search(k)).toEqual(idx.searchWildTrie(k));
        n++;
      }
    }
    expect(n).toBeGreaterThan(8000);
  });
});
