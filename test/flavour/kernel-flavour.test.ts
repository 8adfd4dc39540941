// Design (a) on the driver core model (src/kernel) through its pluggable bus types: the
// driver_flavour attribute written through the model's SysfsPort, request_module through the
// kernel's usermode-helper hook, real vfio variant tables.
import { describe, expect, it } from "vitest";
import { fnmatch } from "../../src/kmod/fnmatch.ts";
import { createKernel, kernelSysfs, newPciDevData, pciDriverSpec, platformDriverSpec, type Kernel, type KernelHost } from "../../src/kernel/index.ts";
import { ofCompatible } from "../../src/model/of.ts";
import { PCI_ANY_ID, pciDevice, pciDriverOverrideDeviceVfio } from "../../src/model/pci.ts";
import { installDriverFlavour, vfioPlatformProbe } from "../../src/flavour/kernel-flavour.ts";

/** modules.alias of this little world: kmod-style lookup (name first, then every alias match). */
const ALIASES: [string, string][] = [
  ["pci:v000015B3d0000101Esv*sd*bc*sc*i*", "mlx5_core"],
  ["vfio_pci:v000015B3d0000101Esv*sd*bc*sc*i*", "mlx5_vfio_pci"],
  ["vfio_pci:v*d*sv*sd*bc*sc*i*", "vfio_pci"],
  ["of:N*T*Camd,xgbe-seattle-v1aC*", "amd_xgbe"],
  ["vfio_platform:N*T*C*", "vfio_platform"],
  ["vfio-reset:amd,xgbe-seattle-v1a", "vfio_platform_amdxgbe"],
];

function setup(opts: { modprobeWorks?: boolean; resetLookup?: "first" | "all" } = {}) {
  const queue: (() => void)[] = [];
  const modprobes: string[] = [];
  const host: KernelHost = {
    now: () => 0,
    advance: () => undefined,
    queueWork: (_l, fn) => queue.push(fn),
    callModprobe: (argv) => {
      const name = argv[argv.length - 1]!;
      modprobes.push(name);
      if (opts.modprobeWorks === false) return 1;
      const mods = k.moduleImage(name) ? [name] : ALIASES.filter(([p]) => fnmatch(p, name)).map(([, m]) => m);
      for (const m of mods) if (!k.modules.has(m)) k.insertModule(m);
      return mods.length > 0 ? 0 : 1;
    },
  };
  const k: Kernel = createKernel({ host });
  installDriverFlavour(k, { platform: { "vfio-platform": { flavour: "vfio", compatible: ["*"] } } });
  k.addModuleImage({ name: "mlx5_core", drivers: [pciDriverSpec("mlx5_core", [pciDevice(0x15b3, 0x101e)])] });
  k.addModuleImage({ name: "vfio_pci", drivers: [pciDriverSpec("vfio-pci", [pciDriverOverrideDeviceVfio(PCI_ANY_ID, PCI_ANY_ID)])] });
  k.addModuleImage({ name: "mlx5_vfio_pci", drivers: [pciDriverSpec("mlx5_vfio_pci", [pciDriverOverrideDeviceVfio(0x15b3, 0x101e)])] });
  k.addModuleImage({ name: "amd_xgbe", drivers: [platformDriverSpec("amd-xgbe", { ofMatchTable: [ofCompatible("amd,xgbe-seattle-v1a")] })] });
  k.addModuleImage({
    name: "vfio_platform",
    drivers: [platformDriverSpec("vfio-platform", {}, { probe: vfioPlatformProbe({ "amd,xgbe-seattle-v1a": "vfio_platform_amdxgbe" }, opts.resetLookup ?? "all") })],
  });
  k.addModuleImage({ name: "vfio_platform_amdxgbe", drivers: [] });
  const root = k.deviceAdd({ name: "pci0000:00", bus: null, data: null });
  const vf = k.deviceAdd({ name: "0000:01:00.2", bus: "pci", parent: root, iommuGroup: 5, data: newPciDevData({ vendor: 0x15b3, device: 0x101e, subvendor: 0x15b3, subdevice: 0x0016, class: 0x020000 }) });
  const nic = k.deviceAdd({ name: "0000:05:00.0", bus: "pci", parent: root, iommuGroup: 6, data: newPciDevData({ vendor: 0x8086, device: 0x10d3, subvendor: 0, subdevice: 0, class: 0x020000 }) });
  const xg = k.deviceAdd({ name: "e0700000.xgmac", bus: "platform", data: { name: "e0700000.xgmac", of: { fullName: "/smb/xgmac@e0700000", type: null, compatible: ["amd,xgbe-seattle-v1b", "amd,xgbe-seattle-v1a"] }, acpi: null } });
  k.insertModule("mlx5_core");
  k.insertModule("amd_xgbe");
  const drain = (): void => {
    for (let f = queue.shift(); f; f = queue.shift()) f();
  };
  drain();
  return { k, vf, nic, xg, modprobes, sysfs: kernelSysfs(k), drain };
}

