// Bad input, fuzzed: truncated/corrupt .bin indexes, non-ELF/truncated .ko files, bracket errors,
// arbitrary modprobe.d text and kernel command lines, softdep loops. kbind must behave like kmod
// (skip, log, "not found") or raise a KbindError with a location — never hang, never crash with a
// generic exception.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { emptyConfig, parseConfigFile, parseKernelCmdline } from "../../src/kmod/config.ts";
import { createKmodContext } from "../../src/kmod/context.ts";
import { depmodFromKoFiles, moduleFromKo } from "../../src/kmod/depmod-ko.ts";
import { buildModuleDir, ModuleDir } from "../../src/kmod/module-dir.ts";
import { IndexBuilder, KmodIndex } from "../../src/kmod/index-bin.ts";
import { lookupWithError } from "../../src/kmod/lookup.ts";
import { modprobe, type ModprobeEnv } from "../../src/kmod/modprobe.ts";
import { SymbolNames } from "../../src/kmod/symbol-names.ts";
import { KMOD_PROBE_DRY_RUN, KMOD_PROBE_IGNORE_LOADED, probeInsertModule, probeList } from "../../src/kmod/probe.ts";
import { KbindError } from "../../src/model/errors.ts";
import { makeFakeKo } from "./helpers/fake-ko.ts";
import { FakeKernel } from "./helpers/fake-kernel.ts";

function sampleIndex(): Uint8Array {
  const b = new IndexBuilder();
  const keys = ["pci:v00008086d*sv*sd*bc*sc*i*", "pci:v*d*sv*sd*bc02sc*i*", "of:N*T*Cacme,uart", "usb:v1234p*", "foo[ab]_x", "fooc"];
  keys.forEach((k, i) => b.insert(k, `m${i % 3}`, i));
  return b.write();
}

function onlyKbindErrors(f: () => unknown): void {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(KbindError);
  }
}

const env = (files: Map<string, Uint8Array>, kernel = new FakeKernel()): ModprobeEnv => ({
  kernel,
  unameRelease: "1.0",
  env: {},
  openModuleDir: () => ModuleDir.fromFiles(files),
  readConfigPath: (p) => ({ kind: "missing", path: p }),
  checkModuleFiles: false,
});

