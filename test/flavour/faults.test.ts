// Each fault under each design, on the default machine.
import { describe, expect, it } from "vitest";
import { runScenario, type Fault, type RunResult } from "../../src/flavour/compare.ts";
import { designById } from "../../src/flavour/designs/index.ts";
import { loadDefault } from "./load-default.ts";

const { cat, machine } = loadDefault();
const run = (id: string, f: Fault): RunResult => runScenario(cat, machine, designById(id)!, f);
const dev = (r: RunResult, name: string) => r.devices.find((d) => d.name === name)!;
const VF = "0000:01:00.2";

describe("fault variant-missing (mlx5_vfio_pci not installed)", () => {
  it.each(["a", "c", "d"])("design (%s) falls back to the universal vfio-pci for the ConnectX VF", (id) => {
    const r = run(id, "variant-missing");
    expect(dev(r, VF).final).toBe("vfio-pci");
    expect(dev(r, VF).right).toBe(true);
    expect(r.modulesLoaded).not.toContain("mlx5_vfio_pci");
  });
});

describe("fault modprobe-fails", () => {
  it("design (a): the driver_flavour write fails with ENODEV and the host driver stays bound (no candidate, nothing unbound)", () => {
    const r = run("a", "modprobe-fails");
    expect(dev(r, VF).final).toBe("mlx5_core");
    expect(dev(r, VF).error).toBe(`/sys/bus/pci/devices/${VF}/driver_flavour: ENODEV`);
    expect(r.devices.every((d) => d.right)).toBe(true);
    expect(r.trace.some((t) => t.kind === "unbind")).toBe(false);
  });

  it("design (c): libvirt stops at virPCIDeviceFindDriver, before touching driver_override", () => {
    const r = run("c", "modprobe-fails");
    expect(dev(r, VF).error).toMatch(/^Failed to load PCI driver module mlx5_vfio_pci: modprobe: ERROR/);
    expect(r.sysfsWrites).toBe(0);
    expect(dev(r, VF).final).toBe("mlx5_core");
  });

  it("design (d): the hook fails inside udev; the requester sees nothing but the device stays on its host driver", () => {
    const r = run("d", "modprobe-fails");
    expect(dev(r, VF).error).toBeNull();
    expect(dev(r, VF).final).toBe("mlx5_core");
    expect(r.trace.some((t) => t.kind === "udev" && t.text.includes("failed"))).toBe(true);
  });
});

describe("fault udev-slow / udev-dead", () => {
  it("design (a) does not depend on udev: request_module runs modprobe as a usermode helper", () => {
    for (const f of ["udev-slow", "udev-dead"] as const) {
      const r = run("a", f);
      expect(r.devices.every((d) => d.right), f).toBe(true);
      expect(dev(r, VF).boundAfterMs, f).toBeLessThan(100);
    }
  });

  it("design (d) waits for udev: 2.5 s per event when slow", () => {
    const r = run("d", "udev-slow");
    expect(dev(r, VF).final).toBe("mlx5_vfio_pci");
    expect(dev(r, VF).boundAfterMs).toBeGreaterThanOrEqual(2500);
  });

  it("design (d) switches nothing when udev is dead", () => {
    const r = run("d", "udev-dead");
    expect(dev(r, VF).final).toBe("mlx5_core");
    expect(dev(r, "0000:05:00.0").final).toBe("nvme");
    expect(dev(r, VF).right).toBe(false);
  });

  it("design (c) does not depend on udev either", () => {
    expect(run("c", "udev-dead").devices.filter((d) => d.bus === "pci").every((d) => d.right)).toBe(true);
  });
});

describe("fault hot-add (a ConnectX VF appears during the switch)", () => {
  it.each(["a", "b", "c"])("design (%s) leaves the hot-added VF on its host driver mlx5_core", (id) => {
    const r = run(id, "hot-add");
    const hot = dev(r, "0000:01:00.4");
    expect(hot.role).toBe("hot-added");
    expect(hot.final).toBe("mlx5_core");
  });

  it("design (d) also swaps the hot-added VF: its udev rule matches vendor/device, not the slot", () => {
    const hot = dev(run("d", "hot-add"), "0000:01:00.4");
    expect(hot.final).toBe("mlx5_vfio_pci");
    expect(hot.right).toBe(false);
  });
});

describe("fault race (a second agent returns the ConnectX VF to the host 5 ms into the switch)", () => {
  it("design (a): stores on driver_flavour are serialised per device; the later request (host) wins", () => {
    const r = run("a", "race");
    expect(dev(r, VF).final).toBe("mlx5_core");
    expect(dev(r, VF).right).toBe(true);
  });

  it("design (d): the requester cannot wait for the hook; the restore finishes first and the hook undoes it", () => {
    const r = run("d", "race");
    expect(dev(r, VF).expected).toBe("mlx5_core");
    expect(dev(r, VF).final).toBe("mlx5_vfio_pci");
  });
});

describe("sweep over seeded interleavings (jittered costs, race and hot-add timing)", () => {
  it("design (a) is right in every run; design (d) never for hot-add; the race device under (c) is always a valid linearisation", async () => {
    const { sweep } = await import("../../src/flavour/compare.ts");
    for (const f of ["race", "hot-add"] as const) {
      const a = sweep(cat, machine, designById("a")!, f, 12);
      expect(a.allRight, f).toBe(12);
    }
    expect(sweep(cat, machine, designById("d")!, "hot-add", 6).allRight).toBe(0);
    for (let seed = 1; seed <= 12; seed++) {
      const r = runScenario(cat, machine, designById("c")!, "race", { seed, jitter: 2, raceOffsetMs: (seed * 7919) % 60 });
      expect(dev(r, VF).right, `seed ${seed}`).toBe(true);
    }
  });
});
