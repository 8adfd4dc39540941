// kmod's own testsuite (testsuite/test-*.c, data vendored in test/kmod/data/kmod-testsuite = kmod's
// rootfs-pristine) run against kbind, data-driven: each fixture directory is a fake root whose
// /lib/modules, /etc/modprobe.d and /proc/cmdline libkmod sees (as testsuite/path.c traps them);
// the kernel is an in-memory fake (testsuite/init_module.c). The .ko files are not in the
// fixtures: module files are not stat'ed here (checkModuleFiles: false).
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readConfigPath, readModuleDir } from "../../src/host/kmod-files.ts";
import { wrappedLines } from "../../src/kmod/config.ts";
import { createKmodContext } from "../../src/kmod/context.ts";
import { depmodFromKoFiles } from "../../src/kmod/depmod-ko.ts";
import { lookup } from "../../src/kmod/lookup.ts";
import { modprobe, type ModprobeEnv } from "../../src/kmod/modprobe.ts";
import { getSoftdeps, getWeakdeps, isBlacklisted } from "../../src/kmod/probe.ts";
import { makeFakeKo } from "./helpers/fake-ko.ts";
import { FakeKernel } from "./helpers/fake-kernel.ts";

const TS = join(import.meta.dirname, "data/kmod-testsuite"); // vendored: see its README.md


function fixture(rel: string): { dir: string; kernel: FakeKernel; env: ModprobeEnv } {
  const dir = join(TS, rel);
  const kernel = new FakeKernel();
  const cmdline = join(dir, "proc/cmdline");
  kernel.cmdline = existsSync(cmdline) ? readFileSync(cmdline, "latin1") : "";
  const mods = join(dir, "lib/modules");
  const ver = existsSync(mods) ? (readdirSync(mods)[0] ?? "4.4.4") : "4.4.4";
  const env: ModprobeEnv = {
    kernel,
    unameRelease: ver,
    env: {},
    openModuleDir: (d) => readModuleDir(join(dir, d)),
    readConfigPath: (p) => {
      const e = readConfigPath(join(dir, p));
      return e.kind === "missing" ? e : { ...e, path: p };
    },
    checkModuleFiles: false,
  };
  kernel.modprobe = (args) => modprobe(args, env).code;
  return { dir, kernel, env };
}

function ctxFor(rel: string, configFiles: { path: string; text: string }[] = []) {
  const f = fixture(rel);
  const ver = f.env.unameRelease;
  return createKmodContext({ moduleDir: f.env.openModuleDir(`/lib/modules/${ver}`), dirname: `/lib/modules/${ver}`, configFiles, kernel: f.kernel, checkModuleFiles: false });
}

function confFiles(rel: string): { path: string; text: string }[] {
  const d = join(TS, rel, "etc/modprobe.d");
  if (!existsSync(d)) return [];
  return readdirSync(d)
    .sort()
    .map((n) => ({ path: `/etc/modprobe.d/${n}`, text: readFileSync(join(d, n), "latin1") }));
}

const read = (rel: string): string => readFileSync(join(TS, rel), "latin1");

