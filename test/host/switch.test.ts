// The flavour switch on the temp-dir fake /sys: happy paths, variant choice, IOMMU groups, in-use
// refusals, idempotence, the plan print.
import { afterEach, describe, expect, it } from "vitest";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { executePlan, planSet, planUnset, planWrites } from "../../src/host/switch.ts";
import { KbindError } from "../../src/model/errors.ts";
import { hostDesc, MOUNTINFO_NVME, rig, type Rig } from "./fixtures.ts";

let r: Rig;
afterEach(() => r.dispose());

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return "ok";
  } catch (e) {
    return e instanceof KbindError ? e.code : `not a KbindError: ${String(e)}`;
  }
}

async function errOf(p: Promise<unknown>): Promise<KbindError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof KbindError) return e;
    throw e;
  }
  throw new Error("expected a KbindError");
}

describe("host flavour set/unset vfio (libvirt order + verify + rollback)", () => {
  it("switches a NIC to vfio-pci and back to its host driver, journal removed", async () => {
    r = rig();
    const env = r.env();
    const plan = await planSet(env, "0000:01:00.0");
    expect(plan.members.map((m) => [m.device, m.module, m.choice?.wildcards])).toEqual([["0000:01:00.0", "vfio_pci", 7]]);
    const res = await executePlan(env, plan);
    expect(res.status).toBe("done");
    expect(r.fake.state("0000:01:00.0")).toEqual({ driver: "vfio-pci", override: "vfio-pci" });
    expect(r.fake.writes.map((w) => `${w.path} <- ${w.data}`)).toEqual([
      "/sys/bus/pci/devices/0000:01:00.0/driver_override <- vfio-pci",
      "/sys/bus/pci/drivers/e1000e/unbind <- 0000:01:00.0",
      "/sys/bus/pci/drivers_probe <- 0000:01:00.0",
    ]);
    expect(existsSync(join(r.dir, "journal.json"))).toBe(false);
    const back = await executePlan(env, await planUnset(env, "0000:01:00.0", { hostDriver: "e1000e" }));
    expect(back.status).toBe("done");
    expect(r.fake.state("0000:01:00.0")).toEqual({ driver: "e1000e", override: null });
  });

  it("picks the vfio variant with the fewest wildcards (mlx5_vfio_pci, 5) over vfio_pci (7) — virPCIDeviceFindBestVFIOVariant, learning the driver name from /sys/module", async () => {
    r = rig();
    const env = r.env();
    const plan = await planSet(env, "0000:02:00.0");
    expect(plan.members[0]!.choice).toEqual({ module: "mlx5_vfio_pci", alias: "vfio_pci:v000015B3d0000101Esv*sd*bc*sc*i*", wildcards: 5, line: 4 });
    expect((await executePlan(env, plan)).status).toBe("done");
    expect(r.fake.state("0000:02:00.0")).toEqual({ driver: "mlx5_vfio_pci", override: "mlx5_vfio_pci" });
  });

  it("is idempotent: a second set is a no-op with no writes", async () => {
    r = rig();
    const env = r.env();
    await executePlan(env, await planSet(env, "0000:01:00.0"));
    const before = r.fake.writes.length;
    const plan = await planSet(env, "0000:01:00.0");
    expect(planWrites(plan)).toContain("# 0000:01:00.0: already bound to vfio-pci with override vfio-pci: nothing to do");
    expect((await executePlan(env, plan)).status).toBe("noop");
    expect(r.fake.writes.length).toBe(before);
  });

  it("prints every write of the plan before doing anything (dry run makes no write)", async () => {
    r = rig();
    const plan = await planSet(r.env(), "0000:01:00.0");
    expect(planWrites(plan)).toEqual([
      "run modprobe vfio_pci",
      'write /sys/bus/pci/devices/0000:01:00.0/driver_override <- "<pci driver of vfio_pci>"',
      'write /sys/bus/pci/drivers/e1000e/unbind <- "0000:01:00.0"',
      'write /sys/bus/pci/drivers_probe <- "0000:01:00.0"',
      "verify /sys/bus/pci/devices/0000:01:00.0/driver -> <pci driver of vfio_pci>",
    ]);
    expect(plan.notes.join("\n")).toContain("module vfio_pci is not loaded");
    expect(r.fake.writes).toEqual([]);
  });

  it("refuses a device whose IOMMU group holds host-bound members, or moves the whole group with --group", async () => {
    r = rig();
    const env = r.env();
    const err = await planSet(env, "0000:04:00.0").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KbindError);
    expect((err as KbindError).code).toBe("GROUP_NOT_VIABLE");
    expect((err as KbindError).message).toContain("0000:04:00.1 (snd_hda_intel)");
    const plan = await planSet(env, "0000:04:00.0", { group: true });
    expect(plan.members.map((m) => m.device)).toEqual(["0000:04:00.0", "0000:04:00.1"]);
    expect((await executePlan(env, plan)).status).toBe("done");
    expect(r.fake.state("0000:04:00.0").driver).toBe("vfio-pci");
    expect(r.fake.state("0000:04:00.1").driver).toBe("vfio-pci");
    const back = await executePlan(env, await planUnset(env, "0000:04:00.0", { group: true }));
    expect(back.status).toBe("done");
    expect(r.fake.state("0000:04:00.0")).toEqual({ driver: "nouveau", override: null });
    expect(r.fake.state("0000:04:00.1")).toEqual({ driver: "snd_hda_intel", override: null });
  });

  it("a group move that fails on the second member rolls back the first too", async () => {
    r = rig();
    const env = r.env();
    const plan = await planSet(env, "0000:04:00.0", { group: true });
    let probes = 0;
    const res = await executePlan(
      { ...env, beforeStep: (l) => {
        if (l.includes("drivers_probe") && ++probes === 2) r.fake.setProbe("vfio-pci", "EBUSY");
      } },
      plan,
    );
    expect(res.status).toBe("rolled-back");
    expect(r.fake.state("0000:04:00.0")).toEqual({ driver: "nouveau", override: null });
    expect(r.fake.state("0000:04:00.1")).toEqual({ driver: "snd_hda_intel", override: null });
  });

  it("refuses an up network interface and a mounted disk without --force", async () => {
    const desc = hostDesc({ mountinfo: MOUNTINFO_NVME });
    desc.devices[0]!.net = [{ name: "eth0", up: true }];
    r = rig(desc);
    const env = r.env();
    const e1 = await errOf(planSet(env, "0000:01:00.0"));
    expect(e1.code).toBe("DEVICE_IN_USE");
    expect(e1.message).toContain("network interface eth0 is up (operstate up, flags 0x1003)");
    const e2 = await errOf(planSet(env, "0000:03:00.0"));
    expect(e2.code).toBe("DEVICE_IN_USE");
    expect(e2.message).toContain("block device nvme0n1p1 (259:1) is mounted on /");
    const forced = await planSet(env, "0000:01:00.0", { force: true });
    expect(forced.notes.join("\n")).toContain("--force: 0000:01:00.0 is in use");
    writeFileSync(r.fake.mountinfoPath, "");
    expect((await planSet(env, "0000:03:00.0")).members).toHaveLength(1);
  });

  it("a device without an IOMMU group: vfio-pci probe fails (no group), the switch is rolled back to the host driver", async () => {
    r = rig();
    const env = r.env();
    const plan = await planSet(env, "0000:05:00.0");
    expect(plan.notes.join("\n")).toContain("has no IOMMU group");
    r.fake.setProbe("vfio-pci", "EINVAL");
    const res = await executePlan(env, plan);
    expect(res.status).toBe("rolled-back");
    expect(res.failure).toBe("0000:05:00.0 is not bound to vfio-pci after drivers_probe: probe failed or no driver matched (see dmesg)");
    expect(res.restored).toEqual(["0000:05:00.0: restored driver e1000e, override (null)"]);
    expect(r.fake.state("0000:05:00.0")).toEqual({ driver: "e1000e", override: null });
  });

  it("validates names: no traversal, only existing devices, PCI only", async () => {
    r = rig();
    const env = r.env();
    expect(await codeOf(planSet(env, "../../../etc"))).toBe("BAD_BUS_NAME");
    expect(await codeOf(planSet(env, ".."))).toBe("BAD_DEVICE_NAME");
    expect(await codeOf(planSet(env, "pci/../x"))).toBe("BAD_DEVICE_NAME");
    expect(await codeOf(planSet(env, "0000:09:00.0"))).toBe("NO_SUCH_DEVICE");
    expect(await codeOf(planSet(env, "-rf"))).toBe("BAD_DEVICE_NAME");
    expect(await codeOf(planUnset(env, "0000:01:00.0", { hostDriver: "../x" }))).toBe("BAD_DRIVER_NAME");
  });

  it("modprobe failing: nothing changed, exit says so", async () => {
    r = rig();
    const env = r.env({ modprobe: { modprobe: () => Promise.resolve({ code: 1, stdout: "", stderr: "modprobe: ERROR: could not insert 'vfio_pci': Operation not permitted\n" }) } });
    const res = await executePlan(env, await planSet(env, "0000:01:00.0"));
    expect(res.status).toBe("rolled-back");
    expect(res.failure).toBe("modprobe vfio_pci exited 1: modprobe: ERROR: could not insert 'vfio_pci': Operation not permitted");
    expect(r.fake.writes).toEqual([]);
    expect(r.fake.state("0000:01:00.0")).toEqual({ driver: "e1000e", override: null });
  });
});
