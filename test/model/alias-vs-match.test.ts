// The autoload contract: a module is loaded for a device when fnmatch(alias, modalias) (kmod, flags 0),
// and bound when the kernel's match function agrees. These properties state exactly when the two agree.
//  PCI: pci_match_one_device(id, dev) ⇔ fnmatch(do_pci_entry(id), modalias_show(dev)) for every entry
//       file2alias can express (each class-mask byte 00 or FF, override_only 0). override_only entries
//       get "vfio_pci:" aliases, which never match a device's "pci:" modalias: only userspace asking for
//       "vfio_pci:" + the modalias's tail finds them, and then the same equivalence holds.
//  OF:  __of_device_is_compatible(node, c, t, n) > 0 ⇔ fnmatch(alias0 or alias1 of do_of_entry_multi,
//       of_modalias(node)) for lower-case strings without the delimiters 'C'/'T', glob characters or
//       blanks, and device types drawn from a prefix-free set. Outside that, they differ (tests below).
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { fnmatch } from "../../src/kmod/fnmatch.ts";
import { ofAliases, pciAliases } from "../../src/model/file2alias.ts";
import { ofDeviceIsCompatible, ofMatchNode, ofModalias, type OfDeviceId, type OfNode } from "../../src/model/of.ts";
import { PCI_ANY_ID, PCI_ID_F_VFIO_DRIVER_OVERRIDE, pciMatchOneDevice, pciModalias, type PciDeviceId, type PciIdentity } from "../../src/model/pci.ts";

const u16 = fc.integer({ min: 0, max: 0xffff });
const pciDev: fc.Arbitrary<PciIdentity> = fc.record({ vendor: u16, device: u16, subvendor: u16, subdevice: u16, class: fc.integer({ min: 0, max: 0xffffff }) });

/** An entry built around a device so that matches are frequent: each field any, equal, or different. */
function entryFor(dev: PciIdentity): fc.Arbitrary<PciDeviceId> {
  const f = (v: number) =>
    fc.oneof(
      { arbitrary: fc.constant(PCI_ANY_ID), weight: 4 },
      { arbitrary: fc.constant(v), weight: 6 },
      { arbitrary: u16, weight: 1 },
      { arbitrary: fc.integer({ min: 0x10000, max: 0xfffffffe }), weight: 1 },
    );
  const byte = fc.constantFrom(0, 0xff);
  return fc.record({
    vendor: f(dev.vendor),
    device: f(dev.device),
    subvendor: f(dev.subvendor),
    subdevice: f(dev.subdevice),
    class: fc.oneof({ arbitrary: fc.constant(dev.class), weight: 4 }, fc.integer({ min: 0, max: 0xffffff }), fc.integer({ min: 0, max: 0xff }).map((b) => (dev.class & 0xffff00) | b)),
    classMask: fc.tuple(byte, byte, byte).map(([a, b, c]) => (a << 16) | (b << 8) | c),
    driverData: fc.constant(0),
    overrideOnly: fc.constantFrom(0, PCI_ID_F_VFIO_DRIVER_OVERRIDE),
  });
}

describe("PCI: pci_match_one_device ⇔ fnmatch(do_pci_entry alias, modalias_show)", () => {
  it("holds for every expressible entry (property, 20,000 runs, both outcomes frequent)", () => {
    let matches = 0;
    let runs = 0;
    fc.assert(
      fc.property(pciDev.chain((d) => fc.tuple(fc.constant(d), entryFor(d))), ([dev, id]) => {
        const [alias] = pciAliases(id);
        expect(alias).toBeDefined();
        const kernel = pciMatchOneDevice(id, dev);
        const modalias = pciModalias(dev);
        runs++;
        if (kernel) matches++;
        if (id.overrideOnly === 0) {
          expect(fnmatch(alias!, modalias)).toBe(kernel);
        } else {
          expect(fnmatch(alias!, modalias)).toBe(false);
          expect(fnmatch(alias!, "vfio_" + modalias)).toBe(kernel);
        }
      }),
      { numRuns: 20_000 },
    );
    expect(matches).toBeGreaterThan(runs / 20);
    expect(matches).toBeLessThan(runs - runs / 20);
  });

  it("entries file2alias cannot express have no alias; the kernel still matches them (a finding)", () => {
    const dev: PciIdentity = { vendor: 0x8086, device: 0x1234, subvendor: 0, subdevice: 0, class: 0x0c0330 };
    const id: PciDeviceId = { vendor: PCI_ANY_ID, device: PCI_ANY_ID, subvendor: PCI_ANY_ID, subdevice: PCI_ANY_ID, class: 0x0c0330, classMask: 0xfffff0, driverData: 0, overrideOnly: 0 };
    expect(pciMatchOneDevice(id, dev)).toBe(true);
    expect(pciAliases(id)).toEqual([]); // "Can't handle masks": such a driver is never autoloaded by this entry
  });
});

// Prefix-free sets without 'C', 'T', glob characters or blanks, all lower case.
const NAMES = ["uart", "gpio", "i2c", "pmic"];
const TYPES = ["serial", "cpu", "memory", "pci"];
const COMPATS = ["acme,uart", "acme,gpio-v2", "vendor,x1", "vendor,x2", "snps,dw-apb-uart", "ns16550a"];

