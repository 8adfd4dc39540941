import { describe, expect, it } from "vitest";
import { SysfsError } from "../../src/ports.ts";
import { ERRNO } from "../../src/model/errno.ts";
import { pciDriverOverrideDeviceVfio, PCI_ANY_ID } from "../../src/model/pci.ts";
import { pciDriverSpec, PAGE_SIZE } from "../../src/kernel/index.ts";
import { machine, NIC, NVME, pciDevice } from "./helpers.ts";

const DEV = "/sys/bus/pci/devices/0000:01:00.0";

function errnoOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof SysfsError) return e.errno;
    throw e;
  }
  return "OK";
}

function setup() {
  const m = machine();
  m.k.driverRegister(pciDriverSpec("e1000e", [pciDevice(0x8086, 0x10d3)]), "e1000e");
  m.k.driverRegister(pciDriverSpec("vfio-pci", [pciDriverOverrideDeviceVfio(PCI_ANY_ID, PCI_ANY_ID)]), "vfio_pci");
  const d = m.addPci("0000:01:00.0", NIC);
  return { m, s: m.sysfs, d };
}

describe("sysfs formats (pci-sysfs.c, bus.c, core.c)", () => {
  it("PCI identity attributes: 0x%04x, class 0x%06x, modalias with newline", () => {
    const { s } = setup();
    expect(s.readSync(`${DEV}/vendor`)).toBe("0x8086\n");
    expect(s.readSync(`${DEV}/device`)).toBe("0x10d3\n");
    expect(s.readSync(`${DEV}/subsystem_vendor`)).toBe("0x8086\n");
    expect(s.readSync(`${DEV}/class`)).toBe("0x020000\n");
    expect(s.readSync(`${DEV}/modalias`)).toBe("pci:v00008086d000010D3sv00008086sd0000A01Fbc02sc00i00\n");
  });

  it("uevent_show prints dev_uevent vars only (DRIVER first)", () => {
    const { s } = setup();
    expect(s.readSync(`${DEV}/uevent`)).toBe(
      "DRIVER=e1000e\nPCI_CLASS=20000\nPCI_ID=8086:10D3\nPCI_SUBSYS_ID=8086:A01F\nPCI_SLOT_NAME=0000:01:00.0\nMODALIAS=pci:v00008086d000010D3sv00008086sd0000A01Fbc02sc00i00\n",
    );
  });

  it("links: driver, subsystem, bus/devices entry, driver dir entry, module", () => {
    const { s } = setup();
    expect(s.readlinkSync(`${DEV}/driver`)).toBe("../../../bus/pci/drivers/e1000e");
    expect(s.readlinkSync(`${DEV}/subsystem`)).toBe("../../../bus/pci");
    expect(s.readlinkSync(DEV)).toBe("../../../devices/pci0000:00/0000:01:00.0");
    expect(s.readlinkSync("/sys/bus/pci/drivers/e1000e/0000:01:00.0")).toBe("../../../../devices/pci0000:00/0000:01:00.0");
    expect(s.readlinkSync(`${DEV}/vendor`)).toBeNull();
    expect(s.listSync("/sys/bus/pci/drivers")).toEqual(["e1000e", "vfio-pci"]);
  });

  it("drivers_autoprobe: %d; store: '0' → 0, anything else → 1", () => {
    const { s, m } = setup();
    expect(s.readSync("/sys/bus/pci/drivers_autoprobe")).toBe("1\n");
    s.writeSync("/sys/bus/pci/drivers_autoprobe", "0\n");
    expect(m.k.bus("pci").driversAutoprobe).toBe(false);
    s.writeSync("/sys/bus/pci/drivers_autoprobe", "x");
    expect(s.readSync("/sys/bus/pci/drivers_autoprobe")).toBe("1\n");
  });
});

