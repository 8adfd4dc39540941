// kbind depmod (from disk, compressed modules chosen by magic bytes) vs the real kmod 30 depmod:
// a tree of fake modules stored plain, xz- and zstd-compressed (the kernel's own settings:
// `xz --check=crc32 --lzma2=dict=1MiB`, `zstd`), with symbol dependencies, softdeps, devname
// aliases, builtins; every output file byte-identical.
import { execFileSync, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runDepmodOnDiskAsync } from "../../src/host/kmod-files.ts";
import { decompressModule, detectCompression } from "../../src/kmod/decompress.ts";
import { makeFakeKo } from "./helpers/fake-ko.ts";
import { haveRealKmod, realDepmod, tempRoot, writeFiles } from "./helpers/real-kmod.ts";

const tools = haveRealKmod() && spawnSync("xz", ["--version"]).status === 0 && spawnSync("zstd", ["--version"]).status === 0;
const OUTPUTS = ["modules.dep", "modules.dep.bin", "modules.alias", "modules.alias.bin", "modules.softdep", "modules.symbols", "modules.symbols.bin", "modules.builtin.bin", "modules.builtin.alias.bin", "modules.devname"];

describe.skipIf(!tools)("depmod (tools/depmod.c) vs real kmod 30 depmod on plain, .xz and .zst modules", () => {
  it("every output byte-identical; modules.dep names the compressed paths; modules.order matches them uncompressed", async () => {
    const V = "6.0.0-kbind";
    const L = `lib/modules/${V}`;
    const mods: [string, Parameters<typeof makeFakeKo>[0]][] = [
      ["kernel/drivers/vfio/vfio.ko", { modinfo: [["alias", "devname:vfio/vfio"], ["alias", "char-major-10-196"], ["license", "GPL"]], exports: ["vfio_register"] }],
      ["kernel/drivers/vfio/pci/vfio-pci-core.ko", { modinfo: [["license", "GPL"]], exports: ["vfio_pci_core_init"], needs: ["vfio_register", "printk"] }],
      ["kernel/drivers/vfio/pci/vfio-pci.ko", { modinfo: [["alias", "vfio_pci:v*d*sv*sd*bc*sc*i*"], ["softdep", "pre: vfio-iommu-type1"]], needs: ["vfio_pci_core_init"] }],
      ["kernel/drivers/vfio/pci/mlx5/mlx5-vfio-pci.ko", { modinfo: [["alias", "vfio_pci:v000015B3d0000101Esv*sd*bc*sc*i*"], ["alias", "vfio_pci:v000015B3d0000101Fsv*sd*bc*sc*i*"]], needs: ["vfio_pci_core_init"], weakNeeds: ["mlx5_optional"] }],
      ["kernel/drivers/vfio/vfio_iommu_type1.ko", { modinfo: [["license", "GPL"]], needs: ["vfio_register"], le: false, is64: false }],
    ];
    const files: Record<string, string | Uint8Array> = {
      [`${L}/modules.order`]: mods.map(([p]) => p + "\n").join(""),
      [`${L}/modules.builtin`]: "kernel/net/unix/unix.ko\n",
      [`${L}/modules.builtin.modinfo`]: "unix.alias=net-pf-1\0unix.license=GPL\0",
    };
    for (const [p, spec] of mods) files[`${L}/${p}`] = makeFakeKo(spec);
    const root = tempRoot();
    writeFiles(root, files);
    // Compress two modules the way the kernel's Makefile.modinst does.
    execFileSync("xz", ["--check=crc32", "--lzma2=dict=1MiB", join(root, L, "kernel/drivers/vfio/pci/vfio-pci.ko")]);
    execFileSync("zstd", ["-q", "--rm", join(root, L, "kernel/drivers/vfio/pci/mlx5/mlx5-vfio-pci.ko")]);
    // modules.order keeps the uncompressed names, as the kernel build writes it.
    const xz = readFileSync(join(root, L, "kernel/drivers/vfio/pci/vfio-pci.ko.xz"));
    expect(detectCompression(xz)).toBe("xz");
    expect(Buffer.from(await decompressModule(xz)).equals(Buffer.from(files[`${L}/kernel/drivers/vfio/pci/vfio-pci.ko`] as Uint8Array))).toBe(true);

    const kroot = tempRoot();
    writeFiles(kroot, Object.fromEntries(["modules.order", "modules.builtin", "modules.builtin.modinfo"].map((f) => [`${L}/${f}`, readFileSync(join(root, L, f))])));
    for (const p of ["kernel/drivers/vfio/vfio.ko", "kernel/drivers/vfio/pci/vfio-pci-core.ko", "kernel/drivers/vfio/pci/vfio-pci.ko.xz", "kernel/drivers/vfio/pci/mlx5/mlx5-vfio-pci.ko.zst", "kernel/drivers/vfio/vfio_iommu_type1.ko"])
      writeFiles(kroot, { [`${L}/${p}`]: readFileSync(join(root, L, p)) });

    realDepmod(root, V);
    const mine = await runDepmodOnDiskAsync(kroot, V);
    expect(mine.skipped).toEqual([]);
    for (const f of OUTPUTS) expect(readFileSync(join(kroot, L, f)).equals(readFileSync(join(root, L, f))), f).toBe(true);
    expect(readFileSync(join(kroot, L, "modules.dep"), "latin1")).toContain("kernel/drivers/vfio/pci/vfio-pci.ko.xz: kernel/drivers/vfio/pci/vfio-pci-core.ko kernel/drivers/vfio/vfio.ko\n");
  });
});
