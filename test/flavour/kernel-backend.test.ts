// The kernel backend (src/flavour/kernel-backend.ts) on a small hand-made module set: the driver core
// model (src/kernel) with the designs' bus-type wrappers, a depmod-built modules directory, kmod's
// modprobe and udev's module_load_and_warn into the model, agents on the model's SysfsPort.
// Sysfs store rules themselves (driver_override, bind/unbind errno) are the driver core's and are
// tested in test/kernel; here: what the flavour designs add and how the pieces meet.
import { describe, expect, it } from "vitest";
import { buildCatalogue, type Catalogue } from "../../src/flavour/catalogue.ts";
import { DEFAULT_COSTS } from "../../src/flavour/backend.ts";
import { designA } from "../../src/flavour/designs/a-driver-flavour.ts";
import type { Design } from "../../src/flavour/designs/design.ts";
import { KernelBackend } from "../../src/flavour/kernel-backend.ts";
import type { Op, OpResult, Proc } from "../../src/flavour/ops.ts";
import { parseVariants } from "../../src/flavour/spec.ts";
import { newPciDevData } from "../../src/kernel/index.ts";
import { loadDefault } from "./load-default.ts";

const ALIAS = [
  "alias pci:v000015B3d0000101Esv*sd*bc*sc*i* mlx5_core",
  "alias pci:v000015B3d0000101Dsv*sd*bc*sc*i* mlx5_core",
  "alias pci:v00008086d00004941sv*sd*bc*sc*i* qat_4xxx",
  "alias of:N*T*Cvendor,eth-v1C* eth_drv",
  "alias of:N*T*Cvendor,eth-v1 eth_drv",
  "alias vfio_pci:v*d*sv*sd*bc*sc*i* vfio_pci",
].join("\n");
const DEP = ["kernel/mlx5_core.ko:", "kernel/qat_4xxx.ko:", "kernel/eth_drv.ko:", "kernel/vfio-pci-core.ko:", "kernel/vfio-pci.ko: kernel/vfio-pci-core.ko"].join("\n");

function catalogue(): Catalogue {
  const variants = parseVariants(
    {
      kernelRead: "test",
      modules: [
        { module: "vfio_pci", driver: "vfio-pci", relpath: "kernel/vfio-pci.ko", depends: ["vfio_pci_core"], pci: [{ vendor: "any", device: "any", flavour: "vfio" }] },
        { module: "mlx5_vfio_pci", relpath: "k/mlx5.ko", depends: ["vfio_pci_core"], pci: [{ vendor: 0x15b3, device: 0x101e, flavour: "vfio" }] },
        { module: "qat_vfio_pci", relpath: "k/qat.ko", depends: ["vfio_pci_core"], pci: [{ vendor: 0x8086, device: 0x4941, flavour: "vfio" }] },
        { module: "vfio_platform", driver: "vfio-platform", relpath: "k/vp.ko", of: [{ compatible: "*", flavour: "vfio" }], probe: "vfio-platform" },
        { module: "reset_eth", relpath: "k/r.ko", resetFor: ["vendor,eth-v1"] },
      ],
    },
    "test",
  );
  return buildCatalogue({ kver: "test", alias: ALIAS, dep: DEP, softdep: "" }, variants);
}

type Config = Design["config"];
const BASE: Config = { flavourAttr: false, resetLookup: "first", overrideGlob: false, extraSoftdeps: [] };

function machine(over: Partial<Config> = {}, missing: string[] = []): KernelBackend {
  const b = new KernelBackend(catalogue(), { ...designA, config: { ...BASE, ...over } }, { costs: DEFAULT_COSTS, jitter: 0, seed: 1, missing: new Set(missing) });
  b.addDevice({ slot: "0000:01:00.2", label: "VF", vendor: 0x15b3, device: 0x101e, subvendor: 0, subdevice: 0, class: 0x020000 });
  b.addDevice({ slot: "0000:03:00.1", label: "QAT", vendor: 0x8086, device: 0x4941, subvendor: 0, subdevice: 0, class: 0x0b4000 });
  b.addDevice({ label: "eth", platform: { name: "e0.eth", fullName: "/soc/eth@e0", type: null, compatible: ["board,eth-b0", "vendor,eth-v1"] } });
  b.run();
  return b;
}

