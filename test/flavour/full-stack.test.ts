// The flavour designs on the team's full stack: the driver core model (src/kernel) with the
// driver_flavour bus extension, kmod 30's modprobe (src/kmod) on a depmod-built modules directory,
// bridged into the model (src/sim/kmod-bridge.ts), and the userspace agents run through runOnPorts on
// the model's SysfsPort — the code path a real host takes, with the kernel and kmod modelled.
import { describe, expect, it } from "vitest";
import { createKernel, kernelSysfs, newPciDevData, pciDriverSpec, type Kernel, type KernelHost } from "../../src/kernel/index.ts";
import { depmodFromModinfo } from "../../src/kmod/depmod.ts";
import { ModuleDir } from "../../src/kmod/module-dir.ts";
import { PCI_ANY_ID, pciDevice, pciDriverOverrideDeviceVfio } from "../../src/model/pci.ts";
import { modelModprobeEnv, runModelModprobe } from "../../src/sim/kmod-bridge.ts";
import { libvirtSwitch } from "../../src/flavour/designs/c-userspace-libvirt.ts";
import { installDriverFlavour } from "../../src/flavour/kernel-flavour.ts";
import { runOnPorts } from "../../src/flavour/run-on-ports.ts";
import { SysfsError } from "../../src/ports.ts";

const KVER = "6.1.0-56-arm64";
const MODS = [
  { name: "mlx5_core", relpath: "kernel/drivers/net/ethernet/mellanox/mlx5/core/mlx5_core.ko", modinfo: [["alias", "pci:v000015B3d0000101Esv*sd*bc*sc*i*"]] },
  { name: "vfio_pci_core", relpath: "kernel/drivers/vfio/pci/vfio-pci-core.ko", modinfo: [] },
  { name: "vfio_pci", relpath: "kernel/drivers/vfio/pci/vfio-pci.ko", modinfo: [["alias", "vfio_pci:v*d*sv*sd*bc*sc*i*"], ["depends", "vfio_pci_core"]] },
  { name: "mlx5_vfio_pci", relpath: "kernel/drivers/vfio/pci/mlx5/mlx5-vfio-pci.ko", modinfo: [["alias", "vfio_pci:v000015B3d0000101Esv*sd*bc*sc*i*"], ["depends", "vfio_pci_core"]] },
] satisfies { name: string; relpath: string; modinfo: [string, string][] }[];

function stack() {
  const depmod = depmodFromModinfo(MODS);
  const moduleDir = ModuleDir.fromFiles(depmod.files);
  const aliasText = new TextDecoder().decode(depmod.files.get("modules.alias"));
  const modprobeRuns: string[] = [];
  const host: KernelHost = {
    now: () => 0,
    advance: () => undefined,
    queueWork: (_l, fn) => {
      fn();
    },
    callModprobe: (argv) => runModelModprobe(argv.slice(1), env).code,
  };
  const k: Kernel = createKernel({ host });
  const env = modelModprobeEnv(k, { moduleDir, release: KVER, configFiles: [] });
  installDriverFlavour(k);
  k.addModuleImage({ name: "mlx5_core", drivers: [pciDriverSpec("mlx5_core", [pciDevice(0x15b3, 0x101e)])] });
  k.addModuleImage({ name: "vfio_pci_core", drivers: [] });
  k.addModuleImage({ name: "vfio_pci", drivers: [pciDriverSpec("vfio-pci", [pciDriverOverrideDeviceVfio(PCI_ANY_ID, PCI_ANY_ID)])], uses: ["vfio_pci_core"] });
  k.addModuleImage({ name: "mlx5_vfio_pci", drivers: [pciDriverSpec("mlx5_vfio_pci", [pciDriverOverrideDeviceVfio(0x15b3, 0x101e)])], uses: ["vfio_pci_core"] });
  const root = k.deviceAdd({ name: "pci0000:00", bus: null, data: null });
  const vf = k.deviceAdd({ name: "0000:01:00.2", bus: "pci", parent: root, iommuGroup: 7, data: newPciDevData({ vendor: 0x15b3, device: 0x101e, subvendor: 0x15b3, subdevice: 0x0016, class: 0x020000 }) });
  expect(runModelModprobe(["-q", "pci:v000015B3d0000101Esv000015B3sd00000016bc02sc00i00"], env).code).toBe(0); // udev's kmod load at boot
  const ports = {
    sysfs: kernelSysfs(k),
    modprobe: {
      modprobe: (args: readonly string[]) => {
        modprobeRuns.push(args.join(" "));
        return Promise.resolve(runModelModprobe([...args], env));
      },
    },
    files: {
      readText: (p: string) => (p === `/lib/modules/${KVER}/modules.alias` ? Promise.resolve(aliasText) : Promise.reject(new SysfsError("ENOENT", p))),
      readFile: () => Promise.reject(new Error("unused")),
      list: () => Promise.resolve([]),
      exists: () => Promise.resolve(false),
    },
    sleep: () => Promise.resolve(),
  };
  return { k, vf, ports, modprobeRuns };
}

describe("full stack: src/kernel + src/kmod modprobe + flavour agents", () => {
  it("boots: kmod's modprobe loads mlx5_core for the VF's MODALIAS and the model binds it", () => {
    const { vf } = stack();
    expect(vf.driver?.name).toBe("mlx5_core");
  });

  it("design (a): one write to driver_flavour; the kernel's usermode helper runs kmod's modprobe on the vfio_pci: alias", async () => {
    const { k, vf, ports } = stack();
    await ports.sysfs.write("/sys/bus/pci/devices/0000:01:00.2/driver_flavour", "vfio\n");
    expect(vf.driver?.name).toBe("mlx5_vfio_pci");
    expect(k.modules.get("vfio_pci")?.state).toBe("live"); // modprobe loads every alias match
  });

  it("design (c): libvirt's algorithm through runOnPorts reads the depmod-made modules.alias and binds mlx5_vfio_pci", async () => {
    const { vf, ports, modprobeRuns } = stack();
    await runOnPorts(libvirtSwitch({ bus: "pci", name: "0000:01:00.2" }, { kver: KVER }), ports);
    expect(modprobeRuns).toEqual(["-b mlx5_vfio_pci"]);
    expect(vf.driver?.name).toBe("mlx5_vfio_pci");
    expect(await ports.sysfs.read("/sys/bus/pci/devices/0000:01:00.2/driver_override")).toBe("mlx5_vfio_pci\n");
  });
});
