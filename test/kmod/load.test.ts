// Loading through the KmodKernelPort (what the simulator implements): buildModuleDir from inline
// modinfo, kmod_module_probe_insert_module's order and error rules, modprobe's messages for
// insert failures (tools/modprobe.c insmod), and udev's module_load_and_warn (systemd
// src/shared/module-util.c) with KMOD_PROBE_APPLY_BLACKLIST.
import { describe, expect, it } from "vitest";
import { Command } from "commander";
import { bufferIo, ExitCode } from "../../src/cli/io.ts";
import { register as registerModprobe } from "../../src/cli/commands/modprobe.ts";
import { createKmodContext } from "../../src/kmod/context.ts";
import { lookup } from "../../src/kmod/lookup.ts";
import { buildModuleDir } from "../../src/kmod/module-dir.ts";
import { modprobe, type ModprobeEnv } from "../../src/kmod/modprobe.ts";
import { KMOD_PROBE_APPLY_BLACKLIST, KMOD_PROBE_APPLY_BLACKLIST_ALIAS_ONLY, KMOD_PROBE_FAIL_ON_LOADED, probeInsertModule } from "../../src/kmod/probe.ts";
import { moduleLoadAndWarn } from "../../src/kmod/udev-load.ts";
import { FakeKernel } from "./helpers/fake-kernel.ts";

const DIR = "/lib/modules/6.1.0-kbind";

function world(config = "") {
  const md = buildModuleDir(
    [
      { name: "vfio", relpath: "kernel/drivers/vfio/vfio.ko", modinfo: [["license", "GPL"]] },
      { name: "vfio-pci-core", relpath: "kernel/drivers/vfio/pci/vfio-pci-core.ko", modinfo: [["depends", "vfio"]] },
      { name: "vfio-pci", relpath: "kernel/drivers/vfio/pci/vfio-pci.ko", modinfo: [["alias", "vfio_pci:v*d*sv*sd*bc*sc*i*"], ["depends", "vfio-pci-core"], ["softdep", "pre: vfio-iommu-type1"]] },
      { name: "vfio_iommu_type1", relpath: "kernel/drivers/vfio/vfio_iommu_type1.ko", modinfo: [["depends", "vfio"]] },
      { name: "mlx5_vfio_pci", relpath: "kernel/drivers/vfio/pci/mlx5/mlx5-vfio-pci.ko", modinfo: [["alias", "vfio_pci:v000015B3d0000101Esv*sd*bc*sc*i*"], ["depends", "vfio-pci-core"]] },
      { name: "e1000e", relpath: "kernel/drivers/net/ethernet/intel/e1000e/e1000e.ko", modinfo: [["alias", "pci:v00008086d000010D3sv*sd*bc*sc*i*"]] },
    ],
    {
      order: "kernel/drivers/vfio/vfio.ko\nkernel/drivers/vfio/vfio_iommu_type1.ko\nkernel/drivers/vfio/pci/vfio-pci-core.ko\nkernel/drivers/vfio/pci/vfio-pci.ko\nkernel/drivers/vfio/pci/mlx5/mlx5-vfio-pci.ko\nkernel/drivers/net/ethernet/intel/e1000e/e1000e.ko\n",
      builtin: "kernel/net/unix/unix.ko\n",
      builtinModinfo: new TextEncoder().encode("unix.alias=net-pf-1\0"),
    },
  );
  const kernel = new FakeKernel();
  const ctx = createKmodContext({ moduleDir: md, dirname: DIR, configFiles: [{ path: "/etc/modprobe.d/t.conf", text: config }], kernel, checkModuleFiles: false });
  const env: ModprobeEnv = {
    kernel,
    unameRelease: "6.1.0-kbind",
    env: {},
    openModuleDir: () => md,
    readConfigPath: (p) => (p === "/etc/modprobe.d" ? { kind: "dir", path: p, entries: [{ name: "t.conf", isDir: false, text: config }] } : { kind: "missing", path: p }),
    checkModuleFiles: false,
  };
  return { md, kernel, ctx, env };
}

