import { describe, expect, it } from "vitest";
import { ERRNO } from "../../src/model/errno.ts";
import { pciDriverSpec, probeFromBehaviour, type BusType } from "../../src/kernel/index.ts";
import { machine, NIC, pciDevice } from "./helpers.ts";

const nicId = [pciDevice(0x8086, 0x10d3)];

describe("dd.c __device_attach_driver / really_probe return codes", () => {
  for (const err of ["ENODEV", "ENXIO", "EIO", "ENOMEM"] as const) {
    it(`probe -${err} lets the next matching driver try its luck (dd.c __device_attach_driver: ret > 0 → next)`, () => {
      const m = machine();
      m.k.driverRegister(pciDriverSpec("first", nicId, { probe: () => -ERRNO[err] }), null);
      m.k.driverRegister(pciDriverSpec("second", nicId), null);
      const d = m.addPci("0000:01:00.0", NIC);
      expect(d.driver?.name).toBe("second");
      const quiet = err === "ENODEV" || err === "ENXIO";
      expect(m.trace).toContain(`first 0000:01:00.0: probe with driver first ${quiet ? "rejects match" : "failed with error"} -${ERRNO[err]}`);
    });
  }

  it("probe -EPROBE_DEFER: device goes on the pending list and the next driver still tries", () => {
    const m = machine();
    m.k.driverRegister(pciDriverSpec("deferring", nicId, { probe: () => -ERRNO.EPROBE_DEFER }), null);
    const d = m.addPci("0000:01:00.0", NIC);
    expect(d.driver).toBeNull();
    expect(m.k.deferredDevices()).toEqual([d]);
    m.k.driverRegister(pciDriverSpec("other", nicId), null);
    expect(d.driver?.name).toBe("other");
    expect(m.k.deferredDevices()).toEqual([]); // driver_bound → driver_deferred_probe_del
  });

  it("bus match -EPROBE_DEFER stops the walk and defers (dd.c __device_attach_driver)", () => {
    const m = machine();
    const base = m.k.bus("pci").type;
    const deferAll: BusType = { ...base, match: (dev, drv, k) => (drv.name === "a" ? -ERRNO.EPROBE_DEFER : base.match!(dev, drv, k)) };
    m.k.setBusType("pci", deferAll);
    m.k.driverRegister(pciDriverSpec("a", nicId), null);
    m.k.driverRegister(pciDriverSpec("b", nicId), null);
    const d = m.addPci("0000:01:00.0", NIC);
    expect(d.driver).toBeNull();
    expect(m.k.deferredDevices()).toEqual([d]);
  });

  it("bus match <0 (not defer) stops the walk without deferring", () => {
    const m = machine();
    const base = m.k.bus("pci").type;
    m.k.setBusType("pci", { ...base, match: (dev, drv, k) => (drv.name === "a" ? -ERRNO.EIO : base.match!(dev, drv, k)) });
    m.k.driverRegister(pciDriverSpec("a", nicId), null);
    m.k.driverRegister(pciDriverSpec("b", nicId), null);
    const d = m.addPci("0000:01:00.0", NIC);
    expect(d.driver).toBeNull();
    expect(m.k.deferredDevices()).toEqual([]);
  });

  it("driver_register never steals a bound device (__driver_probe_device -EBUSY)", () => {
    const m = machine();
    m.k.driverRegister(pciDriverSpec("first", nicId), null);
    const d = m.addPci("0000:01:00.0", NIC);
    m.k.driverRegister(pciDriverSpec("second", nicId), null);
    expect(d.driver?.name).toBe("first");
  });

  it("drivers are tried in registration order (bus_for_each_drv from the head)", () => {
    const m = machine();
    m.k.driverRegister(pciDriverSpec("zeta", nicId), null);
    m.k.driverRegister(pciDriverSpec("alpha", nicId), null);
    expect(m.addPci("0000:01:00.0", NIC).driver?.name).toBe("zeta");
  });

  it("drivers_autoprobe=0 gates the initial probe and driver_attach (bus.c bus_probe_device, bus_add_driver)", () => {
    const m = machine();
    m.k.bus("pci").driversAutoprobe = false;
    const d = m.addPci("0000:01:00.0", NIC);
    m.k.driverRegister(pciDriverSpec("e1000e", nicId), null);
    expect(d.driver).toBeNull();
    expect(m.k.deviceAttach(d)).toBe(1); // device_attach (drivers_probe) still binds
    expect(d.driver?.name).toBe("e1000e");
  });

  it("async probing: PROBE_PREFER_ASYNCHRONOUS drivers bind after the synchronous walk (__device_attach_async_helper)", () => {
    const m = machine();
    m.k.driverRegister(pciDriverSpec("async", nicId, { probeType: "prefer_async" }), null);
    const d = m.addPci("0000:01:00.0", NIC);
    expect(d.driver?.name).toBe("async");
    expect(m.trace).toContain("0000:01:00.0: async probe");
  });

  it("async and sync drivers: the sync pass skips async drivers, so a later sync driver wins first", () => {
    const m = machine();
    m.k.driverRegister(pciDriverSpec("async", nicId, { probeType: "prefer_async" }), null);
    m.k.driverRegister(pciDriverSpec("sync", nicId, { probeType: "force_sync" }), null);
    expect(m.addPci("0000:01:00.0", NIC).driver?.name).toBe("sync");
  });

  it("device_driver_attach (sysfs bind): -EPROBE_DEFER becomes -EAGAIN, probe errors negative", () => {
    const m = machine();
    m.k.bus("pci").driversAutoprobe = false;
    const d = m.addPci("0000:01:00.0", NIC);
    const defer = m.k.driverRegister(pciDriverSpec("defer", nicId, { probe: () => -ERRNO.EPROBE_DEFER }), null);
    const fail = m.k.driverRegister(pciDriverSpec("fail", nicId, { probe: () => -ERRNO.EIO }), null);
    if (typeof defer === "number" || typeof fail === "number") throw new Error("register failed");
    expect(m.k.deviceDriverAttach(defer, d)).toBe(-ERRNO.EAGAIN);
    expect(m.k.deferredDevices()).toEqual([]); // no deferred add on this path
    expect(m.k.deviceDriverAttach(fail, d)).toBe(-ERRNO.EIO);
  });

  it("probe time advances the virtual clock (synchronous probe blocks its caller)", () => {
    const m = machine();
    m.k.driverRegister(pciDriverSpec("slow", nicId, { probe: probeFromBehaviour({ timeNs: 5_000_000 }) }), null);
    const t0 = m.k.host.now();
    m.addPci("0000:01:00.0", NIC);
    expect(m.k.host.now() - t0).toBe(5_000_000);
  });

  it("PCI local_pci_probe: probe() > 0 is success with a warning", () => {
    const m = machine();
    m.k.driverRegister(pciDriverSpec("odd", nicId, { probe: () => 1 }), null);
    expect(m.addPci("0000:01:00.0", NIC).driver?.name).toBe("odd");
    expect(m.trace).toContain("odd 0000:01:00.0: Driver probe function unexpectedly returned 1");
  });
});