const VF = "/sys/bus/pci/devices/0000:01:00.2";

describe("driver_flavour on the driver core model (installDriverFlavour)", () => {
  it("the flavour alias is too long for request_module(): MODULE_NAME_LEN makes __request_module return -ENAMETOOLONG", () => {
    const { k } = setup();
    expect(k.requestModule("vfio_pci:v000015B3d0000101Esv000015B3sd00000016bc02sc00i00", true)).toBe(-36);
  });

  it("vfio: requests the alias, binds the specific mlx5_vfio_pci over the universal vfio-pci, shows the flavour", async () => {
    const { vf, sysfs, modprobes } = setup();
    expect(vf.driver?.name).toBe("mlx5_core");
    expect(await sysfs.read(`${VF}/driver_flavour`)).toBe("\n");
    expect(await sysfs.write(`${VF}/driver_flavour`, "vfio\n")).toBe(5);
    expect(modprobes).toEqual(["vfio_pci:v000015B3d0000101Esv000015B3sd00000016bc02sc00i00"]);
    expect(vf.driver?.name).toBe("mlx5_vfio_pci");
    expect(await sysfs.read(`${VF}/driver_flavour`)).toBe("vfio\n");
    expect(await sysfs.readlink(`${VF}/driver`)).toMatch(/\/mlx5_vfio_pci$/);
  });

  it("a device without a variant gets the universal vfio-pci", async () => {
    const { nic, sysfs } = setup();
    await sysfs.write("/sys/bus/pci/devices/0000:05:00.0/driver_flavour", "vfio");
    expect(nic.driver?.name).toBe("vfio-pci");
  });

  it("no loadable candidate: -ENODEV and the host driver stays bound", async () => {
    const { vf, sysfs } = setup({ modprobeWorks: false });
    await expect(sysfs.write(`${VF}/driver_flavour`, "vfio\n")).rejects.toMatchObject({ errno: "ENODEV" });
    expect(vf.driver?.name).toBe("mlx5_core");
    expect(await sysfs.read(`${VF}/driver_flavour`)).toBe("\n");
  });

  it("unknown flavour: -EINVAL; empty store returns the device to its host driver", async () => {
    const { vf, sysfs } = setup();
    await expect(sysfs.write(`${VF}/driver_flavour`, "gpu\n")).rejects.toMatchObject({ errno: "EINVAL" });
    await sysfs.write(`${VF}/driver_flavour`, "vfio\n");
    await sysfs.write(`${VF}/driver_flavour`, "\n");
    expect(vf.driver?.name).toBe("mlx5_core");
  });

  it("a flavoured, unbound device is not taken by a host driver registering later, but by a flavour driver", async () => {
    const { k, vf, sysfs } = setup();
    await sysfs.write(`${VF}/driver_flavour`, "vfio\n");
    k.deviceReleaseDriver(vf);
    k.deleteModule("mlx5_core");
    k.insertModule("mlx5_core");
    expect(vf.driver).toBeNull();
    k.deleteModule("mlx5_vfio_pci");
    k.insertModule("mlx5_vfio_pci");
    expect(vf.driver?.name).toBe("mlx5_vfio_pci");
  });

  it("driver_override keeps precedence over the flavour", async () => {
    const { vf, sysfs } = setup();
    await sysfs.write(`${VF}/driver_flavour`, "vfio\n");
    await sysfs.write(`${VF}/driver_override`, "vfio-pci\n");
    await sysfs.write(`${VF}/driver/unbind`, "0000:01:00.2");
    await sysfs.write("/sys/bus/pci/drivers_probe", "0000:01:00.2");
    expect(vf.driver?.name).toBe("vfio-pci");
  });

  it("OF platform device: vfio-platform with the reset module of the second compatible string (lookup done right)", async () => {
    const { k, xg, sysfs } = setup();
    expect(xg.driver?.name).toBe("amd-xgbe");
    await sysfs.write("/sys/bus/platform/devices/e0700000.xgmac/driver_flavour", "vfio\n");
    expect(xg.driver?.name).toBe("vfio-platform");
    expect(k.modules.get("vfio_platform_amdxgbe")?.state).toBe("live");
  });

  it("OF platform device, upstream first-string lookup: vfio-platform probe fails -ENOENT, the store reports it", async () => {
    const { xg, sysfs } = setup({ resetLookup: "first" });
    await expect(sysfs.write("/sys/bus/platform/devices/e0700000.xgmac/driver_flavour", "vfio\n")).rejects.toMatchObject({ errno: "ENOENT" });
    expect(xg.driver).toBeNull();
  });
});
