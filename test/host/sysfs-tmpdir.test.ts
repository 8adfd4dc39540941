// The temp-dir fake /sys: the kernel semantics it emulates on real files (libvirt virpcimock-style),
// exercised through the real adapter's open/write/close path.
import { afterEach, describe, expect, it } from "vitest";
import { readFileSync, readlinkSync } from "node:fs";
import { join } from "node:path";
import { SysfsError } from "../../src/ports.ts";
import { TmpdirSysfs } from "../../src/host/sysfs-tmpdir.ts";
import { hostDesc } from "./fixtures.ts";

let fake: TmpdirSysfs;
afterEach(() => fake.dispose());

async function errnoOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return "ok";
  } catch (e) {
    return e instanceof SysfsError ? e.errno : `not a SysfsError: ${String(e)}`;
  }
}

const NIC = "0000:01:00.0";
const D = `/sys/bus/pci/devices/${NIC}`;

describe("temp-dir fake /sys layout", () => {
  it("lays out devices, drivers, links and attributes like the kernel's sysfs", async () => {
    fake = TmpdirSysfs.create(hostDesc());
    expect(await fake.readlink(`/sys/bus/pci/devices/${NIC}`)).toBe(`../../../devices/pci0000:00/${NIC}`);
    expect(await fake.readlink(`${D}/driver`)).toBe("../../../bus/pci/drivers/e1000e");
    expect(await fake.readlink(`${D}/iommu_group`)).toBe("../../../kernel/iommu_groups/1");
    expect(await fake.read(`${D}/driver_override`)).toBe("(null)\n");
    expect(await fake.read(`${D}/modalias`)).toBe("pci:v00008086d000010D3sv00008086sd000010D3bc02sc00i00\n");
    expect(await fake.read(`${D}/class`)).toBe("0x020000\n");
    expect(await fake.list("/sys/kernel/iommu_groups/4/devices")).toEqual(["0000:04:00.0", "0000:04:00.1"]);
    expect(await fake.list("/sys/module/e1000e/drivers")).toEqual(["pci:e1000e"]);
    expect(await fake.exists("/sys/bus/pci/drivers/vfio-pci")).toBe(false);
    expect(readlinkSync(join(fake.root, "sys/bus/pci/drivers/e1000e", NIC))).toBe(`../../../../devices/pci0000:00/${NIC}`);
  });
});

describe("driver_set_override() semantics (drivers/base/driver.c)", () => {
  it("stores up to the first newline, clears on an empty string or a leading newline, and stops at NUL", async () => {
    fake = TmpdirSysfs.create(hostDesc());
    await fake.write(`${D}/driver_override`, "vfio-pci\nextra");
    expect(await fake.read(`${D}/driver_override`)).toBe("vfio-pci\n");
    await fake.write(`${D}/driver_override`, "\n");
    expect(await fake.read(`${D}/driver_override`)).toBe("(null)\n");
    await fake.write(`${D}/driver_override`, "foo \n");
    expect(fake.state(NIC).override).toBe("foo ");
    await fake.write(`${D}/driver_override`, "\0bar");
    expect(fake.state(NIC).override).toBe(null);
    // Writing the override neither unbinds nor rebinds (ABI doc, sysfs-bus-pci).
    expect(fake.state(NIC).driver).toBe("e1000e");
  });

  it("rejects len >= PAGE_SIZE - 1 with EINVAL and keeps the old override", async () => {
    fake = TmpdirSysfs.create(hostDesc());
    await fake.write(`${D}/driver_override`, "keep");
    expect(await errnoOf(fake.write(`${D}/driver_override`, "x".repeat(4095)))).toBe("EINVAL");
    expect(await fake.read(`${D}/driver_override`)).toBe("keep\n");
    await fake.write(`${D}/driver_override`, "y".repeat(4094));
    expect(fake.state(NIC).override).toBe("y".repeat(4094));
  });
});