describe("driver_set_override (drivers/base/driver.c)", () => {
  const cases: [string, string][] = [
    ["vfio-pci\n", "vfio-pci\n"],
    ["vfio-pci", "vfio-pci\n"],
    ["foo \n", "foo \n"],
    ["a\nb", "a\n"],
    ["ab\0cd", "ab\n"],
    ["\n", "(null)\n"],
    ["\0junk", "(null)\n"],
  ];
  for (const [input, shown] of cases) {
    it(`writes ${JSON.stringify(input)} → shows ${JSON.stringify(shown)}`, () => {
      const { s } = setup();
      expect(s.writeSync(`${DEV}/driver_override`, input)).toBe(input.length);
      expect(s.readSync(`${DEV}/driver_override`)).toBe(shown);
    });
  }

  it("unset shows (null); length >= PAGE_SIZE-1 is EINVAL; 4094 bytes is fine", () => {
    const { s } = setup();
    expect(s.readSync(`${DEV}/driver_override`)).toBe("(null)\n");
    expect(errnoOf(() => s.writeSync(`${DEV}/driver_override`, "x".repeat(PAGE_SIZE - 1)))).toBe("EINVAL");
    expect(s.writeSync(`${DEV}/driver_override`, "x".repeat(PAGE_SIZE - 2))).toBe(PAGE_SIZE - 2);
  });

  it("setting the override neither unbinds nor loads anything (ABI doc)", () => {
    const { s, d } = setup();
    s.writeSync(`${DEV}/driver_override`, "vfio-pci");
    expect(d.driver?.name).toBe("e1000e");
  });

  it("override → unbind → drivers_probe binds the override-only vfio-pci", () => {
    const { s, d, m } = setup();
    s.writeSync(`${DEV}/driver_override`, "vfio-pci\n");
    s.writeSync("/sys/bus/pci/drivers/e1000e/unbind", "0000:01:00.0\n");
    expect(d.driver).toBeNull();
    expect(s.writeSync("/sys/bus/pci/drivers_probe", "0000:01:00.0")).toBe(12);
    expect(d.driver?.name).toBe("vfio-pci");
    expect(m.ev().slice(-2)).toEqual(["unbind /devices/pci0000:00/0000:01:00.0", "bind /devices/pci0000:00/0000:01:00.0 DRIVER=vfio-pci"]);
  });
});

describe("bind/unbind/drivers_probe errno (bus.c bind_store, unbind_store, drivers_probe_store)", () => {
  it("bind: unknown device ENODEV, not matching ENODEV, already bound EBUSY, success returns count", () => {
    const { s, m } = setup();
    expect(errnoOf(() => s.writeSync("/sys/bus/pci/drivers/e1000e/bind", "0000:09:00.0"))).toBe("ENODEV");
    m.addPci("0000:02:00.0", NVME);
    expect(errnoOf(() => s.writeSync("/sys/bus/pci/drivers/e1000e/bind", "0000:02:00.0"))).toBe("ENODEV");
    expect(errnoOf(() => s.writeSync("/sys/bus/pci/drivers/e1000e/bind", "0000:01:00.0"))).toBe("EBUSY");
    s.writeSync("/sys/bus/pci/drivers/e1000e/unbind", "0000:01:00.0");
    expect(s.writeSync("/sys/bus/pci/drivers/e1000e/bind", "0000:01:00.0\n")).toBe(13);
  });

  it("bind: sysfs_streq accepts one trailing newline only", () => {
    const { s } = setup();
    s.writeSync("/sys/bus/pci/drivers/e1000e/unbind", "0000:01:00.0");
    expect(errnoOf(() => s.writeSync("/sys/bus/pci/drivers/e1000e/bind", "0000:01:00.0\n\n"))).toBe("ENODEV");
    expect(errnoOf(() => s.writeSync("/sys/bus/pci/drivers/e1000e/bind", " 0000:01:00.0"))).toBe("ENODEV");
  });

  it("bind: a probe -EPROBE_DEFER surfaces as EAGAIN, a probe error as itself", () => {
    const m = machine();
    m.k.driverRegister(pciDriverSpec("d", [pciDevice(0x8086, 0x10d3)], { probe: () => -ERRNO.EPROBE_DEFER }), null);
    m.k.driverRegister(pciDriverSpec("f", [pciDevice(0x8086, 0x10d3)], { probe: () => -ERRNO.ENOMEM }), null);
    m.addPci("0000:01:00.0", NIC);
    expect(errnoOf(() => m.sysfs.writeSync("/sys/bus/pci/drivers/d/bind", "0000:01:00.0"))).toBe("EAGAIN");
    expect(errnoOf(() => m.sysfs.writeSync("/sys/bus/pci/drivers/f/bind", "0000:01:00.0"))).toBe("ENOMEM");
  });

  it("unbind: device not bound to this driver ENODEV; unbind does not re-probe", () => {
    const { s, d } = setup();
    expect(errnoOf(() => s.writeSync("/sys/bus/pci/drivers/vfio-pci/unbind", "0000:01:00.0"))).toBe("ENODEV");
    s.writeSync("/sys/bus/pci/drivers/e1000e/unbind", "0000:01:00.0");
    expect(d.driver).toBeNull();
  });

  it("drivers_probe: unknown device ENODEV; no driver found still returns the count", () => {
    const { s, m } = setup();
    expect(errnoOf(() => s.writeSync("/sys/bus/pci/drivers_probe", "0000:09:00.0"))).toBe("ENODEV");
    const nvme = m.addPci("0000:02:00.0", NVME);
    expect(s.writeSync("/sys/bus/pci/drivers_probe", "0000:02:00.0")).toBe(12);
    expect(nvme.driver).toBeNull();
  });
});