/** Runs a one-op agent to completion and returns its result. */
function op(b: KernelBackend, o: Op): OpResult {
  let out: OpResult | undefined;
  function* p(): Proc<void> {
    out = yield o;
  }
  b.spawn("test", p(), () => undefined);
  b.run();
  if (!out) throw new Error("op did not complete");
  return out;
}

const drv = (b: KernelBackend, name: string): string | null => b.devices().find((d) => d.name === name)?.driver ?? null;
const DEVP = "/sys/bus/pci/devices/0000:01:00.2";

describe("boot: udev's 80-drivers rule loads modules by MODALIAS through kmod, the model binds", () => {
  it("binds host drivers; override_only vfio entries never autoprobe (pci_match_device)", () => {
    const b = machine();
    expect(drv(b, "0000:01:00.2")).toBe("mlx5_core");
    expect(drv(b, "e0.eth")).toBe("eth_drv"); // OF match on the second compatible string
    op(b, { op: "modprobe", args: ["mlx5_vfio_pci"] });
    expect(b.loadedModules()).toContain("mlx5_vfio_pci");
    expect(drv(b, "0000:01:00.2")).toBe("mlx5_core");
  });

  it("the modules directory is depmod's output: modules.alias lists the variant's vfio_pci: alias", () => {
    const text = machine().moduleDir.text("modules.alias") ?? "";
    expect(text).toContain("alias vfio_pci:v000015B3d0000101Esv*sd*bc*sc*i* mlx5_vfio_pci\n");
    expect(text).toContain("alias vfio-reset:vendor,eth-v1 reset_eth\n");
  });

  it("driver_flavour: ENOENT where the design has no such attribute, EINVAL for an unknown flavour", () => {
    expect(op(machine(), { op: "write", path: `${DEVP}/driver_flavour`, data: "vfio" })).toMatchObject({ ok: false, errno: "ENOENT" });
    expect(op(machine({ flavourAttr: true }), { op: "write", path: `${DEVP}/driver_flavour`, data: "gpu" })).toMatchObject({ ok: false, errno: "EINVAL" });
  });
});

describe("design (b): MODULE_SOFTDEP pre-list in the module dir, driver_override compared with fnmatch()", () => {
  it("depmod writes vfio_pci's softdep to modules.softdep; modprobe vfio_pci loads the variants first", () => {
    const b = machine({ extraSoftdeps: [{ module: "vfio_pci", pre: ["mlx5_vfio_pci", "qat_vfio_pci"] }] });
    expect(b.moduleDir.text("modules.softdep")).toContain("softdep vfio_pci pre: mlx5_vfio_pci qat_vfio_pci\n");
    op(b, { op: "modprobe", args: ["vfio_pci"] });
    const loaded = b.loadedModules();
    expect(loaded.indexOf("mlx5_vfio_pci")).toBeLessThan(loaded.indexOf("vfio_pci"));
    expect(loaded.indexOf("qat_vfio_pci")).toBeLessThan(loaded.indexOf("vfio_pci"));
  });

  it('"*vfio_pci": the first registered variant takes a device it has no entry for (pci_device_id_any), so load order decides', () => {
    const b = machine({ overrideGlob: true });
    op(b, { op: "modprobe", args: ["mlx5_vfio_pci"] });
    op(b, { op: "modprobe", args: ["qat_vfio_pci"] });
    op(b, { op: "write", path: "/sys/bus/pci/devices/0000:03:00.1/driver_override", data: "*vfio_pci" });
    op(b, { op: "write", path: "/sys/bus/pci/devices/0000:03:00.1/driver/unbind", data: "0000:03:00.1" });
    op(b, { op: "write", path: "/sys/bus/pci/drivers_probe", data: "0000:03:00.1" });
    expect(drv(b, "0000:03:00.1")).toBe("mlx5_vfio_pci");
  });

  it("without the glob wrapper the kernel compares with strcmp(): the pattern names no driver", () => {
    const b = machine();
    op(b, { op: "modprobe", args: ["qat_vfio_pci"] });
    op(b, { op: "write", path: "/sys/bus/pci/devices/0000:03:00.1/driver_override", data: "*vfio_pci" });
    op(b, { op: "write", path: "/sys/bus/pci/devices/0000:03:00.1/driver/unbind", data: "0000:03:00.1" });
    op(b, { op: "write", path: "/sys/bus/pci/drivers_probe", data: "0000:03:00.1" });
    expect(drv(b, "0000:03:00.1")).toBeNull();
  });
});

