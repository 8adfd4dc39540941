// readElfModuleInfo (the one-pass reader depmod uses) against the general ELF functions
// (parseElf + readSymbols/readModinfo/readExports/readNeeds): same results, same errors; and the
// host's sparse reader (KoReader) against whole-file reads on real Debian modules.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { KoReader } from "../../src/host/kmod-files.ts";
import { parseElf, readElfModuleInfo, readExports, readModinfo, readNeeds, readSymbols } from "../../src/kmod/elf.ts";
import { SymbolNames } from "../../src/kmod/symbol-names.ts";
import { makeFakeKo } from "./helpers/fake-ko.ts";

interface NamedInfo {
  modinfo: [string, string][];
  exports: string[];
  needs: string[];
}

function general(bytes: Uint8Array, file: string): NamedInfo {
  const elf = parseElf(bytes, file);
  const syms = readSymbols(elf);
  return { modinfo: readModinfo(elf), exports: readExports(elf, syms), needs: readNeeds(elf, syms).map((n) => n.name) };
}

/** readElfModuleInfo with its symbol ids turned back into names (a fresh table, or the one given). */
function fast(bytes: Uint8Array, file: string, keys?: string[], symbols = new SymbolNames()): NamedInfo {
  const info = readElfModuleInfo(bytes, file, symbols, keys);
  return { modinfo: info.modinfo, exports: Array.from(info.exports, (s) => symbols.name(s)), needs: Array.from(info.needs, (s) => symbols.name(s)) };
}

function outcome(f: () => NamedInfo): unknown {
  try {
    return { ok: f() };
  } catch (e) {
    return { error: e instanceof Error ? `${e.name} ${(e as { code?: string }).code ?? ""} ${e.message} ${JSON.stringify((e as { location?: unknown }).location)}` : String(e) };
  }
}

const DEB = join(import.meta.dirname, "../../.cache/debian/linux-image-6.1.0-56-amd64/root/lib/modules/6.1.0-56-amd64");

function kosUnder(dir: string, rel = "", out: string[] = []): string[] {
  for (const e of readdirSync(join(dir, rel), { withFileTypes: true })) {
    const r = rel === "" ? e.name : `${rel}/${e.name}`;
    if (e.isDirectory()) kosUnder(dir, r, out);
    else if (e.name.endsWith(".ko")) out.push(r);
  }
  return out;
}

describe("readElfModuleInfo (names through SymbolNames) = parseElf + readSymbols + readModinfo + readExports + readNeeds", () => {
  const specs = [
    { modinfo: [["alias", "pci:v*d*sv*sd*bc02sc*i*"], ["license", "GPL"], ["depends", ""], ["noequals", ""]], exports: ["s1", "s2"], needs: ["t", "printk"], weakNeeds: ["w"] },
    { modinfo: [["alias", "x"]], needs: ["a"], is64: false, le: false, pad: true },
    { modinfo: [["k", "v=w"]], exports: ["e"], is64: true, le: false },
    { modinfo: [] },
  ] as Parameters<typeof makeFakeKo>[0][];

  it("same result or same KbindError on fake modules, truncated and with random byte edits", () => {
    for (const spec of specs) {
      const ko = makeFakeKo(spec);
      expect(outcome(() => fast(ko, "m.ko"))).toEqual(outcome(() => general(ko, "m.ko")));
      const keys = ["alias", "depends", "noequals"];
      const filtered = general(ko, "m.ko");
      expect(fast(ko, "m.ko", keys)).toEqual({ ...filtered, modinfo: filtered.modinfo.filter(([k]) => keys.includes(k)) });
      for (let n = 0; n < ko.length; n += 3) {
        const b = ko.slice(0, n);
        expect(outcome(() => fast(b, "m.ko"))).toEqual(outcome(() => general(b, "m.ko")));
      }
      fc.assert(
        fc.property(fc.array(fc.tuple(fc.nat(ko.length - 1), fc.nat(255)), { minLength: 1, maxLength: 8 }), (edits) => {
          const b = ko.slice();
          for (const [at, v] of edits) b[at] = v;
          expect(outcome(() => fast(b, "m.ko"))).toEqual(outcome(() => general(b, "m.ko")));
        }),
        { numRuns: 1500 },
      );
    }
  });

  it.skipIf(!existsSync(DEB))("Debian 6.1 amd64: sparse reads (KoReader) give the same module as the whole file, whatever the buffer held before", () => {
    const all = kosUnder(DEB, "kernel");
    // Every 7th module plus the largest ones (several reads, buffer growth).
    const pick = all.filter((_, i) => i % 7 === 0);
    pick.push(...["kernel/drivers/gpu/drm/amd/amdgpu/amdgpu.ko", "kernel/fs/ext4/ext4.ko", "kernel/net/mac80211/mac80211.ko"].filter((p) => all.includes(p)));
    const reader = new KoReader();
    const fresh = new KoReader();
    // One symbol table for all modules, as depmod uses it.
    const shared = new SymbolNames();
    let sparse = 0;
    for (const [i, rel] of pick.entries()) {
      const whole = readFileSync(join(DEB, rel));
      // Leave another module's bytes in the shared buffer first.
      reader.read(join(DEB, pick[(i * 31 + 5) % pick.length]!));
      const before = reader.bytesRead;
      const img = reader.read(join(DEB, rel));
      if (reader.bytesRead - before < whole.length) sparse++;
      expect(img.length).toBe(whole.length);
      const want = general(whole, rel);
      expect(fast(img, rel, undefined, shared)).toEqual(want);
      expect(fast(img, rel, ["alias", "softdep"]).modinfo).toEqual(want.modinfo.filter(([k]) => k === "alias" || k === "softdep"));
      expect(fast(fresh.read(join(DEB, rel)), rel)).toEqual(want);
    }
    expect(sparse).toBeGreaterThan(pick.length / 5);
  });
});
