// Differential test: src/kmod/fnmatch.ts against glibc's own fnmatch(3) (posix/fnmatch_loop.c, flags 0,
// C locale), compiled from test/helpers/glibc-fnmatch.c with gcc in the test setup and fed in one batch.
// kmod calls fnmatch(pattern, key, 0) in libkmod-index.c (index_searchwild_all) and libkmod-config.c.
import { execFileSync } from "node:child_process";
import { beforeAll, describe, expect, it } from "vitest";
import { fnmatch } from "../../src/kmod/fnmatch.ts";
import { genPair, rng } from "../helpers/glibc-fnmatch-gen.ts";
import { FNMATCH_TABLE } from "../helpers/glibc-fnmatch-table.ts";
import { buildGlibcFnmatch, glibcFnmatchBatch } from "../helpers/glibc-fnmatch.ts";

let exe = "";
beforeAll(() => {
  execFileSync("gcc", ["--version"], { stdio: "pipe" }); // gcc is in .ci/run's package list
  exe = buildGlibcFnmatch();
});

function diff(pairs: [string, string][]): string[] {
  const want = glibcFnmatchBatch(exe, pairs);
  const bad: string[] = [];
  pairs.forEach(([p, s], i) => {
    if (fnmatch(p, s) !== want[i]) bad.push(`${JSON.stringify(p)} vs ${JSON.stringify(s)}: glibc ${want[i]}`);
  });
  return bad;
}

describe("fnmatch vs glibc fnmatch(3), flags 0, C locale", () => {
  it("agrees on 120,000 random edge-case pairs (brackets, ranges, negation, classes, escapes, stars)", () => {
    const r = rng(0x6b62696e);
    const pairs: [string, string][] = [];
    for (let i = 0; i < 120_000; i++) pairs.push(genPair(r));
    const bad = diff(pairs);
    expect(bad.slice(0, 20)).toEqual([]);
    // The generator must reach both outcomes often, or the comparison proves little.
    const matches = glibcFnmatchBatch(exe, pairs.slice(0, 20_000)).filter(Boolean).length;
    expect(matches).toBeGreaterThan(2_000);
    expect(matches).toBeLessThan(18_000);
  });

  it("agrees on every pattern of up to 3 symbols from a 12-symbol alphabet against short strings", () => {
    const sym = ["a", "b", "-", "]", "[", "!", "^", "\\", "*", "?", ":", "."];
    const pats: string[] = [""];
    for (const a of sym) {
      pats.push(a);
      for (const b of sym) {
        pats.push(a + b);
        for (const c of sym) pats.push(a + b + c);
      }
    }
    const strs = ["", "a", "b", "-", "]", "[", "!", "\\", "ab", "a-", "[a", "]a", "[]", "a]", "[!", "[a]", "*", "?"];
    const pairs: [string, string][] = [];
    for (const p of pats) for (const s of strs) pairs.push([p, s]);
    expect(pairs.length).toBeGreaterThan(30_000);
    expect(diff(pairs).slice(0, 20)).toEqual([]);
  });

  it("the hand-written table of test/kmod/fnmatch.test.ts is what glibc answers", () => {
    const want = glibcFnmatchBatch(exe, FNMATCH_TABLE.map(([p, s]) => [p, s] as const));
    expect(FNMATCH_TABLE.map(([p, s, m, why]) => [p, s, m, why])).toEqual(FNMATCH_TABLE.map(([p, s, , why], i) => [p, s, want[i], why]));
  });

  it("agrees on real modules.alias-like patterns and modaliases", () => {
    const pairs: [string, string][] = [
      ["pci:v00008086d0000100Esv*sd*bc*sc*i*", "pci:v00008086d0000100Esv00001AF4sd00001100bc02sc00i00"],
      ["pci:v*d*sv*sd*bc0Csc03i30*", "pci:v00001B36d0000000Dsv00001AF4sd00001100bc0Csc03i30"],
      ["of:N*T*Cvendor,dev-[0-9]*", "of:NserialT(null)Cvendor,dev-3"],
      ["acpi*:PNP0501:*", "acpi:PNP0501:"],
      ["usb:v*p*d*dc*dsc*dp*ic03isc01ip01in*", "usb:v046Dp C52Bd1211dc00dsc00dp00ic03isc01ip01in00"],
      ["virtio:d00000001v*", "virtio:d00000001v00001AF4"],
    ];
    expect(diff(pairs)).toEqual([]);
    expect(pairs.map(([p, s]) => fnmatch(p, s))).toEqual([true, true, true, true, true, true]);
  });
});