describe("kernfs/sysfs file semantics (fs/kernfs/file.c, fs/sysfs/file.c)", () => {
  it("ENOENT for unknown paths and unknown devices, ENOTDIR through a file", () => {
    const { s } = setup();
    expect(errnoOf(() => s.readSync("/sys/bus/pci/devices/0000:09:00.0/vendor"))).toBe("ENOENT");
    expect(errnoOf(() => s.readSync("/sys/bus/usb/drivers_probe"))).toBe("ENOENT");
    expect(errnoOf(() => s.readSync(`${DEV}/nonexistent`))).toBe("ENOENT");
    expect(errnoOf(() => s.readSync(`${DEV}/vendor/x`))).toBe("ENOTDIR");
    expect(s.existsSync(`${DEV}/driver/module`)).toBe(false); // module link points to a module not loaded
  });

  it("EACCES: read of a write-only attribute, write of a read-only one (KERNFS_ROOT_EXTRA_OPEN_PERM_CHECK)", () => {
    const { s } = setup();
    expect(errnoOf(() => s.readSync("/sys/bus/pci/drivers/e1000e/bind"))).toBe("EACCES");
    expect(errnoOf(() => s.readSync("/sys/bus/pci/drivers_probe"))).toBe("EACCES");
    expect(errnoOf(() => s.writeSync(`${DEV}/vendor`, "0x1234"))).toBe("EACCES");
    expect(errnoOf(() => s.writeSync(`${DEV}/modalias`, "x"))).toBe("EACCES");
  });

  it("EISDIR for reads/writes of a directory", () => {
    const { s } = setup();
    expect(errnoOf(() => s.readSync("/sys/bus/pci/drivers/e1000e"))).toBe("EISDIR");
    expect(errnoOf(() => s.writeSync("/sys/bus/pci", "x"))).toBe("EISDIR");
  });

  it("a zero-length write returns 0 without calling store (sysfs_kf_write)", () => {
    const { s, d } = setup();
    expect(s.writeSync("/sys/bus/pci/drivers/e1000e/unbind", "")).toBe(0);
    expect(d.driver?.name).toBe("e1000e");
  });

  it("writes longer than PAGE_SIZE are cut to PAGE_SIZE (kernfs_fop_write_iter), then the store decides", () => {
    const { s, m } = setup();
    // drivers_autoprobe accepts anything: the count returned is PAGE_SIZE, not the write size.
    expect(s.writeSync("/sys/bus/pci/drivers_autoprobe", "1".repeat(PAGE_SIZE + 100))).toBe(PAGE_SIZE);
    expect(errnoOf(() => s.writeSync(`${DEV}/driver_override`, "y".repeat(PAGE_SIZE * 2)))).toBe("EINVAL");
    expect(m.k.bus("pci").driversAutoprobe).toBe(true);
  });

  it("async SysfsPort rejects with SysfsError carrying the errno", async () => {
    const { s } = setup();
    await expect(s.read("/sys/nope")).rejects.toMatchObject({ errno: "ENOENT" });
    await expect(s.write(`${DEV}/driver_override`, "vfio-pci")).resolves.toBe(8);
    await expect(s.list("/sys/bus")).resolves.toEqual(["pci", "platform", "virtio"]);
  });
});

