// Malformed scenarios: every error is a KbindError with the file:line:column where the problem is written.
import { describe, expect, it } from "vitest";
import { KbindError, formatLocation } from "../../src/model/errors.ts";
import { loadScenario } from "../../src/sim/scenario.ts";
import { simulate } from "../../src/sim/simulator.ts";

function fail(yaml: string, run = false): { code: string; message: string; at: string } {
  try {
    const l = loadScenario(yaml, "bad.yaml");
    if (run) simulate(l);
  } catch (e) {
    if (!(e instanceof KbindError)) throw e;
    const loc = e.location as { file?: string; line?: number; column?: number };
    return { code: e.code, message: e.message, at: `${loc.file}:${loc.line}:${loc.column}` };
  }
  throw new Error("no error");
}

const PCI = 'vendor: 0x8086, device: 0x1533';

describe("YAML syntax errors (yaml parser, first error)", () => {
  it.each([
    ["unclosed flow sequence (reported where the input ends without ])", "name: x\nscript: [\n  { settle: true }\n", "SCENARIO_YAML", "bad.yaml:4:1"],
    ["duplicate key (uniqueKeys)", "name: x\nseed: 1\nname: y\n", "SCENARIO_YAML", "bad.yaml:3:1"],
    ["tab indentation", "machine:\n\tdevices: []\n", "SCENARIO_YAML", "bad.yaml:2"],
  ])("%s", (_n, yaml, code, at) => {
    const r = fail(yaml);
    expect(r.code).toBe(code);
    expect(r.at.startsWith(at)).toBe(true);
  });
});

describe("schema errors at the offending node", () => {
  it.each([
    ["unknown top-level key, at the key", "name: x\nbogus: 1\n", 'Unrecognized key: "bogus"', "bad.yaml:2:1"],
    ["unknown device key, at the key", `machine:\n  devices:\n    - { bus: pci, name: "0000:01:00.0", ${PCI}, colour: red }\n`, 'Unrecognized key: "colour" (at machine.devices.0)', "bad.yaml:3:73"],
    ["pci device without device id", 'machine:\n  devices:\n    - { bus: pci, name: "0000:01:00.0", vendor: 1 }\n', "a pci device needs device (at machine.devices.0.device)", "bad.yaml:3:7"],
    ["bad pci name", `machine:\n  devices:\n    - bus: pci\n      name: "01:00.0"\n      ${PCI.replace(", ", "\n      ")}\n`, 'pci device names are DDDD:BB:DD.F (lower-case hex): "01:00.0" (at machine.devices.0.name)', "bad.yaml:4:13"],
    ["unknown bus", "modules:\n  inline:\n    - name: igb\n      drivers:\n        - { name: igb, bus: usb }\n", 'Invalid option: expected one of "pci"|"platform"|"virtio" (at modules.inline.0.drivers.0.bus)', "bad.yaml:5:29"],
    ["bad duration", "udev:\n  latency: fast\n", 'duration: expected a duration like 3ms, 250us, 1.5s: "fast" (at udev.latency)', "bad.yaml:2:12"],
    ["unknown errno", "modules:\n  inline:\n    - name: a\n      initResult: EWHAT\n", 'unknown errno "EWHAT" (at modules.inline.0.initResult)', "bad.yaml:4:19"],
    ["two verbs in one step", "script:\n  - settle: true\n    wait: 1ms\n", "one action per step, got wait, settle (at script.0)", "bad.yaml:2:5"],
    ["write without value", "script:\n  - write: /sys/bus/pci/drivers_probe\n", "write needs a value (at script.0.value)", "bad.yaml:2:5"],
    ["empty step", "script:\n  - at: 1ms\n", "empty step", "bad.yaml:2:5"],
    ["id out of u32", `modules:\n  inline:\n    - name: a\n      drivers:\n        - { name: a, bus: pci, ids: [{ vendor: 0x100000000, device: 1 }] }\n`, "(at modules.inline.0.drivers.0.ids.0.vendor)", "bad.yaml:5:48"],
    ["a document that is a list", "- 1\n- 2\n", "expected object, received array", "bad.yaml:1:1"],
  ])("%s", (_n, yaml, msg, at) => {
    const r = fail(yaml);
    expect(r.code).toBe("SCENARIO");
    expect(r.message).toContain(msg);
    expect(r.at).toBe(at);
  });
});

