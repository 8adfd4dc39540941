import { describe, expect, it } from "vitest";
import { ERRNO } from "../../src/model/errno.ts";
import { ETIME } from "../../src/kernel/request-module.ts";
import { createKernel, Kernel, kernelSysfs, pciDriverSpec } from "../../src/kernel/index.ts";
import { machine, NIC, pciDevice } from "./helpers.ts";

const nicId = [pciDevice(0x8086, 0x10d3)];

describe("modules (kernel/module/main.c, drivers/base/module.c)", () => {
  it("insert: drivers register, devices bind, then /module ADD after init (5.11+); initstate live, refcnt 0", () => {
    const m = machine();
    m.addPci("0000:01:00.0", NIC);
    m.pciModule("e1000e", "e1000e", nicId);
    m.events.length = 0;
    expect(m.k.insertModule("e1000e")).toBe(0);
    expect(m.ev()).toEqual(["bind /devices/pci0000:00/0000:01:00.0 DRIVER=e1000e", "add /bus/pci/drivers/e1000e", "add /module/e1000e"]);
    expect(m.sysfs.readSync("/sys/module/e1000e/initstate")).toBe("live\n");
    expect(m.sysfs.readSync("/sys/module/e1000e/refcnt")).toBe("0\n");
    expect(m.sysfs.listSync("/sys/module/e1000e/drivers")).toEqual(["pci:e1000e"]);
    expect(m.sysfs.readlinkSync("/sys/bus/pci/drivers/e1000e/module")).toBe("../../../../module/e1000e");
  });

  it("insert twice: -EEXIST; unknown image: -ENOENT; missing dependency: -ENOENT", () => {
    const m = machine();
    m.pciModule("e1000e", "e1000e", nicId);
    m.k.addModuleImage({ name: "mlx5_vfio_pci", drivers: [], uses: ["vfio_pci_core"] });
    expect(m.k.insertModule("e1000e")).toBe(0);
    expect(m.k.insertModule("e1000e")).toBe(-ERRNO.EEXIST);
    expect(m.k.insertModule("nope")).toBe(-ERRNO.ENOENT);
    expect(m.k.insertModule("mlx5_vfio_pci")).toBe(-ERRNO.ENOENT);
  });

  it("ref_module: a user holds its dependency (refcnt, holders/); delete_module of a used module is -EWOULDBLOCK", () => {
    const m = machine();
    m.k.addModuleImage({ name: "vfio_pci_core", drivers: [] });
    m.k.addModuleImage({ name: "vfio_pci", drivers: [pciDriverSpec("vfio-pci", [])], uses: ["vfio_pci_core"] });
    expect(m.k.insertModule("vfio_pci_core")).toBe(0);
    expect(m.k.insertModule("vfio_pci")).toBe(0);
    expect(m.sysfs.readSync("/sys/module/vfio_pci_core/refcnt")).toBe("1\n");
    expect(m.sysfs.listSync("/sys/module/vfio_pci_core/holders")).toEqual(["vfio_pci"]);
    expect(m.k.deleteModule("vfio_pci_core")).toBe(-ERRNO.EAGAIN);
    expect(m.k.deleteModule("vfio_pci")).toBe(0);
    expect(m.k.deleteModule("vfio_pci_core")).toBe(0);
    expect(m.k.deleteModule("vfio_pci_core")).toBe(-ERRNO.ENOENT);
  });

  it("unload releases devices in reverse bind order (driver_detach from the klist tail)", () => {
    const m = machine();
    m.pciModule("e1000e", "e1000e", nicId);
    m.k.insertModule("e1000e");
    m.addPci("0000:01:00.0", NIC);
    m.addPci("0000:02:00.0", NIC);
    m.addPci("0000:03:00.0", NIC);
    m.events.length = 0;
    expect(m.k.deleteModule("e1000e")).toBe(0);
    expect(m.ev()).toEqual([
      "unbind /devices/pci0000:00/0000:03:00.0",
      "unbind /devices/pci0000:00/0000:02:00.0",
      "unbind /devices/pci0000:00/0000:01:00.0",
      "remove /bus/pci/drivers/e1000e",
      "remove /module/e1000e",
    ]);
    expect(m.sysfs.existsSync("/sys/module/e1000e")).toBe(false);
  });

  it("a failing init (or a duplicate driver name) unregisters what it registered and frees the module", () => {
    const m = machine();
    m.k.driverRegister(pciDriverSpec("dup", []), null);
    m.k.addModuleImage({ name: "two", drivers: [pciDriverSpec("ok", nicId), pciDriverSpec("dup", [])] });
    m.addPci("0000:01:00.0", NIC);
    expect(m.k.insertModule("two")).toBe(-ERRNO.EBUSY);
    expect(m.k.findDriver("pci", "ok")).toBeUndefined();
    expect(m.k.findDevice("pci", "0000:01:00.0")?.driver).toBeNull();
    expect(m.k.modules.has("two")).toBe(false);
    m.k.addModuleImage({ name: "bad", drivers: [], initResult: -ERRNO.ENODEV });
    expect(m.k.insertModule("bad")).toBe(-ERRNO.ENODEV);
  });

  it("built-in modules: /sys/module/<m> with drivers/ but no initstate; delete_module -ENOENT", () => {
    const m = machine();
    expect(m.k.registerBuiltin({ name: "pcieport", drivers: [pciDriverSpec("pcieport", [])] })).toBe(0);
    expect(m.sysfs.listSync("/sys/module/pcieport")).toEqual(["drivers", "uevent"]);
    expect(m.k.deleteModule("pcieport")).toBe(-ERRNO.ENOENT);
  });
});