describe("new_id / remove_id (pci-driver.c new_id_store, remove_id_store)", () => {
  function withStub() {
    const m = machine();
    m.k.driverRegister(pciDriverSpec("pci-stub", null), "pci_stub");
    m.k.driverRegister(pciDriverSpec("tabled", [{ ...pciDevice(0x1af4, 0x1000), driverData: 7 }]), null);
    const d = m.addPci("0000:01:00.0", NIC);
    return { m, s: m.sysfs, d };
  }

  it("new_id binds every unbound matching device (pci_add_dynid → driver_attach)", () => {
    const { s, d } = withStub();
    expect(d.driver).toBeNull();
    expect(s.writeSync("/sys/bus/pci/drivers/pci-stub/new_id", "8086 10d3\n")).toBe(10);
    expect(d.driver?.name).toBe("pci-stub");
  });

  it("fewer than 2 fields EINVAL; an existing match with < 7 fields EEXIST; 7 fields bypass the check", () => {
    const { s } = withStub();
    expect(errnoOf(() => s.writeSync("/sys/bus/pci/drivers/pci-stub/new_id", "8086"))).toBe("EINVAL");
    expect(errnoOf(() => s.writeSync("/sys/bus/pci/drivers/pci-stub/new_id", "zz 10d3"))).toBe("EINVAL");
    s.writeSync("/sys/bus/pci/drivers/pci-stub/new_id", "8086 10d3");
    expect(errnoOf(() => s.writeSync("/sys/bus/pci/drivers/pci-stub/new_id", "8086 10d3"))).toBe("EEXIST");
    expect(errnoOf(() => s.writeSync("/sys/bus/pci/drivers/pci-stub/new_id", "0x8086 0x10d3 ffffffff ffffffff"))).toBe("EEXIST");
    expect(s.writeSync("/sys/bus/pci/drivers/pci-stub/new_id", "8086 10d3 ffffffff ffffffff 0 0 0")).toBe(33);
  });

  it("with an id_table, driver_data must equal an entry's driver_data", () => {
    const { s } = withStub();
    expect(errnoOf(() => s.writeSync("/sys/bus/pci/drivers/tabled/new_id", "8086 10d3 ffffffff ffffffff 0 0 3"))).toBe("EINVAL");
    expect(s.writeSync("/sys/bus/pci/drivers/tabled/new_id", "8086 10d3 ffffffff ffffffff 0 0 7")).toBeGreaterThan(0);
  });

  it("remove_id deletes the first matching dynid, -ENODEV when none, and does not unbind", () => {
    const { s, d } = withStub();
    s.writeSync("/sys/bus/pci/drivers/pci-stub/new_id", "8086 10d3");
    expect(errnoOf(() => s.writeSync("/sys/bus/pci/drivers/pci-stub/remove_id", "8086 10d4"))).toBe("ENODEV");
    expect(errnoOf(() => s.writeSync("/sys/bus/pci/drivers/pci-stub/remove_id", "8086"))).toBe("EINVAL");
    expect(s.writeSync("/sys/bus/pci/drivers/pci-stub/remove_id", "8086 10d3")).toBe(9);
    expect(d.driver?.name).toBe("pci-stub");
    expect(errnoOf(() => s.writeSync("/sys/bus/pci/drivers/pci-stub/remove_id", "8086 10d3"))).toBe("ENODEV");
  });

  it("new_id and remove_id are write-only", () => {
    const { s } = withStub();
    expect(errnoOf(() => s.readSync("/sys/bus/pci/drivers/pci-stub/new_id"))).toBe("EACCES");
  });
});