describe("bind/unbind/drivers_probe/new_id (drivers/base/bus.c, drivers/pci/pci-driver.c)", () => {
  it("unbind_store: ENODEV unless the device is bound to that driver; sysfs_streq accepts a trailing newline", async () => {
    fake = TmpdirSysfs.create(hostDesc());
    expect(await errnoOf(fake.write("/sys/bus/pci/drivers/nvme/unbind", NIC))).toBe("ENODEV");
    expect(await errnoOf(fake.write("/sys/bus/pci/drivers/e1000e/unbind", "0000:09:00.0"))).toBe("ENODEV");
    expect(await fake.write("/sys/bus/pci/drivers/e1000e/unbind", `${NIC}\n`)).toBe(13);
    expect(fake.state(NIC).driver).toBe(null);
    expect(await fake.readlink(`${D}/driver`)).toBe(null);
    expect(await fake.exists(`/sys/bus/pci/drivers/e1000e/${NIC}`)).toBe(false);
  });

  it("bind_store: EBUSY when bound, ENODEV when the override names another driver, probe errors come back (EPROBE_DEFER → EAGAIN)", async () => {
    fake = TmpdirSysfs.create(hostDesc());
    expect(await errnoOf(fake.write("/sys/bus/pci/drivers/e1000e/bind", NIC))).toBe("EBUSY");
    await fake.write("/sys/bus/pci/drivers/e1000e/unbind", NIC);
    await fake.write(`${D}/driver_override`, "vfio-pci");
    expect(await errnoOf(fake.write("/sys/bus/pci/drivers/e1000e/bind", NIC))).toBe("ENODEV");
    await fake.write(`${D}/driver_override`, "\n");
    fake.setProbe("e1000e", "EPROBE_DEFER");
    expect(await errnoOf(fake.write("/sys/bus/pci/drivers/e1000e/bind", NIC))).toBe("EAGAIN");
    fake.setProbe("e1000e", "ENOMEM");
    expect(await errnoOf(fake.write("/sys/bus/pci/drivers/e1000e/bind", NIC))).toBe("ENOMEM");
    fake.setProbe("e1000e", "ok");
    await fake.write("/sys/bus/pci/drivers/e1000e/bind", NIC);
    expect(fake.state(NIC).driver).toBe("e1000e");
  });

  it("drivers_probe: ENODEV for an unknown device, count even when nothing binds, override wins over the id table", async () => {
    fake = TmpdirSysfs.create(hostDesc());
    expect(await errnoOf(fake.write("/sys/bus/pci/drivers_probe", "0000:09:00.0"))).toBe("ENODEV");
    await fake.write(`${D}/driver_override`, "vfio-pci");
    await fake.write("/sys/bus/pci/drivers/e1000e/unbind", NIC);
    expect(await fake.write("/sys/bus/pci/drivers_probe", NIC)).toBe(12);
    expect(fake.state(NIC).driver).toBe(null); // vfio-pci is not loaded: nothing matches
    const r = await fake.modprobePort().modprobe(["vfio-pci"]);
    expect(r.code).toBe(0);
    // module load → driver_register → driver_attach: the override names vfio-pci, which always matches.
    expect(fake.state(NIC).driver).toBe("vfio-pci");
    expect(await fake.list("/sys/module/vfio_pci/drivers")).toEqual(["pci:vfio-pci"]);
  });

  it("new_id adds a dynamic id and attaches; too few fields is EINVAL, a duplicate EEXIST", async () => {
    fake = TmpdirSysfs.create(hostDesc());
    await fake.modprobePort().modprobe(["vfio_pci"]);
    await fake.write("/sys/bus/pci/drivers/e1000e/unbind", NIC);
    expect(await errnoOf(fake.write("/sys/bus/pci/drivers/vfio-pci/new_id", "8086"))).toBe("EINVAL");
    await fake.write("/sys/bus/pci/drivers/vfio-pci/new_id", "8086 10d3");
    expect(fake.state(NIC).driver).toBe("vfio-pci");
    expect(await errnoOf(fake.write("/sys/bus/pci/drivers/vfio-pci/new_id", "8086 10d3"))).toBe("EEXIST");
  });

  it("fake modprobe: unknown module fails like kmod's modprobe", async () => {
    fake = TmpdirSysfs.create(hostDesc());
    const r = await fake.modprobePort().modprobe(["nosuch"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe("modprobe: FATAL: Module nosuch not found in directory /lib/modules/6.1.0-fake\n");
  });

  it("writes really hit the files: the last bytes written are on disk until the side effect runs", async () => {
    fake = TmpdirSysfs.create(hostDesc());
    await fake.write(`${D}/driver_override`, "abc");
    expect(readFileSync(join(fake.root, `sys/devices/pci0000:00/${NIC}/driver_override`), "latin1")).toBe("abc\n");
    expect(fake.writes.at(-1)).toEqual({ path: `${D}/driver_override`, data: "abc", result: 3 });
  });
});