describe("bad input (fuzzed): kmod's behaviour or a KbindError, never a hang or crash", () => {
  const good = sampleIndex();

  it("index_mm_open: truncated .bin files are rejected with INDEX_BAD_HEADER / INDEX_CORRUPT", () => {
    for (let n = 0; n < good.length; n++) {
      onlyKbindErrors(() => {
        const ki = KmodIndex.parse(good.slice(0, n));
        ki.searchWild("pci:v00008086d00001234sv00000000sd00000000bc02sc00i00");
      });
    }
    expect(() => KmodIndex.parse(good.slice(0, 11))).toThrow(/shorter than the 12-byte index header/);
  });

  it("corrupt .bin bytes: parse, search, searchWild and dump terminate; errors are KbindErrors", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(good.length - 1), fc.nat(255)), { minLength: 1, maxLength: 8 }), fc.boolean(), (edits, keepHeader) => {
        const b = good.slice();
        for (const [at, v] of edits) if (!keepHeader || at >= 8) b[at] = v;
        onlyKbindErrors(() => {
          const ki = KmodIndex.parse(b);
          ki.search("fooc");
          ki.searchWild("pci:v00008086d00001234sv00000000sd00000000bc02sc00i00");
          ki.searchWild("of:NxT(null)Cacme,uart");
          ki.searchWild("foo*");
          ki.dump("alias ");
        });
      }),
      { numRuns: 2000 },
    );
  });

  it("a child range inverted only as unsigned bytes (0xB1..0x75: signed -79..117, libkmod's child_count 197) is INDEX_CORRUPT, not a RangeError", () => {
    const b = good.slice();
    b[230] = 177;
    b[8] = 112;
    expect(() => KmodIndex.parse(b)).toThrow(/child table at offset 232 is truncated/);
  });

  it("a node that points at itself (a cycle libkmod would follow forever) is INDEX_CORRUPT", () => {
    const b = new Uint8Array([0xb0, 0x07, 0xf4, 0x57, 0, 2, 0, 1, 0x20, 0, 0, 12, 0x61, 0x61, 0x20, 0, 0, 12]);
    expect(() => KmodIndex.parse(b)).toThrow(/cycle/);
  });

  it("modprobe on a tree with corrupt indexes: kmod's log line or 'not found', exit code, no exception", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(good.length - 1), fc.nat(255)), { maxLength: 6 }), fc.nat(good.length), (edits, cut) => {
        const b = good.slice(0, Math.max(cut, 0));
        for (const [at, v] of edits) if (at < b.length) b[at] = v;
        const files = new Map([
          ["modules.alias.bin", b],
          ["modules.dep.bin", new IndexBuilder().write()],
          ["modules.symbols.bin", new IndexBuilder().write()],
          ["modules.builtin.bin", new IndexBuilder().write()],
        ]);
        const r = modprobe(["-R", "pci:v00008086d00001234sv00000000sd00000000bc02sc00i00"], env(files));
        expect([0, 1]).toContain(r.code);
      }),
      { numRuns: 500 },
    );
    // As kmod_load_resources: dep.bin opens first, then alias.bin fails its magic check (logged once).
    const files = new Map([
      ["modules.dep.bin", new IndexBuilder().write()],
      ["modules.alias.bin", new TextEncoder().encode("garbage!garbage!")],
    ]);
    expect(modprobe(["-R", "x"], env(files)).stderr).toBe(
      "modprobe: ERROR: ../libkmod/libkmod-index.c:790 index_mm_open() magic check fail: 67617262 instead of b007f457\nmodprobe: FATAL: Module x not found in directory /lib/modules/1.0\n",
    );
  });

  it("kmod_elf_new: non-ELF and truncated .ko files raise BAD_ELF with an offset; depmod skips them", () => {
    const ko = makeFakeKo({ modinfo: [["alias", "pci:v*d*sv*sd*bc02sc*i*"]], exports: ["s"], needs: ["t"] });
    for (let n = 0; n < ko.length; n += 7) onlyKbindErrors(() => moduleFromKo({ relpath: "kernel/x.ko", bytes: ko.slice(0, n) }, new SymbolNames()));
    expect(() => moduleFromKo({ relpath: "kernel/x.ko", bytes: new TextEncoder().encode("#!/bin/sh\necho not a module\n") }, new SymbolNames())).toThrow(/not an ELF file/);
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(ko.length - 1), fc.nat(255)), { minLength: 1, maxLength: 10 }), (edits) => {
        const b = ko.slice();
        for (const [at, v] of edits) b[at] = v;
        onlyKbindErrors(() => moduleFromKo({ relpath: "kernel/x.ko", bytes: b }, new SymbolNames()));
      }),
      { numRuns: 2000 },
    );
    const r = depmodFromKoFiles([
      { relpath: "kernel/bad.ko", bytes: new Uint8Array([1, 2, 3]) },
      { relpath: "kernel/good.ko", bytes: ko },
    ]);
    expect(r.skipped.map((e) => e.code)).toEqual(["BAD_ELF"]);
    expect(r.order).toEqual(["good"]);
  });

  it("corrupt gzip/zstd module files raise BAD_COMPRESSED_MODULE", () => {
    expect(() => moduleFromKo({ relpath: "kernel/x.ko.gz", bytes: new Uint8Array([0x1f, 0x8b, 8, 0, 1, 2, 3]) }, new SymbolNames())).toThrow(/gzip decompression failed/);
    expect(() => moduleFromKo({ relpath: "kernel/x.ko.zst", bytes: new Uint8Array([0x28, 0xb5, 0x2f, 0xfd, 9, 9, 9, 9]) }, new SymbolNames())).toThrow(KbindError);
  });

  it("alias_normalize: an unmatched bracket in a lookup key is -EINVAL → 'not found' (kmod_module_new_from_lookup)", () => {
    const md = buildModuleDir([{ name: "m", relpath: "kernel/m.ko", modinfo: [["alias", "foo[ab]"]] }], { order: "kernel/m.ko\n", builtin: "", builtinModinfo: new Uint8Array() });
    const ctx = createKmodContext({ moduleDir: md, dirname: "/lib/modules/1.0", configFiles: [], kernel: new FakeKernel(), checkModuleFiles: false });
    expect(lookupWithError(ctx, "foo[").err).toBe(-22);
    expect(lookupWithError(ctx, "bar]x").err).toBe(-22);
    expect(lookupWithError(ctx, "fooa").modules.map((m) => m.name)).toEqual(["m"]);
  });

  it("kmod_config_parse: arbitrary modprobe.d text never throws; bad lines are diagnostics with file:line", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), fc.array(fc.constantFrom("alias ", "options ", "softdep ", "install ", "blacklist ", "[", "]", "\\\n", "\t", " pre: ", "#", "\n"), { maxLength: 30 }), (junk, parts) => {
        const cfg = emptyConfig();
        parseConfigFile(cfg, { path: "/etc/modprobe.d/fuzz.conf", text: junk + parts.join("") });
        for (const d of cfg.diagnostics) expect(d.message).toMatch(/fuzz\.conf/);
      }),
      { numRuns: 2000 },
    );
  });

  it("kmod_config_parse_kcmdline: arbitrary command lines never throw", () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom("a", ".", "=", '"', " ", "[", "]", "-", "modprobe.blacklist=", "x,y", "\n"), { maxLength: 40 }), (parts) => {
        const cfg = emptyConfig();
        parseKernelCmdline(cfg, parts.join(""));
      }),
      { numRuns: 2000 },
    );
  });

  it("softdep loops (including self-softdeps) terminate: the `visited` flag breaks them", () => {
    const md = buildModuleDir(
      [
        { name: "a", relpath: "kernel/a.ko", modinfo: [["softdep", "pre: b post: a"]] },
        { name: "b", relpath: "kernel/b.ko", modinfo: [["softdep", "pre: c"], ["depends", "c"]] },
        { name: "c", relpath: "kernel/c.ko", modinfo: [["softdep", "post: a b"]] },
      ],
      { order: "kernel/c.ko\nkernel/b.ko\nkernel/a.ko\n", builtin: "", builtinModinfo: new Uint8Array() },
    );
    const kernel = new FakeKernel();
    const ctx = createKmodContext({ moduleDir: md, dirname: "/lib/modules/1.0", configFiles: [{ path: "/etc/modprobe.d/l.conf", text: "softdep c pre: a\n" }], kernel, checkModuleFiles: false });
    const list = probeList(ctx, ctx.moduleFromName("a"), false).map((m) => m.name);
    expect(list.length).toBeLessThan(20);
    expect(probeInsertModule(ctx, ctx.moduleFromName("a"), KMOD_PROBE_IGNORE_LOADED | KMOD_PROBE_DRY_RUN)).toBe(0);
    expect(probeInsertModule(ctx, ctx.moduleFromName("a"), 0)).toBe(0);
    expect(new Set(kernel.live.keys())).toEqual(new Set(["a", "b", "c"]));
  });

  it("an install command whose options contain $CMDLINE_OPTS (kmod would substitute forever) is a KbindError", () => {
    const md = buildModuleDir([{ name: "a", relpath: "kernel/a.ko", modinfo: [] }], { order: "kernel/a.ko\n", builtin: "", builtinModinfo: new Uint8Array() });
    const ctx = createKmodContext({
      moduleDir: md,
      dirname: "/lib/modules/1.0",
      configFiles: [{ path: "/etc/modprobe.d/l.conf", text: "install a /bin/true $CMDLINE_OPTS\noptions a x=$CMDLINE_OPTS\n" }],
      kernel: new FakeKernel(),
      checkModuleFiles: false,
    });
    expect(() => probeInsertModule(ctx, ctx.moduleFromName("a"), 0)).toThrow(/substitute forever/);
  });
});