describe("SR-IOV (drivers/pci/iov.c)", () => {
  function sriov() {
    const m = machine();
    m.k.driverRegister(pciDriverSpec("ixgbe", [pciDevice(0x8086, 0x10fb)], { sriovConfigure: true }), null);
    m.k.driverRegister(pciDriverSpec("ixgbevf", [pciDevice(0x8086, 0x10ed)]), null);
    const pf = m.addPci("0000:03:00.0", { vendor: 0x8086, device: 0x10fb, subvendor: 0x8086, subdevice: 0x0003, class: 0x020000 }, { totalVFs: 4, offset: 128, stride: 2, vfDevice: 0x10ed });
    return { m, s: m.sysfs, pf };
  }
  const PF = "/sys/bus/pci/devices/0000:03:00.0";

  it("sriov_numvfs creates VFs with physfn/virtfn links; they probe; 0 removes them", () => {
    const { s, m } = sriov();
    expect(s.readSync(`${PF}/sriov_totalvfs`)).toBe("4\n");
    expect(s.writeSync(`${PF}/sriov_numvfs`, "2\n")).toBe(2);
    expect(s.readlinkSync(`${PF}/virtfn1`)).toBe("../0000:03:10.2");
    expect(s.readlinkSync("/sys/bus/pci/devices/0000:03:10.0/physfn")).toBe("../0000:03:00.0");
    expect(m.k.findDevice("pci", "0000:03:10.0")?.driver?.name).toBe("ixgbevf");
    expect(s.writeSync(`${PF}/sriov_numvfs`, "0")).toBe(1);
    expect(m.k.findDevice("pci", "0000:03:10.0")).toBeUndefined();
  });

  it("sriov_numvfs errors: > totalvfs ERANGE, garbage EINVAL, change while enabled EBUSY, no driver ENOENT", () => {
    const { s, pf, m } = sriov();
    expect(errnoOf(() => s.writeSync(`${PF}/sriov_numvfs`, "5"))).toBe("ERANGE");
    expect(errnoOf(() => s.writeSync(`${PF}/sriov_numvfs`, "two"))).toBe("EINVAL");
    s.writeSync(`${PF}/sriov_numvfs`, "1");
    expect(errnoOf(() => s.writeSync(`${PF}/sriov_numvfs`, "2"))).toBe("EBUSY");
    s.writeSync(`${PF}/sriov_numvfs`, "0");
    m.k.deviceReleaseDriver(pf);
    expect(errnoOf(() => s.writeSync(`${PF}/sriov_numvfs`, "1"))).toBe("ENOENT");
  });

  it("sriov_drivers_autoprobe=0: VFs are not probed unless they carry a driver_override (pci_device_can_probe)", () => {
    const { s, m } = sriov();
    s.writeSync(`${PF}/sriov_drivers_autoprobe`, "0");
    s.writeSync(`${PF}/sriov_numvfs`, "1");
    const vf = m.k.findDevice("pci", "0000:03:10.0")!;
    expect(vf.driver).toBeNull();
    s.writeSync("/sys/bus/pci/devices/0000:03:10.0/driver_override", "ixgbevf");
    s.writeSync("/sys/bus/pci/drivers_probe", "0000:03:10.0");
    expect(vf.driver?.name).toBe("ixgbevf");
  });

  it("unbinding the PF driver disables SR-IOV (the PF driver's remove)", () => {
    const { s, m } = sriov();
    s.writeSync(`${PF}/sriov_numvfs`, "2");
    s.writeSync("/sys/bus/pci/drivers/ixgbe/unbind", "0000:03:00.0");
    expect(m.k.bus("pci").devices.map((d) => d.name)).toEqual(["0000:03:00.0"]);
  });
});
