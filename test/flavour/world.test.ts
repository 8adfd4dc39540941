// The simulator's kernel semantics on a small hand-made module set: sysfs stores and their errno,
// override_only entries, wildcard overrides, the vfio_platform reset lookup, flavour ranking.
import { describe, expect, it } from "vitest";
import { buildCatalogue, type Catalogue } from "../../src/flavour/catalogue.ts";
import type { Op, OpResult, Proc } from "../../src/flavour/ops.ts";
import { parseVariants } from "../../src/flavour/spec.ts";
import { DEFAULT_COSTS, World, type WorldConfig } from "../../src/flavour/world.ts";

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

function world(over: Partial<WorldConfig> = {}): World {
  const w = new World(catalogue(), { flavourAttr: false, resetLookup: "first", overrideGlob: false, extraSoftdeps: [], costs: DEFAULT_COSTS, jitter: 0, seed: 1, ...over });
  w.addDevice({ bus: "pci", name: "0000:01:00.2", label: "VF", pci: { vendor: 0x15b3, device: 0x101e, subvendor: 0, subdevice: 0, class: 0x020000 }, of: null, physfn: null });
  w.addDevice({ bus: "pci", name: "0000:03:00.1", label: "QAT", pci: { vendor: 0x8086, device: 0x4941, subvendor: 0, subdevice: 0, class: 0x0b4000 }, of: null, physfn: null });
  w.addDevice({ bus: "platform", name: "e0.eth", label: "eth", pci: null, of: { fullName: "/soc/eth@e0", type: null, compatible: ["board,eth-b0", "vendor,eth-v1"] }, physfn: null });
  w.run();
  return w;
}

/** Runs a one-op process to completion and returns its result. */
function op(w: World, o: Op): OpResult {
  let out: OpResult | undefined;
  function* p(): Proc<void> {
    out = yield o;
  }
  w.spawn("test", p());
  w.run();
  if (!out) throw new Error("op did not complete");
  return out;
}

const dev = (w: World, name: string) => w.devices.find((d) => d.name === name)!;
const DEVP = "/sys/bus/pci/devices/0000:01:00.2";

describe("boot: udev loads modules by MODALIAS, drivers bind", () => {
  it("binds host drivers; override_only vfio entries never autoprobe", () => {
    const w = world();
    expect(dev(w, "0000:01:00.2").driver?.name).toBe("mlx5_core");
    expect(dev(w, "e0.eth").driver?.name).toBe("eth_drv"); // OF match on the second compatible string
    op(w, { op: "modprobe", args: ["mlx5_vfio_pci"] });
    expect(w.loaded.get("mlx5_vfio_pci")?.state).toBe("live");
    expect(dev(w, "0000:01:00.2").driver?.name).toBe("mlx5_core");
  });
});

describe("sysfs stores (drivers/base/bus.c, driver_set_override)", () => {
  it("driver_override: truncates at the first newline, clears on empty, EINVAL at PAGE_SIZE-1, shows (null)", () => {
    const w = world();
    expect(op(w, { op: "read", path: `${DEVP}/driver_override` })).toEqual({ ok: true, value: "(null)\n" });
    op(w, { op: "write", path: `${DEVP}/driver_override`, data: "foo\nbar" });
    expect(dev(w, "0000:01:00.2").override).toBe("foo");
    op(w, { op: "write", path: `${DEVP}/driver_override`, data: "\n" });
    expect(dev(w, "0000:01:00.2").override).toBeNull();
    expect(op(w, { op: "write", path: `${DEVP}/driver_override`, data: "x".repeat(4095) })).toMatchObject({ ok: false, errno: "EINVAL" });
    expect(op(w, { op: "write", path: `${DEVP}/driver_override`, data: "x".repeat(4094) })).toEqual({ ok: true, value: 4094 });
  });

  it("bind: EBUSY when bound, ENODEV when the driver does not match; unbind: ENODEV for another driver; drivers_probe: ENODEV for no device", () => {
    const w = world();
    op(w, { op: "modprobe", args: ["qat_vfio_pci"] });
    expect(op(w, { op: "write", path: "/sys/bus/pci/drivers/mlx5_core/bind", data: "0000:01:00.2" })).toMatchObject({ ok: false, errno: "EBUSY" });
    expect(op(w, { op: "write", path: "/sys/bus/pci/drivers/qat_vfio_pci/unbind", data: "0000:01:00.2" })).toMatchObject({ ok: false, errno: "ENODEV" });
    // an override_only entry does not match without an override: ENODEV even though the device is bound
    expect(op(w, { op: "write", path: "/sys/bus/pci/drivers/qat_vfio_pci/bind", data: "0000:03:00.1" })).toMatchObject({ ok: false, errno: "ENODEV" });
    expect(op(w, { op: "write", path: "/sys/bus/pci/drivers_probe", data: "0000:09:00.0" })).toMatchObject({ ok: false, errno: "ENODEV" });
  });

  it("driver_override names the driver: then even a non-matching driver binds through pci_device_id_any", () => {
    const w = world();
    op(w, { op: "modprobe", args: ["qat_vfio_pci"] });
    op(w, { op: "write", path: `${DEVP}/driver_override`, data: "qat_vfio_pci" });
    op(w, { op: "write", path: `${DEVP}/driver/unbind`, data: "0000:01:00.2" });
    op(w, { op: "write", path: "/sys/bus/pci/drivers_probe", data: "0000:01:00.2" });
    expect(dev(w, "0000:01:00.2").driver?.name).toBe("qat_vfio_pci");
  });

  it("driver_flavour: ENOENT where the design has no such attribute, EINVAL for an unknown flavour", () => {
    expect(op(world(), { op: "write", path: `${DEVP}/driver_flavour`, data: "vfio" })).toMatchObject({ ok: false, errno: "ENOENT" });
    expect(op(world({ flavourAttr: true }), { op: "write", path: `${DEVP}/driver_flavour`, data: "gpu" })).toMatchObject({ ok: false, errno: "EINVAL" });
  });
});

