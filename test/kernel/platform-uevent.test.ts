// drivers/base/platform.c: modalias_show (sysfs) and platform_uevent (MODALIAS=) differ for a device
// with an ACPI companion: the uevent takes acpi_device_uevent_modalias()'s values (drivers/acpi/
// device_sysfs.c __acpi_device_uevent_modalias: pnp first, then the OF form for PRP0001), the sysfs
// attribute acpi_device_modalias()'s lines.
import { describe, expect, it } from "vitest";
import { machine } from "./helpers.ts";

describe("platform_uevent vs modalias_show (drivers/base/platform.c)", () => {
  it("an ACPI PRP0001 device sends both MODALIAS values in the ADD uevent, pnp first", () => {
    const m = machine();
    m.k.deviceAdd({
      name: "PRP0001:00",
      bus: "platform",
      data: {
        name: "PRP0001:00",
        of: null,
        acpi: { ids: ["ABCD0001", "PRP0001"], present: true, name: "DEV0", ofCompatible: ["vendor,dev"] },
      },
    });
    const add = m.events.find((e) => e.env.some(([k, v]) => k === "ACTION" && v === "add") && e.env.some(([k, v]) => k === "DEVPATH" && v.endsWith("PRP0001:00")));
    expect(add).toBeDefined();
    expect(add!.env.filter(([k]) => k === "MODALIAS").map(([, v]) => v)).toEqual(["acpi:ABCD0001:", "of:Ndev0TCvendor,dev"]);
  });

  it("an ACPI companion that is not present: sysfs modalias is empty, the uevent still carries an empty MODALIAS=", () => {
    const m = machine();
    m.k.deviceAdd({
      name: "ABCD0001:00",
      bus: "platform",
      data: { name: "ABCD0001:00", of: null, acpi: { ids: ["ABCD0001"], present: false, name: "DEV1", ofCompatible: [] } },
    });
    const add = m.events.find((e) => e.env.some(([k, v]) => k === "DEVPATH" && v.endsWith("ABCD0001:00")));
    expect(add!.env.filter(([k]) => k === "MODALIAS").map(([, v]) => v)).toEqual([""]);
  });

  it("a device without firmware node sends MODALIAS=platform:<name>", () => {
    const m = machine();
    m.k.deviceAdd({ name: "serial8250", bus: "platform", data: { name: "serial8250", of: null, acpi: null } });
    const add = m.events.find((e) => e.env.some(([k, v]) => k === "DEVPATH" && v.endsWith("serial8250")));
    expect(add!.env.filter(([k]) => k === "MODALIAS").map(([, v]) => v)).toEqual(["platform:serial8250"]);
  });
});