describe("loading through KmodKernelPort (libkmod-module.c kmod_module_probe_insert_module)", () => {
  it("buildModuleDir: depmod's files from inline modinfo (deps from `depends`, aliases in modules.order order)", () => {
    const { md } = world();
    expect(md.text("modules.dep")).toBe(
      "kernel/drivers/vfio/vfio.ko:\nkernel/drivers/vfio/vfio_iommu_type1.ko: kernel/drivers/vfio/vfio.ko\nkernel/drivers/vfio/pci/vfio-pci-core.ko: kernel/drivers/vfio/vfio.ko\nkernel/drivers/vfio/pci/vfio-pci.ko: kernel/drivers/vfio/pci/vfio-pci-core.ko kernel/drivers/vfio/vfio.ko\nkernel/drivers/vfio/pci/mlx5/mlx5-vfio-pci.ko: kernel/drivers/vfio/pci/vfio-pci-core.ko kernel/drivers/vfio/vfio.ko\nkernel/drivers/net/ethernet/intel/e1000e/e1000e.ko:\n",
    );
    expect(md.text("modules.softdep")).toBe("# Soft dependencies extracted from modules themselves.\nsoftdep vfio_pci pre: vfio-iommu-type1\n");
  });

  it("lookup: a vfio_pci: key resolves to the generic and the variant driver, in modules.order order", () => {
    const { ctx } = world();
    expect(lookup(ctx, "vfio_pci:v000015B3d0000101Esv000015B3sd00000001bc02sc00i00").map((m) => m.name)).toEqual(["vfio_pci", "mlx5_vfio_pci"]);
    expect(lookup(ctx, "net-pf-1").map((m) => [m.name, m.initstate()])).toEqual([["unix", "builtin"]]);
  });

  it("probe order: dependencies deepest first, pre-softdep before the module; params only for the top module", () => {
    const { ctx, kernel } = world("options vfio_pci ids=15b3:101e\n");
    const [m] = lookup(ctx, "vfio-pci");
    expect(probeInsertModule(ctx, m!, KMOD_PROBE_APPLY_BLACKLIST_ALIAS_ONLY, { extraOptions: "disable_idle_d3=1" })).toBe(0);
    expect(kernel.inserted.map((x) => [x.name, x.params])).toEqual([
      ["vfio", ""],
      ["vfio_pci_core", ""],
      ["vfio_iommu_type1", ""],
      ["vfio_pci", "ids=15b3:101e disable_idle_d3=1"],
    ]);
    expect(probeInsertModule(ctx, m!, KMOD_PROBE_FAIL_ON_LOADED)).toBe(-17);
  });

  it("modprobe: insert failures print kmod's messages and exit 1; the last module's result wins", () => {
    const { env, kernel } = world();
    kernel.insertErrors.set("e1000e", -2);
    expect(modprobe(["pci:v00008086d000010D3sv00008086sd00000000bc02sc00i00"], env)).toEqual({
      code: 1,
      stdout: "",
      stderr: "modprobe: ERROR: could not insert 'e1000e': Unknown symbol in module, or unknown parameter (see dmesg)\n",
    });
    kernel.insertErrors.set("e1000e", -1);
    expect(modprobe(["e1000e"], env).stderr).toBe("modprobe: ERROR: could not insert 'e1000e': Operation not permitted\n");
    kernel.insertErrors.delete("e1000e");
    expect(modprobe(["-v", "e1000e", "x=1"], env)).toEqual({ code: 0, stdout: "insmod /lib/modules/6.1.0-kbind/kernel/drivers/net/ethernet/intel/e1000e/e1000e.ko x=1\n", stderr: "" });
    expect(modprobe(["--first-time", "e1000e"], env)).toEqual({ code: 1, stdout: "", stderr: "modprobe: ERROR: could not insert 'e1000e': Module already in kernel\n" });
    expect(modprobe(["-q", "--first-time", "e1000e"], env)).toEqual({ code: 1, stdout: "", stderr: "" });
  });

  it("blacklist: modprobe applies it only to alias-reached modules unless -b; deps/softdeps are never filtered", () => {
    const { env, kernel } = world("blacklist e1000e\nblacklist vfio_iommu_type1\n");
    expect(modprobe(["pci:v00008086d000010D3sv00008086sd00000000bc02sc00i00"], env).code).toBe(0);
    expect(kernel.live.has("e1000e")).toBe(false);
    expect(modprobe(["-b", "e1000e"], env).code).toBe(0);
    expect(kernel.live.has("e1000e")).toBe(false);
    expect(modprobe(["e1000e"], env).code).toBe(0);
    expect(kernel.live.has("e1000e")).toBe(true);
    expect(modprobe(["vfio-pci"], env).code).toBe(0);
    expect(kernel.live.has("vfio_iommu_type1")).toBe(true);
  });

  it("install commands: run through the port with MODPROBE_MODULE, $CMDLINE_OPTS substituted; ignored with -i and for modules with softdeps", () => {
    const { env, kernel } = world("install e1000e /bin/true $CMDLINE_OPTS\noptions e1000e a=1\ninstall vfio_pci /bin/false\n");
    expect(modprobe(["e1000e", "b=2"], env).code).toBe(0);
    expect(kernel.commands).toEqual([{ cmd: "/bin/true a=1 b=2", env: { MODPROBE_MODULE: "e1000e" } }]);
    expect(kernel.live.has("e1000e")).toBe(false);
    expect(modprobe(["-i", "e1000e"], env).code).toBe(0);
    expect(kernel.live.has("e1000e")).toBe(true);
    // vfio_pci has a softdep: its install command is ignored (softdep takes precedence).
    expect(modprobe(["vfio-pci"], env).code).toBe(0);
    expect(kernel.commands).toHaveLength(1);
  });

  it("udev module_load_and_warn: every match, KMOD_PROBE_APPLY_BLACKLIST also for real names, builtin/live skipped", () => {
    const { ctx, kernel } = world("blacklist mlx5_vfio_pci\n");
    const r = moduleLoadAndWarn(ctx, "vfio_pci:v000015B3d0000101Esv000015B3sd00000001bc02sc00i00");
    expect(r.result).toBe(0);
    expect(r.modules.map((m) => [m.name, m.outcome])).toEqual([
      ["vfio_pci", "inserted"],
      ["mlx5_vfio_pci", "denylisted"],
    ]);
    expect(kernel.live.has("mlx5_vfio_pci")).toBe(false);
    expect(moduleLoadAndWarn(ctx, "net-pf-1").modules).toEqual([{ name: "unix", outcome: "builtin", err: 0 }]);
    expect(moduleLoadAndWarn(ctx, "vfio-pci").modules).toEqual([{ name: "vfio_pci", outcome: "live", err: 0 }]);
    expect(moduleLoadAndWarn(ctx, "nothing:here")).toMatchObject({ result: -2, modules: [] });
    expect(KMOD_PROBE_APPLY_BLACKLIST).toBe(0x20000);
  });

  it("kbind modprobe passes argv through untouched and keeps modprobe's exit code", async () => {
    const run = async (argv: string[]): Promise<{ code: number; out: string; err: string }> => {
      const io = bufferIo();
      const program = new Command("kbind").exitOverride();
      registerModprobe(program, io);
      let code = 0;
      try {
        await program.parseAsync(["modprobe", ...argv], { from: "user" });
      } catch (e) {
        if (!(e instanceof ExitCode)) throw e;
        code = e.code;
      }
      return { code, out: io.stdout(), err: io.stderr() };
    };
    expect(await run(["-d", "/nonexistent-root", "-S", "1.0", "-R", "nothing"])).toEqual({
      code: 1,
      out: "",
      err: "modprobe: FATAL: Module nothing not found in directory /nonexistent-root/lib/modules/1.0\n",
    });
    expect(await run(["-V"])).toEqual({ code: 0, out: "kmod version 30\n+ZSTD +XZ -ZLIB +LIBCRYPTO -EXPERIMENTAL\n", err: "" });
  });
});