describe("wildcard driver_override (design b)", () => {
  it('"*vfio_pci": the first registered variant takes a device it has no entry for (pci_device_id_any), so softdep order decides', () => {
    const w = world({ overrideGlob: true });
    op(w, { op: "modprobe", args: ["mlx5_vfio_pci"] });
    op(w, { op: "modprobe", args: ["qat_vfio_pci"] });
    op(w, { op: "write", path: "/sys/bus/pci/devices/0000:03:00.1/driver_override", data: "*vfio_pci" });
    op(w, { op: "write", path: "/sys/bus/pci/devices/0000:03:00.1/driver/unbind", data: "0000:03:00.1" });
    op(w, { op: "write", path: "/sys/bus/pci/drivers_probe", data: "0000:03:00.1" });
    expect(dev(w, "0000:03:00.1").driver?.name).toBe("mlx5_vfio_pci");
  });
});

describe("vfio_platform reset lookup (vfio_platform_common.c vfio_platform_get_reset)", () => {
  const bindPlatform = (w: World): string | null => {
    op(w, { op: "modprobe", args: ["vfio_platform"] });
    op(w, { op: "write", path: "/sys/bus/platform/devices/e0.eth/driver_override", data: "vfio-platform" });
    op(w, { op: "write", path: "/sys/bus/platform/devices/e0.eth/driver/unbind", data: "e0.eth" });
    op(w, { op: "write", path: "/sys/bus/platform/drivers_probe", data: "e0.eth" });
    return dev(w, "e0.eth").driver?.name ?? null;
  };
  it("as upstream: only the first compatible string; no reset handler → probe -ENOENT, device unbound", () => {
    const w = world();
    expect(bindPlatform(w)).toBeNull();
    expect(w.loaded.has("reset_eth")).toBe(false);
  });
  it("done right: every string, best first; the second string's reset module is requested and found", () => {
    const w = world({ resetLookup: "all" });
    expect(bindPlatform(w)).toBe("vfio-platform");
    expect(dev(w, "e0.eth").resetModule).toBe("reset_eth");
  });
});

describe("driver_flavour ranking (design a)", () => {
  it("binds the specific variant although the universal vfio-pci registered first", () => {
    const w = world({ flavourAttr: true });
    op(w, { op: "modprobe", args: ["vfio_pci"] });
    expect(op(w, { op: "write", path: `${DEVP}/driver_flavour`, data: "vfio\n" })).toEqual({ ok: true, value: 5 });
    expect(dev(w, "0000:01:00.2").driver?.name).toBe("mlx5_vfio_pci");
    expect(op(w, { op: "read", path: `${DEVP}/driver_flavour` })).toEqual({ ok: true, value: "vfio\n" });
  });
  it("storing vfio again upgrades a device from the universal driver once a better variant is installed, and is a no-op when already best", () => {
    const w = world({ flavourAttr: true });
    w.missing.add("mlx5_vfio_pci");
    op(w, { op: "write", path: `${DEVP}/driver_flavour`, data: "vfio\n" });
    expect(dev(w, "0000:01:00.2").driver?.name).toBe("vfio-pci");
    w.missing.delete("mlx5_vfio_pci"); // the variant gets installed (depmod re-run)
    op(w, { op: "write", path: `${DEVP}/driver_flavour`, data: "vfio\n" });
    expect(dev(w, "0000:01:00.2").driver?.name).toBe("mlx5_vfio_pci");
    const unbinds = w.trace.filter((t) => t.kind === "unbind").length;
    expect(op(w, { op: "write", path: `${DEVP}/driver_flavour`, data: "vfio\n" })).toEqual({ ok: true, value: 5 });
    expect(w.trace.filter((t) => t.kind === "unbind").length).toBe(unbinds);
  });

  it("clearing the flavour returns the device to its host driver", () => {
    const w = world({ flavourAttr: true });
    op(w, { op: "write", path: `${DEVP}/driver_flavour`, data: "vfio\n" });
    op(w, { op: "write", path: `${DEVP}/driver_flavour`, data: "\n" });
    expect(dev(w, "0000:01:00.2").driver?.name).toBe("mlx5_core");
  });
  it("a flavoured device takes no host driver: a new host-driver registration does not bind it", () => {
    const w = world({ flavourAttr: true });
    op(w, { op: "write", path: "/sys/bus/pci/devices/0000:03:00.1/driver_flavour", data: "vfio\n" });
    expect(dev(w, "0000:03:00.1").driver?.name).toBe("qat_vfio_pci");
    op(w, { op: "write", path: "/sys/bus/pci/devices/0000:03:00.1/driver/unbind", data: "0000:03:00.1" });
    op(w, { op: "modprobe", args: ["qat_4xxx"] });
    expect(dev(w, "0000:03:00.1").driver).toBeNull();
    op(w, { op: "write", path: "/sys/bus/pci/drivers_probe", data: "0000:03:00.1" });
    expect(dev(w, "0000:03:00.1").driver?.name).toBe("qat_vfio_pci");
  });
});