describe("references to things that do not exist", () => {
  it.each([
    ["depends on an unknown module", "modules:\n  inline:\n    - name: a\n      depends: [b]\n", 'module "a" depends on "b", which is not an inline module', "bad.yaml:4:17"],
    ["modules.order names an unknown module", "modules:\n  inline:\n    - name: a\n  order: [a, zz]\n", 'modules.order names "zz"', "bad.yaml:4:14"],
    ["module defined twice (dash and underscore are one name)", "modules:\n  inline:\n    - name: a_b\n    - name: a-b\n", 'module "a-b" is already defined at modules.inline.0', "bad.yaml:4:13"],
    ["device defined twice", `machine:\n  devices:\n    - { bus: pci, name: "0000:01:00.0", ${PCI} }\n    - { bus: pci, name: "0000:01:00.0", ${PCI} }\n`, 'pci device "0000:01:00.0" is already defined at machine.devices.0', "bad.yaml:4:25"],
    ["supplier on an unknown bus", "modules:\n  inline:\n    - name: a\n      drivers:\n        - { name: a, bus: platform, probe: { deferUntilBound: [\"usb:1-1\"] } }\n", 'unknown bus "usb"', "bad.yaml:5:64"],
  ])("%s", (_n, yaml, msg, at) => {
    const r = fail(yaml);
    expect(r.message).toContain(msg);
    expect(r.at).toBe(at);
  });

  it.each([
    ["unknown parent", `machine:\n  devices:\n    - { bus: pci, name: "0000:01:00.0", parent: nope, ${PCI} }\n`, 'unknown parent device "nope"', "bad.yaml:3:49"],
    ["unplug of an unknown device", "script:\n  - unplug: ghost\n", 'unknown device "ghost"', "bad.yaml:2:13"],
    ["hotplug under an unknown parent", `script:\n  - hotplug: { bus: pci, name: "0000:01:00.0", parent: ghost, ${PCI} }\n`, 'unknown parent device "ghost"', "bad.yaml:2:56"],
    ["hotplug of a name already present", `machine:\n  devices:\n    - { bus: pci, name: "0000:01:00.0", ${PCI} }\nscript:\n  - hotplug: { bus: pci, name: "0000:01:00.0", ${PCI} }\n`, "cannot create duplicate filename", "bad.yaml:5:32"],
    ["modules.dir not read by the caller", "modules:\n  dir: /nonexistent\n", 'modules.dir "/nonexistent" was not read', "bad.yaml:2:8"],
  ])("%s (found while running)", (_n, yaml, msg, at) => {
    const r = fail(yaml, true);
    expect(r.code).toBe("SCENARIO");
    expect(r.message).toContain(msg);
    expect(r.at).toBe(at);
  });

  it("formatLocation prints file:line:col for the CLI", () => {
    try {
      loadScenario("udev:\n  latency: fast\n", "s.yaml");
    } catch (e) {
      expect(e).toBeInstanceOf(KbindError);
      expect(formatLocation((e as KbindError).location)).toContain("s.yaml:2:12");
    }
  });
});

describe("bad sysfs input inside a scenario is the kernel's errno, not a scenario error", () => {
  it("writes to unknown paths, read-only attributes and oversized overrides give ENOENT/EACCES/EINVAL", () => {
    const l = loadScenario(
      `machine:\n  devices:\n    - { bus: pci, name: "0000:01:00.0", ${PCI} }\nscript:\n` +
        "  - { write: /sys/bus/pci/devices/0000:09:00.0/driver_override, value: x, expectErrno: ENOENT }\n" +
        "  - { write: /sys/bus/pci/devices/0000:01:00.0/vendor, value: '1', expectErrno: EACCES }\n" +
        `  - { write: /sys/bus/pci/devices/0000:01:00.0/driver_override, value: "${"x".repeat(4096)}", expectErrno: EINVAL }\n` +
        "  - { write: /sys/bus/pci/drivers_probe, value: '0000:09:00.0', expectErrno: ENODEV }\n",
      "s.yaml",
    );
    const r = simulate(l);
    expect(r.expectations).toBe(4);
    expect(r.failures).toBe(0);
  });
});
