// Every design's outcome per device class on the default machine, no fault.
import { describe, expect, it } from "vitest";
import { runScenario, type RunResult } from "../../src/flavour/compare.ts";
import { DESIGNS, designById } from "../../src/flavour/designs/index.ts";
import { loadDefault } from "./load-default.ts";

const { cat, machine } = loadDefault();
const run = (id: string): RunResult => runScenario(cat, machine, designById(id)!, "none");
const finalOf = (r: RunResult): Record<string, string | null> => Object.fromEntries(r.devices.map((d) => [d.name, d.final]));

const HOST = { "0000:01:00.0": "mlx5_core", "0000:01:00.3": "mlx5_core", "0000:02:00.2": null, "0000:06:00.0": "e1000e" };
const BEST = {
  "0000:01:00.2": "mlx5_vfio_pci", // ConnectX VF 15b3:101e
  "0009:01:00.0": "nvgrace_gpu_vfio_pci", // GH200 10de:2342
  "0000:02:00.1": "hisi_acc_vfio_pci", // HiSilicon SEC VF 19e5:a256
  "0000:03:00.1": "qat_vfio_pci", // QAT 4xxx VF 8086:4941
  "0000:04:00.0": "virtio_vfio_pci", // virtio-net 1af4:1041
  "0000:05:00.0": "vfio-pci", // NVMe: no variant, the universal driver
  "e0700000.xgmac": "vfio-platform", // OF platform device, reset module of its 2nd compatible
};

describe("boot (Debian 6.1 arm64 modules.alias, udev kmod load of MODALIAS)", () => {
  it("binds the host drivers Debian's metadata really resolves, the same under every design", () => {
    for (const d of DESIGNS) {
      const r = runScenario(cat, machine, d, "none");
      expect(Object.fromEntries(r.devices.map((x) => [x.name, x.hostDriver]))).toEqual({
        ...HOST,
        "0000:01:00.2": "mlx5_core",
        "0009:01:00.0": "nouveau",
        "0000:02:00.1": null,
        "0000:03:00.1": null,
        "0000:04:00.0": "virtio-pci",
        "0000:05:00.0": "nvme",
        "e0700000.xgmac": "amd-xgbe",
      });
    }
  });
});

describe("design (a) driver_flavour: request_module(vfio_pci:<modalias>), most specific loaded candidate", () => {
  it("binds every vfio device to its most specific vfio driver, the universal vfio-pci for NVMe, leaves host devices alone", () => {
    const r = run("a");
    expect(finalOf(r)).toEqual({ ...HOST, ...BEST });
    expect(r.devices.every((d) => d.right)).toBe(true);
    expect(r.unnecessaryModules).toEqual([]);
    expect(r.sysfsWrites).toBe(7); // one driver_flavour write per device
  });

  it("finds the reset module through the second compatible string (vfio_platform_get_reset done right)", () => {
    const r = run("a");
    expect(r.devices.find((d) => d.name === "e0700000.xgmac")?.resetModule).toBe("vfio_platform_amdxgbe");
  });
});

describe("design (b) MODULE_SOFTDEP pre: + driver_override \"vfio_pci*\"", () => {
  it("pre-loads all six variants, but the glob names only vfio_pci, so every PCI device lands on the universal vfio-pci", () => {
    const r = run("b");
    for (const name of ["0000:01:00.2", "0009:01:00.0", "0000:02:00.1", "0000:03:00.1", "0000:04:00.0", "0000:05:00.0"])
      expect(finalOf(r)[name], name).toBe("vfio-pci");
    for (const m of ["mlx5_vfio_pci", "hisi_acc_vfio_pci", "pds_vfio_pci", "virtio_vfio_pci", "nvgrace_gpu_vfio_pci", "qat_vfio_pci"])
      expect(r.unnecessaryModules).toContain(m);
  });

  it("leaves the OF device unbound: vfio-platform looks up vfio-reset: for the first compatible only and probe fails -ENOENT", () => {
    const r = run("b");
    expect(finalOf(r)["e0700000.xgmac"]).toBeNull();
    expect(r.trace.some((t) => t.text === "vfio-platform: probe of e0700000.xgmac failed with error -2 (ENOENT)")).toBe(true);
    expect(r.trace.some((t) => t.text === 'request_module("vfio-reset:amd,xgbe-seattle-v1b")')).toBe(true);
    expect(r.trace.some((t) => t.text === 'request_module("vfio-reset:amd,xgbe-seattle-v1a")')).toBe(false);
  });
});

describe("design (c) libvirt virPCIDeviceFindBestVFIOVariant + driver_override", () => {
  it("gets every PCI device right and the OF device wrong (first-compatible reset lookup)", () => {
    const r = run("c");
    expect(finalOf(r)).toEqual({ ...HOST, ...BEST, "e0700000.xgmac": null });
    // libvirt writes the DRIVER name it read from /sys/module/vfio_pci/drivers, not the module name
    expect(r.trace.some((t) => t.text === 'write "vfio-pci" > /sys/bus/pci/devices/0000:05:00.0/driver_override')).toBe(true);
  });
});

describe("design (d) udev hook", () => {
  it("gets the PCI devices right through modprobe -R and the OF device wrong", () => {
    const r = run("d");
    expect(finalOf(r)).toEqual({ ...HOST, ...BEST, "e0700000.xgmac": null });
    expect(r.trace.some((t) => t.kind === "exec" && t.text.startsWith("modprobe -R vfio_pci:v000015B3d0000101E"))).toBe(true);
  });
});

describe("determinism", () => {
  it("gives the same trace for the same seed", () => {
    const a = runScenario(cat, machine, designById("c")!, "race", { seed: 7, jitter: 0.5 });
    const b = runScenario(cat, machine, designById("c")!, "race", { seed: 7, jitter: 0.5 });
    expect(a.trace).toEqual(b.trace);
  });
});