describe("vfio_platform reset lookup (vfio_platform_common.c vfio_platform_get_reset) through request_module on the model", () => {
  const bindPlatform = (b: KernelBackend): string | null => {
    op(b, { op: "modprobe", args: ["vfio_platform"] });
    op(b, { op: "write", path: "/sys/bus/platform/devices/e0.eth/driver_override", data: "vfio-platform" });
    op(b, { op: "write", path: "/sys/bus/platform/devices/e0.eth/driver/unbind", data: "e0.eth" });
    op(b, { op: "write", path: "/sys/bus/platform/drivers_probe", data: "e0.eth" });
    return drv(b, "e0.eth");
  };
  it("as upstream: only the first compatible string; modprobe finds no vfio-reset:board,eth-b0, probe -ENOENT, device unbound", () => {
    const b = machine();
    expect(bindPlatform(b)).toBeNull();
    expect(b.loadedModules()).not.toContain("reset_eth");
    expect(b.trace.some((t) => t.text === "modprobe -q -- vfio-reset:board,eth-b0 → exit 1")).toBe(true);
    expect(b.trace.some((t) => t.text === "vfio-platform: probe of e0.eth failed with error -2 (ENOENT)")).toBe(true);
  });
  it("done right: every string, best first; the second string's reset module is requested and found", () => {
    const b = machine({ resetLookup: "all" });
    expect(bindPlatform(b)).toBe("vfio-platform");
    expect(b.devices().find((d) => d.name === "e0.eth")?.resetModule).toBe("reset_eth");
  });
});

describe("driver_flavour ranking (design a) with kmod's modprobe as the usermode helper", () => {
  it("binds the specific variant although the universal vfio-pci registered first", () => {
    const b = machine({ flavourAttr: true });
    op(b, { op: "modprobe", args: ["vfio_pci"] });
    expect(op(b, { op: "write", path: `${DEVP}/driver_flavour`, data: "vfio\n" })).toEqual({ ok: true, value: 5 });
    expect(drv(b, "0000:01:00.2")).toBe("mlx5_vfio_pci");
    expect(op(b, { op: "read", path: `${DEVP}/driver_flavour` })).toEqual({ ok: true, value: "vfio\n" });
  });

  it("storing vfio again upgrades a device from the universal driver once a better variant is installed, and is a no-op when already best", () => {
    const b = machine({ flavourAttr: true }, ["mlx5_vfio_pci"]);
    op(b, { op: "write", path: `${DEVP}/driver_flavour`, data: "vfio\n" });
    expect(drv(b, "0000:01:00.2")).toBe("vfio-pci");
    b.setMissing(new Set()); // the variant gets installed (depmod re-run)
    op(b, { op: "write", path: `${DEVP}/driver_flavour`, data: "vfio\n" });
    expect(drv(b, "0000:01:00.2")).toBe("mlx5_vfio_pci");
    const unbinds = b.trace.filter((t) => t.kind === "unbind").length;
    expect(op(b, { op: "write", path: `${DEVP}/driver_flavour`, data: "vfio\n" })).toEqual({ ok: true, value: 5 });
    expect(b.trace.filter((t) => t.kind === "unbind").length).toBe(unbinds);
  });

  it("clearing the flavour returns the device to its host driver", () => {
    const b = machine({ flavourAttr: true });
    op(b, { op: "write", path: `${DEVP}/driver_flavour`, data: "vfio\n" });
    op(b, { op: "write", path: `${DEVP}/driver_flavour`, data: "\n" });
    expect(drv(b, "0000:01:00.2")).toBe("mlx5_core");
  });

  it("a flavoured device takes no host driver: a new host-driver registration does not bind it", () => {
    const b = machine({ flavourAttr: true });
    op(b, { op: "write", path: "/sys/bus/pci/devices/0000:03:00.1/driver_flavour", data: "vfio\n" });
    expect(drv(b, "0000:03:00.1")).toBe("qat_vfio_pci");
    op(b, { op: "write", path: "/sys/bus/pci/devices/0000:03:00.1/driver/unbind", data: "0000:03:00.1" });
    op(b, { op: "modprobe", args: ["qat_4xxx"] });
    expect(drv(b, "0000:03:00.1")).toBeNull();
    op(b, { op: "write", path: "/sys/bus/pci/drivers_probe", data: "0000:03:00.1" });
    expect(drv(b, "0000:03:00.1")).toBe("qat_vfio_pci");
  });

  it("stores on one device are serialised: a clear made while the vfio store waits for modprobe returns after it, and wins", () => {
    const b = machine({ flavourAttr: true });
    const done: Record<string, number> = {};
    const ref = { bus: "pci" as const, name: "0000:01:00.2" };
    b.spawn("switch", designA.switchToVfio(ref, { kver: "test" }), () => (done.switch = b.now()));
    b.at(1, () => {
      b.spawn("restore", designA.returnToHost(ref, { kver: "test" }), () => (done.restore = b.now()));
    });
    b.run();
    expect(done.switch).toBeGreaterThan(1); // modprobe of vfio_pci's chain and the variant takes virtual time
    expect(done.restore).toBeGreaterThanOrEqual(done.switch!);
    expect(drv(b, "0000:01:00.2")).toBe("mlx5_core");
  });

  it("modprobe failing (every finit_module -EPERM): the store returns ENODEV and nothing is unbound", () => {
    const b = machine({ flavourAttr: true });
    b.setModprobeFails(true);
    expect(op(b, { op: "write", path: `${DEVP}/driver_flavour`, data: "vfio\n" })).toMatchObject({ ok: false, errno: "ENODEV" });
    expect(drv(b, "0000:01:00.2")).toBe("mlx5_core");
    expect(b.trace.some((t) => t.text.startsWith("modprobe -q -- vfio_pci:v000015B3d0000101E") && t.text.endsWith("→ exit 1"))).toBe(true);
  });
});

