// The device side against a real kernel: this machine's /sys (READ ONLY — nothing here writes). For every
// PCI function, the identity read from vendor/device/subsystem_*/class gives exactly the kernel's
// `modalias` file (pci-sysfs.c modalias_show) and the PCI_* and MODALIAS lines of its `uevent` file
// (pci-driver.c pci_uevent); likewise for virtio devices (virtio.c). Skipped only where the machine has
// no such bus in /sys (then there is nothing to compare with), and it says so.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseModalias } from "../../src/model/modalias-parse.ts";
import { pciModalias, pciUeventVars } from "../../src/model/pci.ts";
import { virtioModalias, virtioUeventVars } from "../../src/model/virtio.ts";

const PCI = "/sys/bus/pci/devices";
const VIRTIO = "/sys/bus/virtio/devices";
const read = (p: string): string => readFileSync(p, "latin1").replace(/\n$/, "");
const list = (d: string): string[] => (existsSync(d) ? readdirSync(d) : []);
const hex = (p: string): number => parseInt(read(p), 16);

function ueventLines(dir: string, keep: (k: string) => boolean): [string, string][] {
  return read(join(dir, "uevent"))
    .split("\n")
    .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)] as [string, string])
    .filter(([k]) => keep(k));
}

describe("real /sys (read only)", () => {
  const pci = list(PCI);
  it.skipIf(pci.length === 0)(`every PCI function's modalias and uevent (${pci.length} in ${PCI})`, () => {
    for (const slot of pci) {
      const d = join(PCI, slot);
      const dev = {
        vendor: hex(join(d, "vendor")),
        device: hex(join(d, "device")),
        subvendor: hex(join(d, "subsystem_vendor")),
        subdevice: hex(join(d, "subsystem_device")),
        class: hex(join(d, "class")),
      };
      expect(pciModalias(dev), slot).toBe(read(join(d, "modalias")));
      expect(pciUeventVars(dev, slot), slot).toEqual(ueventLines(d, (k) => k.startsWith("PCI_") || k === "MODALIAS"));
      expect(parseModalias(read(join(d, "modalias")))).toEqual({ bus: "pci", pci: dev });
    }
  });

  const virtio = list(VIRTIO);
  it.skipIf(virtio.length === 0)(`every virtio device's modalias and uevent (${virtio.length} in ${VIRTIO})`, () => {
    for (const name of virtio) {
      const d = join(VIRTIO, name);
      const dev = { device: hex(join(d, "device")), vendor: hex(join(d, "vendor")) };
      expect(virtioModalias(dev), name).toBe(read(join(d, "modalias")));
      expect(virtioUeventVars(dev), name).toEqual(ueventLines(d, (k) => k === "MODALIAS"));
    }
  });

  const others = ["acpi", "platform"].flatMap((bus) => list(`/sys/bus/${bus}/devices`).map((n) => ({ bus, dir: `/sys/bus/${bus}/devices/${n}` })));
  const withModalias = others.filter((o) => existsSync(join(o.dir, "modalias")));
  it.skipIf(withModalias.length === 0)(`every acpi/platform modalias line parses; an ACPI _HID comes first (${withModalias.length} devices)`, () => {
    let lines = 0;
    for (const o of withModalias) {
      let text: string;
      try {
        text = read(join(o.dir, "modalias"));
      } catch {
        continue; // some attributes refuse reads (-ENODEV); nothing to compare
      }
      for (const line of text.split("\n").filter((l) => l !== "")) {
        lines++;
        const p = parseModalias(line);
        if (p.bus === "acpi" && existsSync(join(o.dir, "hid"))) expect(p.acpiIds[0], o.dir).toBe(read(join(o.dir, "hid")));
      }
    }
    expect(lines).toBeGreaterThan(0);
  });
});
