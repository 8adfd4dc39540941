import { describe, expect, it } from "vitest";
import { platformDriverSpec, probeFromBehaviour } from "../../src/kernel/index.ts";
import { machine } from "./helpers.ts";

function plat(m: ReturnType<typeof machine>, name: string) {
  return m.k.deviceAdd({ name, bus: "platform", data: { name, of: null, acpi: null } });
}

describe("dd.c deferred probe (driver_deferred_probe_add/trigger, deferred_probe_work_func)", () => {
  it("a chain c → b → a resolves as each supplier binds (trigger on every driver_bound)", () => {
    const m = machine();
    m.k.driverRegister(platformDriverSpec("c", {}, { probe: probeFromBehaviour({ deferUntilBound: ["platform:b"] }) }), null);
    m.k.driverRegister(platformDriverSpec("b", {}, { probe: probeFromBehaviour({ deferUntilBound: ["platform:a"] }) }), null);
    const c = plat(m, "c");
    const b = plat(m, "b");
    expect(m.k.deferredDevices()).toEqual([c, b]);
    const a = plat(m, "a");
    expect(a.driver).toBeNull(); // no driver named "a" yet
    m.k.driverRegister(platformDriverSpec("a", {}), null);
    expect([a.driver?.name, b.driver?.name, c.driver?.name]).toEqual(["a", "b", "c"]);
    expect(m.k.deferredDevices()).toEqual([]);
    expect(m.trace.filter((t) => t.includes("Retrying from deferred list"))).toEqual([
      "c: Retrying from deferred list",
      "b: Retrying from deferred list",
      "c: Retrying from deferred list",
    ]);
  });

  it("before late_initcall (driver_deferred_probe_enable=false) triggers do nothing", () => {
    const m = machine({ deferredProbeEnabled: false });
    m.k.driverRegister(platformDriverSpec("c", {}, { probe: probeFromBehaviour({ deferUntilBound: ["platform:a"] }) }), null);
    m.k.driverRegister(platformDriverSpec("a", {}), null);
    const c = plat(m, "c");
    plat(m, "a");
    expect(c.driver).toBeNull();
    expect(m.k.deferredPending).toEqual([c]);
    m.k.lateInitcall();
    expect(c.driver?.name).toBe("c");
  });

  it("driver_deferred_probe_add is a no-op unless dev->can_match", () => {
    const m = machine();
    const d = plat(m, "lonely");
    expect(d.canMatch).toBe(false);
    expect(m.k.deferredDevices()).toEqual([]);
  });

  it("deferred retry goes through bus_probe_device, so drivers_autoprobe=0 leaves it pending", () => {
    const m = machine();
    m.k.driverRegister(platformDriverSpec("c", {}, { probe: probeFromBehaviour({ deferUntilBound: ["platform:a"] }) }), null);
    const c = plat(m, "c");
    m.k.bus("platform").driversAutoprobe = false;
    m.k.driverRegister(platformDriverSpec("a", {}), null);
    const a = plat(m, "a");
    m.k.deviceAttach(a); // binds a → trigger → retry of c is gated
    expect(a.driver?.name).toBe("a");
    expect(c.driver).toBeNull();
  });

  it("prevent_deferred_probe turns -EPROBE_DEFER into -ENXIO (platform.c platform_probe)", () => {
    const m = machine();
    m.k.driverRegister(platformDriverSpec("p", {}, { preventDeferredProbe: true, probe: probeFromBehaviour({ deferUntilBound: ["platform:x"] }) }), null);
    plat(m, "p");
    expect(m.k.deferredDevices()).toEqual([]);
    expect(m.trace).toContain("p p: probe deferral not supported");
  });
});