describe("SR-IOV VFs (src/kernel pciEnableSriov through sriov_numvfs)", () => {
  const PF = "/sys/bus/pci/devices/0000:01:00.0";
  function sriovMachine(over: Partial<Config> = {}): KernelBackend {
    const b = machine(over);
    const root = b.kernel.devicesByPath.get("/devices/pci0000:00") ?? null;
    b.kernel.deviceAdd({ name: "0000:01:00.0", bus: "pci", parent: root, iommuGroup: 40, data: newPciDevData({ vendor: 0x15b3, device: 0x101d, subvendor: 0, subdevice: 0, class: 0x020000 }, { totalVFs: 2, offset: 4, stride: 1, vfDevice: 0x101e }) });
    b.run();
    return b;
  }

  it("sriov_numvfs: VFs come up on the host driver; -ERANGE beyond what the PF offers; -EBUSY while VFs exist", () => {
    const b = sriovMachine();
    expect(drv(b, "0000:01:00.0")).toBe("mlx5_core");
    expect(op(b, { op: "write", path: `${PF}/sriov_numvfs`, data: "3" })).toMatchObject({ ok: false, errno: "ERANGE" });
    expect(op(b, { op: "write", path: `${PF}/sriov_numvfs`, data: "2" })).toEqual({ ok: true, value: 1 });
    expect(drv(b, "0000:01:00.4")).toBe("mlx5_core");
    expect(op(b, { op: "write", path: `${PF}/sriov_numvfs`, data: "1" })).toMatchObject({ ok: false, errno: "EBUSY" });
    expect(op(b, { op: "read", path: `${PF}/sriov_numvfs` })).toEqual({ ok: true, value: "2\n" });
  });

  it("upstream: a PF bound to vfio-pci captures its VFs with driver_override (vfio_pci_bus_notifier), so they get vfio-pci, not mlx5_vfio_pci", () => {
    const b = sriovMachine();
    op(b, { op: "modprobe", args: ["vfio_pci"] });
    op(b, { op: "modprobe", args: ["mlx5_vfio_pci"] });
    op(b, { op: "write", path: `${PF}/driver_override`, data: "vfio-pci" });
    op(b, { op: "write", path: `${PF}/driver/unbind`, data: "0000:01:00.0" });
    op(b, { op: "write", path: "/sys/bus/pci/drivers_probe", data: "0000:01:00.0" });
    expect(op(b, { op: "write", path: `${PF}/sriov_numvfs`, data: "2" })).toEqual({ ok: true, value: 1 });
    expect(op(b, { op: "read", path: "/sys/bus/pci/devices/0000:01:00.4/driver_override" })).toEqual({ ok: true, value: "vfio-pci\n" });
    expect(drv(b, "0000:01:00.4")).toBe("vfio-pci");
  });

  it("design (a): with sriov_vf_flavour=vfio the VF module is requested before the VFs exist; they bind straight to mlx5_vfio_pci", () => {
    const b = sriovMachine({ flavourAttr: true });
    op(b, { op: "modprobe", args: ["vfio_pci"] }); // the universal driver is already loaded: it must not win
    expect(op(b, { op: "write", path: `${PF}/sriov_vf_flavour`, data: "vfio\n" })).toEqual({ ok: true, value: 5 });
    expect(b.loadedModules()).not.toContain("mlx5_vfio_pci");
    op(b, { op: "write", path: `${PF}/sriov_numvfs`, data: "2" });
    for (const vf of ["0000:01:00.4", "0000:01:00.5"]) {
      expect(op(b, { op: "read", path: `/sys/bus/pci/devices/${vf}/driver_flavour` })).toEqual({ ok: true, value: "vfio\n" });
      expect(drv(b, vf)).toBe("mlx5_vfio_pci");
    }
    // no host-driver probe/remove cycle: the VFs were never bound to mlx5_core
    expect(b.trace.some((t) => t.text === "0000:01:00.4 bound to mlx5_core")).toBe(false);
    expect(drv(b, "0000:01:00.0")).toBe("mlx5_core");
  });

  it("sriov_vf_flavour: EINVAL for an unknown flavour, ENOENT outside design (a)", () => {
    expect(op(sriovMachine({ flavourAttr: true }), { op: "write", path: `${PF}/sriov_vf_flavour`, data: "gpu" })).toMatchObject({ ok: false, errno: "EINVAL" });
    expect(op(sriovMachine(), { op: "write", path: `${PF}/sriov_vf_flavour`, data: "vfio" })).toMatchObject({ ok: false, errno: "ENOENT" });
  });
});