const ofNode: fc.Arbitrary<OfNode> = fc.record({
  fullName: fc.constantFrom(...NAMES).map((n) => `/soc/${n}@1000`),
  type: fc.option(fc.constantFrom(...TYPES), { nil: null }),
  compatible: fc.uniqueArray(fc.constantFrom(...COMPATS), { maxLength: 4 }),
});
const ofId: fc.Arbitrary<OfDeviceId> = fc.record({
  name: fc.constantFrom("", "", ...NAMES),
  type: fc.constantFrom("", "", ...TYPES),
  compatible: fc.constantFrom("", ...COMPATS),
}).filter((id) => id.name !== "" || id.type !== "" || id.compatible !== "");

function aliasMatches(id: OfDeviceId, node: OfNode): boolean {
  return ofAliases(id).some((a) => fnmatch(a, ofModalias(node)));
}

describe("OF: __of_device_is_compatible > 0 ⇔ fnmatch(either do_of_entry_multi alias, of_modalias)", () => {
  it("holds on clean strings (property, 20,000 runs)", () => {
    let matches = 0;
    fc.assert(
      fc.property(ofNode, ofId, (node, id) => {
        const kernel = ofDeviceIsCompatible(node, id.compatible, id.type, id.name) > 0;
        if (kernel) matches++;
        expect(aliasMatches(id, node)).toBe(kernel);
      }),
      { numRuns: 20_000 },
    );
    expect(matches).toBeGreaterThan(1000);
  });

  it("which alias fires: alias0 when the compatible is the node's last one, alias1 (…C*) when more follow", () => {
    const node: OfNode = { fullName: "/soc/uart@1", type: null, compatible: ["vendor,x1", "vendor,x2"] };
    const [a0, a1] = ofAliases({ name: "", type: "", compatible: "vendor,x1" });
    expect([fnmatch(a0!, ofModalias(node)), fnmatch(a1!, ofModalias(node))]).toEqual([false, true]);
    const [b0, b1] = ofAliases({ name: "", type: "", compatible: "vendor,x2" });
    expect([fnmatch(b0!, ofModalias(node)), fnmatch(b1!, ofModalias(node))]).toEqual([true, false]);
  });

  describe("where they differ (findings)", () => {
    it("case: the kernel compares compatibles with strcasecmp, fnmatch is case-sensitive", () => {
      const node: OfNode = { fullName: "/soc/uart@1", type: null, compatible: ["ACME,UART"] };
      const id = { name: "", type: "", compatible: "acme,uart" };
      expect(ofDeviceIsCompatible(node, id.compatible, "", "")).toBeGreaterThan(0);
      expect(aliasMatches(id, node)).toBe(false); // the module is not autoloaded, yet would bind
    });
    it("blanks: of_modalias turns only ' ' into '_', file2alias every isspace (a tab)", () => {
      const node: OfNode = { fullName: "/soc/uart@1", type: null, compatible: ["acme\tuart"] };
      const id = { name: "", type: "", compatible: "acme\tuart" };
      expect(ofDeviceIsCompatible(node, id.compatible, "", "")).toBeGreaterThan(0);
      expect(aliasMatches(id, node)).toBe(false);
    });
    it("a type that is a prefix of the node's type: the alias's '*' after the type accepts it", () => {
      const node: OfNode = { fullName: "/soc/uart@1", type: "serialx", compatible: ["acme,uart"] };
      const id = { name: "", type: "serial", compatible: "acme,uart" };
      expect(ofDeviceIsCompatible(node, id.compatible, id.type, "")).toBe(0);
      expect(aliasMatches(id, node)).toBe(true); // loaded, but will not bind
    });
    it("a 'C' inside a compatible string fakes a list boundary", () => {
      const node: OfNode = { fullName: "/soc/uart@1", type: null, compatible: ["acme,fooCbar"] };
      const id = { name: "", type: "", compatible: "bar" };
      expect(ofDeviceIsCompatible(node, "bar", "", "")).toBe(0);
      expect(aliasMatches(id, node)).toBe(true);
    });
    it("glob characters in an entry are globs to kmod, literal to the kernel", () => {
      const node: OfNode = { fullName: "/soc/uart@1", type: null, compatible: ["acme,uart[1]"] };
      const id = { name: "", type: "", compatible: "acme,uart[1]" };
      expect(ofDeviceIsCompatible(node, id.compatible, "", "")).toBeGreaterThan(0);
      expect(aliasMatches(id, node)).toBe(false);
    });
    it("the kernel binds the best-scoring entry of a table; kmod loads every module with a matching alias", () => {
      const node: OfNode = { fullName: "/soc/uart@1", type: null, compatible: ["vendor,x1", "ns16550a"] };
      const table = [{ name: "", type: "", compatible: "ns16550a" }, { name: "", type: "", compatible: "vendor,x1" }];
      expect(ofMatchNode(table, node)?.index).toBe(1); // index 0 of the node's list scores highest
      expect(table.map((id) => aliasMatches(id, node))).toEqual([true, true]);
    });
  });
});