describe("request_module (kernel/module/kmod.c __request_module)", () => {
  it("runs modprobe -q -- name with call_modprobe's environment; wait returns its exit status", () => {
    const calls: string[] = [];
    const k = new Kernel({
      host: {
        now: () => 0,
        advance: () => undefined,
        queueWork: (_l, fn) => fn(),
        callModprobe: (argv, env) => {
          calls.push(`${argv.join(" ")} ${env.PATH ?? ""}`);
          return argv[3] === "missing" ? 1 : 0;
        },
      },
    });
    expect(k.requestModule("net-pf-10", true)).toBe(0);
    expect(k.requestModule("missing", true)).toBe(1);
    expect(calls[0]).toBe("/sbin/modprobe -q -- net-pf-10 /sbin:/usr/sbin:/bin:/usr/bin");
  });

  it("no modprobe_path: -ENOENT; a name of MODULE_NAME_LEN or more: -ENAMETOOLONG", () => {
    const k = createKernel();
    expect(k.requestModule("x", true)).toBe(-ERRNO.ENOENT);
    expect(k.requestModule("x".repeat(56), true)).toBe(-ERRNO.ENAMETOOLONG);
  });

  it("nowait requests occupy the 50 kmod slots until they run; the 51st fails -ETIME", () => {
    const queue: (() => void)[] = [];
    const k = new Kernel({ host: { now: () => 0, advance: () => undefined, queueWork: (_l, fn) => queue.push(fn), callModprobe: () => 0 } });
    for (let i = 0; i < 50; i++) expect(k.requestModule(`m${i}`, false)).toBe(0);
    expect(k.requestModule("m50", false)).toBe(-ETIME);
    queue.shift()!();
    expect(k.requestModule("m51", true)).toBe(0);
  });
});

describe("uevent synthesis (lib/kobject_uevent.c kobject_synth_uevent)", () => {
  it("'add' alone adds SYNTH_UUID=0; UUID and KEY=VALUE args become SYNTH_UUID / SYNTH_ARG_*", () => {
    const m = machine();
    m.addPci("0000:01:00.0", NIC);
    m.events.length = 0;
    const s = kernelSysfs(m.k);
    s.writeSync("/sys/bus/pci/devices/0000:01:00.0/uevent", "add\n");
    s.writeSync("/sys/bus/pci/devices/0000:01:00.0/uevent", "change 12345678-1234-1234-1234-123456789abc A=1 B=two");
    const [a, c] = m.events;
    expect(a!.env.slice(0, 4)).toEqual([["ACTION", "add"], ["DEVPATH", "/devices/pci0000:00/0000:01:00.0"], ["SUBSYSTEM", "pci"], ["SYNTH_UUID", "0"]]);
    expect(a!.env.at(-1)).toEqual(["SEQNUM", String(a!.seqnum)]);
    expect(c!.env.slice(3, 6)).toEqual([["SYNTH_UUID", "12345678-1234-1234-1234-123456789abc"], ["SYNTH_ARG_A", "1"], ["SYNTH_ARG_B", "two"]]);
  });

  it("bad action or arguments: EINVAL", () => {
    const m = machine();
    m.addPci("0000:01:00.0", NIC);
    const s = kernelSysfs(m.k);
    for (const bad of ["plug", "add not-a-uuid", "add 12345678-1234-1234-1234-123456789abc A=", "add 12345678-1234-1234-1234-123456789abc A-B=1", "\n"]) {
      expect(() => s.writeSync("/sys/bus/pci/devices/0000:01:00.0/uevent", bad), bad).toThrow(/EINVAL/);
    }
  });

  it("bus-less devices send no uevents (dev_uevent_filter)", () => {
    const m = machine();
    m.events.length = 0;
    m.k.deviceAdd({ name: "pci0001:00", bus: null, data: null });
    expect(m.events).toEqual([]);
  });
});