describe("kmod testsuite (rootfs-pristine) against kbind", () => {
  it("test-new-module.c from_name: kmod_module_new_from_name normalises dashes, keeps case", () => {
    const ctx = ctxFor("test-new-module/from_name");
    const names = ["ext4", "balbalbalbbalbalbalbalbalbalbal", "snd-hda-intel", "snd-timer", "iTCO_wdt"];
    const out = names.map((n) => `modname: ${ctx.moduleFromName(n).name}\n`).join("");
    expect(out + "\n").toBe(read("test-new-module/from_name/correct.txt"));
  });

  it("test-new-module.c from_alias: config alias `ext4.*` fnmatches the literal key", () => {
    const ctx = ctxFor("test-new-module/from_alias", confFiles("test-new-module/from_alias"));
    const out = lookup(ctx, "ext4.*").map((m) => `modname: ${m.name}\n`).join("");
    expect(out + "\n").toBe(read("test-new-module/from_alias/correct.txt"));
  });

  it("test-blacklist.c blacklist_1: exact-name blacklist keeps pcspkr2 and ext4", () => {
    const ctx = ctxFor("test-blacklist", confFiles("test-blacklist"));
    const kept = ["pcspkr", "pcspkr2", "floppy", "ext4"].map((n) => ctx.moduleFromName(n)).filter((m) => !isBlacklisted(ctx, m));
    expect(kept.map((m) => m.name)).toEqual(["pcspkr2", "ext4"]);
  });

  it("test-modprobe.c modprobe_show_alias_to_none: a config alias to a missing module shadows the real one", () => {
    const f = fixture("test-modprobe/alias-to-none");
    const r = modprobe(["--show-depends", "--ignore-install", "mod-simple"], f.env);
    expect(r.stdout).toBe(read("test-modprobe/alias-to-none/correct.txt"));
    expect(r.code).toBe(0);
    expect(f.kernel.inserted).toEqual([]);
  });

  it("test-modprobe.c modprobe_builtin / builtin_lookup_only: unix is builtin", () => {
    const f = fixture("test-modprobe/builtin");
    expect(modprobe(["unix"], f.env)).toEqual({ code: 0, stdout: "", stderr: "" });
    expect(modprobe(["-R", "unix"], f.env).stdout).toBe(read("test-modprobe/builtin/correct.txt"));
    // --first-time on a builtin: "Module already in kernel" (module_is_inkernel counts BUILTIN).
    expect(modprobe(["--first-time", "unix"], f.env)).toEqual({ code: 1, stdout: "", stderr: "modprobe: ERROR: could not insert 'unix': Module already in kernel\n" });
  });

  it("test-modprobe.c modprobe_show_depends / show_depends2: dependencies first, trailing space", () => {
    const f = fixture("test-modprobe/show-depends");
    expect(modprobe(["--show-depends", "mod-loop-a"], f.env).stdout).toBe(read("test-modprobe/show-depends/correct.txt"));
    expect(modprobe(["--show-depends", "mod-simple"], f.env).stdout).toBe(read("test-modprobe/show-depends/correct-mod-simple.txt"));
    expect(f.kernel.inserted).toEqual([]);
  });

  it("test-modprobe.c modprobe_softdep_loop: terminates and loads mod-loop-a, mod-loop-b", () => {
    const f = fixture("test-modprobe/softdep-loop");
    const r = modprobe(["mod-loop-b"], f.env);
    expect(r.code).toBe(0);
    expect(new Set(f.kernel.live.keys())).toEqual(new Set(["mod_loop_a", "mod_loop_b"]));
  });

  it("test-modprobe.c modprobe_install_cmd_loop: install command re-entering modprobe terminates", () => {
    const f = fixture("test-modprobe/install-cmd-loop");
    const r = modprobe(["mod-loop-a"], f.env);
    expect(r.code).toBe(0);
    expect(new Set(f.kernel.live.keys())).toEqual(new Set(["mod_loop_b", "mod_loop_a"]));
    expect(f.kernel.commands[0]!.env).toEqual({ MODPROBE_MODULE: "mod_loop_b" });
  });

  it("test-modprobe.c modprobe_weakdep_loop: weakdeps are never loaded", () => {
    const f = fixture("test-modprobe/weakdep-loop");
    expect(modprobe(["mod-loop-b"], f.env).code).toBe(0);
    expect([...f.kernel.live.keys()]).toEqual(["mod_loop_b"]);
  });

  it("test-modprobe.c modprobe_param_kcmdline: kernel command-line options reach --show-depends", () => {
    const f = fixture("test-modprobe/module-param-kcmdline");
    expect(modprobe(["--show-depends", "mod-simple"], f.env).stdout).toBe(read("test-modprobe/module-param-kcmdline/correct.txt"));
  });

  for (const n of [2, 3, 4, 5, 6, 7, 8, 9]) {
    it(`test-modprobe.c modprobe_param_kcmdline${n}: modprobe -c shows cmdline options/blacklist (kmod_config_parse_kcmdline)`, () => {
      const f = fixture(`test-modprobe/module-param-kcmdline${n}`);
      const r = modprobe(["-c"], f.env);
      expect(r.stdout).toBe(read(`test-modprobe/module-param-kcmdline${n}/correct.txt`));
      expect(r.code).toBe(0);
      if (n === 6) expect(r.stderr).toBe("libkmod: ERROR ../libkmod/libkmod-config.c:489 kcmdline_parse_result: Ignoring bad option on kernel command line while parsing module name: 'ivrs_acpihid[14:00'\n");
    });
  }

  it("test-multi-softdep.c multi_softdep (expected_fail upstream): the FIRST matching softdep line wins", () => {
    const ctx = ctxFor("test-multi-softdep", confFiles("test-multi-softdep"));
    const a = getSoftdeps(ctx, ctx.moduleFromName("mod-softdep-a"));
    const b = getSoftdeps(ctx, ctx.moduleFromName("mod-softdep-b"));
    // kmod's current behaviour (issue #33), not the test's desired merge.
    expect([a.pre.map((m) => m.name), a.post.map((m) => m.name)]).toEqual([["mod_foo_a"], []]);
    expect([b.pre.map((m) => m.name), b.post.map((m) => m.name)]).toEqual([["mod_foo_a"], []]);
  });

  it("test-weakdep.c test_weakdep: weakdeps from config and modules.weakdep (kmod >= 33 behaviour)", () => {
    const f = fixture("test-weakdep");
    const ver = f.env.unameRelease;
    const dirname = `/lib/modules/${ver}`;
    const md = f.env.openModuleDir(dirname);
    const files = [...confFiles("test-weakdep"), { path: `${dirname}/modules.weakdep`, text: md.text("modules.weakdep") ?? "" }];
    const ctx = createKmodContext({ moduleDir: md, dirname, configFiles: files, kernel: f.kernel, checkModuleFiles: false, weakdep: true });
    const out = ["mod-loop-b", "mod-weakdep"]
      .map((n) => {
        const w = getWeakdeps(ctx, ctx.moduleFromName(n));
        return `${n}:${w.map((m) => " " + m.name).join("")}\n`;
      })
      .join("");
    expect(out).toBe(read("test-weakdep/correct-weakdep.txt"));
  });

  it("test-dependencies.c: kmod_module_get_dependencies returns the modules.dep line's 3 modules", () => {
    const ctx = ctxFor("test-dependencies");
    const deps = ctx.moduleFromName("mod-foo").getDependencies().map((m) => m.name);
    expect(new Set(deps)).toEqual(new Set(["mod_foo_b", "mod_foo_a", "mod_foo_c"]));
    expect(deps).toHaveLength(3);
  });

  it("test-initstate.c: a modules.builtin entry is BUILTIN via lookup and via name", () => {
    const ctx = ctxFor("test-initstate");
    expect(lookup(ctx, "fake-builtin").map((m) => m.initstate())).toEqual(["builtin"]);
    expect(ctx.moduleFromName("fake-builtin").initstate()).toBe("builtin");
  });

  it("test-init.c test_load_resource1/2: indexes load with modules.builtin.alias.bin missing or empty", () => {
    for (const rel of ["test-init-load-resources-empty-builtin-aliases-bin", "test-initstate"]) {
      const ctx = ctxFor(rel);
      expect(ctx.moduleDir.index("alias").index).not.toBeNull();
      expect(ctx.moduleDir.index("dep").index).not.toBeNull();
    }
  });

  it("test-util.c test_freadline_wrapped: continuation lines", () => {
    const input = read("test-util/freadline_wrapped-input.txt");
    // The test prints each logical line and how many physical lines it took.
    let prev = 0;
    const out = wrappedLines(input)
      .map((l) => {
        const n = l.lineno - prev;
        prev = l.lineno;
        return `${l.line}\n${n}\n`;
      })
      .join("");
    expect(out).toBe(read("test-util/freadline_wrapped-correct.txt"));
  });

  it("test-depmod.c depmod_modules_order_for_compressed / modules_outdir: modules.alias follows modules.order", () => {
    const expected = read("test-depmod/modules-outdir/correct-modules.alias");
    const byMod = new Map<string, string[]>();
    for (const l of expected.split("\n").slice(1)) {
      if (l === "") continue;
      const [, pat, mod] = l.split(" ");
      byMod.set(mod!, [...(byMod.get(mod!) ?? []), pat!]);
    }
    const rel: Record<string, string> = { cciss: "kernel/drivers/block/cciss.ko", scsi_mod: "kernel/drivers/scsi/scsi_mod.ko", hpsa: "kernel/drivers/scsi/hpsa.ko" };
    // Files given in reverse order: only modules.order may decide the output order.
    const kos = ["hpsa", "scsi_mod", "cciss"].map((m) => ({ relpath: rel[m]!, bytes: makeFakeKo({ modinfo: (byMod.get(m) ?? []).map((a) => ["alias", a]) }) }));
    for (const dir of ["modules-outdir", "modules-order-compressed"]) {
      const order = read(`test-depmod/${dir}/lib/modules/4.4.4/modules.order`);
      const r = depmodFromKoFiles(kos, { order, builtin: "" });
      expect(Buffer.from(r.files.get("modules.alias")!).toString("latin1")).toBe(expected);
    }
  });
});