describe("SR-IOV VFs", () => {
  const PF = "/sys/bus/pci/devices/0000:01:00.0";
  const vfSpec = (fn: number) => ({ bus: "pci" as const, name: `0000:01:00.${fn}`, label: "VF", pci: { vendor: 0x15b3, device: 0x101e, subvendor: 0, subdevice: 0, class: 0x020000 }, of: null, physfn: "0000:01:00.0" });
  function sriovWorld(over: Partial<WorldConfig> = {}): World {
    const w = world(over);
    w.addDevice({ bus: "pci", name: "0000:01:00.0", label: "PF", pci: { vendor: 0x15b3, device: 0x101d, subvendor: 0, subdevice: 0, class: 0x020000 }, of: null, physfn: null });
    w.vfTemplates.set("0000:01:00.0", [vfSpec(4), vfSpec(5)]);
    w.run();
    return w;
  }

  it("sriov_numvfs: VFs come up on the host driver; -EBUSY while VFs exist, -ERANGE beyond what the PF offers", () => {
    const w = sriovWorld();
    expect(op(w, { op: "write", path: `${PF}/sriov_numvfs`, data: "3" })).toMatchObject({ ok: false, errno: "ERANGE" });
    expect(op(w, { op: "write", path: `${PF}/sriov_numvfs`, data: "2" })).toEqual({ ok: true, value: 1 });
    expect(dev(w, "0000:01:00.4").driver?.name).toBe("mlx5_core");
    expect(op(w, { op: "write", path: `${PF}/sriov_numvfs`, data: "1" })).toMatchObject({ ok: false, errno: "EBUSY" });
    expect(op(w, { op: "read", path: `${PF}/sriov_numvfs` })).toEqual({ ok: true, value: "2\n" });
  });

  it("upstream: a PF bound to vfio-pci captures its VFs with driver_override (vfio_pci_bus_notifier), so they get vfio-pci, not mlx5_vfio_pci", () => {
    const w = sriovWorld();
    op(w, { op: "modprobe", args: ["vfio_pci"] });
    op(w, { op: "modprobe", args: ["mlx5_vfio_pci"] });
    op(w, { op: "write", path: `${PF}/driver_override`, data: "vfio-pci" });
    op(w, { op: "write", path: `${PF}/driver/unbind`, data: "0000:01:00.0" });
    op(w, { op: "write", path: "/sys/bus/pci/drivers_probe", data: "0000:01:00.0" });
    op(w, { op: "write", path: `${PF}/sriov_numvfs`, data: "2" });
    expect(dev(w, "0000:01:00.4").override).toBe("vfio-pci");
    expect(dev(w, "0000:01:00.4").driver?.name).toBe("vfio-pci");
  });

  it("design (a): with sriov_vf_flavour=vfio the VF module is requested before the VFs exist; they bind straight to mlx5_vfio_pci", () => {
    const w = sriovWorld({ flavourAttr: true });
    op(w, { op: "modprobe", args: ["vfio_pci"] }); // the universal driver is already loaded: it must not win
    expect(op(w, { op: "write", path: `${PF}/sriov_vf_flavour`, data: "vfio\n" })).toEqual({ ok: true, value: 5 });
    op(w, { op: "write", path: `${PF}/sriov_numvfs`, data: "2" });
    for (const vf of ["0000:01:00.4", "0000:01:00.5"]) {
      expect(dev(w, vf).flavour).toBe("vfio");
      expect(dev(w, vf).driver?.name).toBe("mlx5_vfio_pci");
    }
    // no host-driver probe/remove cycle: the VFs were never bound to mlx5_core
    expect(w.trace.some((t) => t.text === "0000:01:00.4 bound to mlx5_core")).toBe(false);
    expect(dev(w, "0000:01:00.0").driver?.name).toBe("mlx5_core");
  });

  it("sriov_vf_flavour: EINVAL for an unknown flavour, ENOENT outside design (a)", () => {
    expect(op(sriovWorld({ flavourAttr: true }), { op: "write", path: `${PF}/sriov_vf_flavour`, data: "gpu" })).toMatchObject({ ok: false, errno: "EINVAL" });
    expect(op(sriovWorld(), { op: "write", path: `${PF}/sriov_vf_flavour`, data: "vfio" })).toMatchObject({ ok: false, errno: "ENOENT" });
  });
});
