import { describe, expect, it } from "vitest";
import { ERRNO } from "../../src/model/errno.ts";
import { newPciDevData, pciDriverSpec } from "../../src/kernel/index.ts";
import { machine, NIC, NVME, pciDevice } from "./helpers.ts";

describe("drivers/base registry (bus.c, driver.c, core.c)", () => {
  it("bus_add_device / bus_add_driver: klists keep device_add and registration order", () => {
    const m = machine();
    m.addPci("0000:02:00.0", NIC);
    m.addPci("0000:01:00.0", NVME);
    m.k.driverRegister(pciDriverSpec("b", []), null);
    m.k.driverRegister(pciDriverSpec("a", []), null);
    const bus = m.k.bus("pci");
    expect(bus.devices.map((d) => d.name)).toEqual(["0000:02:00.0", "0000:01:00.0"]);
    expect(bus.drivers.map((d) => d.name)).toEqual(["b", "a"]);
  });

  it("driver_register: duplicate name on the bus is -EBUSY, unknown bus -EINVAL", () => {
    const m = machine();
    expect(typeof m.k.driverRegister(pciDriverSpec("e1000e", []), null)).toBe("object");
    expect(m.k.driverRegister(pciDriverSpec("e1000e", []), null)).toBe(-ERRNO.EBUSY);
    expect(m.trace).toContain("Error: Driver 'e1000e' is already registered, aborting...");
    expect(m.k.driverRegister({ ...pciDriverSpec("x", []), bus: "usb" }, null)).toBe(-ERRNO.EINVAL);
  });

  it("device_add: a duplicate name is EEXIST (sysfs: cannot create duplicate filename)", () => {
    const m = machine();
    m.addPci("0000:01:00.0", NIC);
    expect(() => m.addPci("0000:01:00.0", NIC)).toThrow(/duplicate filename/);
  });

  it("device_add: ADD uevent before the initial probe's BIND (core.c device_add → bus_probe_device)", () => {
    const m = machine();
    m.k.driverRegister(pciDriverSpec("e1000e", [pciDevice(0x8086, 0x10d3)]), null);
    m.events.length = 0;
    m.addPci("0000:01:00.0", NIC);
    expect(m.ev()).toEqual(["add /devices/pci0000:00/0000:01:00.0", "bind /devices/pci0000:00/0000:01:00.0 DRIVER=e1000e"]);
  });

  it("bus_add_driver: driver_attach runs before driver_register's KOBJ_ADD of the driver", () => {
    const m = machine();
    m.addPci("0000:01:00.0", NIC);
    m.events.length = 0;
    m.k.driverRegister(pciDriverSpec("e1000e", [pciDevice(0x8086, 0x10d3)]), null);
    expect(m.ev()).toEqual(["bind /devices/pci0000:00/0000:01:00.0 DRIVER=e1000e", "add /bus/pci/drivers/e1000e"]);
  });

  it("device_del: children first, UNBIND then REMOVE; deferred entry dropped", () => {
    const m = machine();
    const bridge = m.addPci("0000:00:1c.0", { ...NIC, class: 0x060400 });
    m.k.deviceAdd({ name: "0000:01:00.0", bus: "pci", parent: bridge, data: newPciDevData(NIC) });
    m.k.driverRegister(pciDriverSpec("e1000e", [pciDevice(0x8086, 0x10d3)]), null);
    m.events.length = 0;
    m.k.deviceDel(bridge);
    expect(m.ev()).toEqual([
      "unbind /devices/pci0000:00/0000:00:1c.0/0000:01:00.0",
      "remove /devices/pci0000:00/0000:00:1c.0/0000:01:00.0",
      "unbind /devices/pci0000:00/0000:00:1c.0",
      "remove /devices/pci0000:00/0000:00:1c.0",
    ]);
    expect(m.k.bus("pci").devices).toEqual([]);
  });
});