describe("the default machine on the kernel backend (real Debian arm64 metadata through depmod and kmod)", () => {
  const { cat, machine: m } = loadDefault();
  it("boots the host drivers Debian's modules.alias resolves, and vfio's softdep post: vfio_iommu_type1 loads with vfio", () => {
    const b = new KernelBackend(cat, designA, { costs: DEFAULT_COSTS, jitter: 0, seed: 1, missing: new Set() });
    for (const d of m.devices) b.addDevice(d);
    b.run();
    expect(Object.fromEntries(b.devices().map((d) => [d.name, d.driver]))).toMatchObject({ "0000:01:00.2": "mlx5_core", "0009:01:00.0": "nouveau", "0000:05:00.0": "nvme", "e0700000.xgmac": "amd-xgbe" });
    op(b, { op: "write", path: "/sys/bus/pci/devices/0000:05:00.0/driver_flavour", data: "vfio\n" });
    expect(drv(b, "0000:05:00.0")).toBe("vfio-pci");
    const loaded = b.loadedModules();
    expect(loaded).toContain("vfio_iommu_type1"); // libkmod's probe list includes the softdeps of dependencies
  });

  it("virtual time is consistent: no device binds before its driver's module finished loading (in any caller's time)", () => {
    for (const id of ["s1", "s2", "s3"]) {
      const b = new KernelBackend(cat, designA, { costs: DEFAULT_COSTS, jitter: 1, seed: id.charCodeAt(0), missing: new Set() });
      for (const d of m.devices) b.addDevice(d);
      b.run();
      // every switch agent at once: later agents find modules an earlier one is still loading
      for (const d of m.devices.filter((x) => x.vfio === true)) {
        const ref = "slot" in d ? { bus: "pci" as const, name: d.slot } : { bus: "platform" as const, name: d.platform.name };
        b.spawn(`switch(${ref.name})`, designA.switchToVfio(ref, { kver: cat.kver }), () => undefined);
      }
      b.run();
      expect(b.trace.filter((t) => t.kind === "bind").length).toBeGreaterThanOrEqual(7);
      const loadedAt = new Map(b.trace.filter((t) => t.kind === "load").map((t) => [t.text.split(" ")[1]!, t.t]));
      const byDriver: Record<string, string> = { "vfio-pci": "vfio_pci", "vfio-platform": "vfio_platform" };
      for (const t of b.trace.filter((x) => x.kind === "bind")) {
        const driver = t.text.split(" bound to ")[1]!;
        const mod = byDriver[driver] ?? driver;
        const at = loadedAt.get(mod);
        if (at !== undefined) expect(t.t, `${t.text} (${id})`).toBeGreaterThanOrEqual(at);
      }
    }
  });
});
