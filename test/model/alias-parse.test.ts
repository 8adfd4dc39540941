// The inverse of file2alias.c: parsePciAlias (do_pci_entry), parseOfAlias (do_of_entry_multi),
// parseAcpiAlias (do_acpi_entry), parsePlatformAlias, parseVirtioAlias, and modules.alias lines
// (kmod tools/depmod.c output_aliases). Round trips are checked by regenerating with file2alias.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseAcpiAlias, parseAlias, parseModulesAliasLine, parseOfAlias, parsePlatformAlias, parseVirtioAlias } from "../../src/model/alias-parse.ts";
import { KbindError } from "../../src/model/errors.ts";
import { ofAliases, pciAliases, virtioAliases } from "../../src/model/file2alias.ts";
import { parsePciAlias } from "../../src/model/pci-alias-parse.ts";
import { PCI_ANY_ID, PCI_ID_F_VFIO_DRIVER_OVERRIDE, type PciDeviceId } from "../../src/model/pci.ts";

function offsetOf(f: () => unknown): number | undefined {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(KbindError);
    return (e as KbindError).location.offset;
  }
  throw new Error("expected a KbindError");
}

const u32 = fc.oneof(fc.constant(PCI_ANY_ID), fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0, max: 0xfffffffe }));
const maskByte = fc.constantFrom(0, 0xff);
const pciEntry: fc.Arbitrary<PciDeviceId> = fc.record({
  vendor: u32,
  device: u32,
  subvendor: u32,
  subdevice: u32,
  class: fc.integer({ min: 0, max: 0xffffff }),
  classMask: fc.tuple(maskByte, maskByte, maskByte).map(([a, b, c]) => (a << 16) | (b << 8) | c),
  driverData: fc.constant(0),
  overrideOnly: fc.constantFrom(0, PCI_ID_F_VFIO_DRIVER_OVERRIDE),
});

describe("parsePciAlias: inverse of do_pci_entry", () => {
  it("parses a real nvme class alias into PCI_DEVICE_CLASS(0x010802, 0xffffff)", () => {
    expect(parsePciAlias("pci:v*d*sv*sd*bc01sc08i02*")).toEqual({
      prefix: "pci",
      id: { vendor: PCI_ANY_ID, device: PCI_ANY_ID, subvendor: PCI_ANY_ID, subdevice: PCI_ANY_ID, class: 0x010802, classMask: 0xffffff, driverData: 0, overrideOnly: 0 },
    });
    expect(parsePciAlias("vfio_pci:v000015B3d00001021sv*sd*bc*sc*i*").id.overrideOnly).toBe(PCI_ID_F_VFIO_DRIVER_OVERRIDE);
  });

  it("property: pciAliases(parsePciAlias(a)) == [a] for every alias file2alias can write", () => {
    fc.assert(
      fc.property(pciEntry, (id) => {
        const [a] = pciAliases(id);
        expect(a).toBeDefined();
        const back = parsePciAlias(a!);
        expect(pciAliases(back.id)).toEqual([a]);
      }),
      { numRuns: 2000 },
    );
  });

  it.each([
    ["pci:hisi_sas_v3_hw", 4, "hand-written MODULE_ALIAS (real arm64 modules.alias)"],
    ["pcI:v*", 0, "prefix"],
    ["pci:v0000106bd00002005sv*sd*bc*sc*i*", 12, "lower-case hex"],
    ["pci:v0000106Bd2005sv*sd*bc*sc*i*", 18, "short field"],
    ["pci:v*d*sv*sd*bc01sc08i02", 25, "missing add_wildcard *"],
    ["pci:v*d*sv*sd*bc*sc*i*x", 22, "trailing text"],
    ["pci:vFFFFFFFFd*sv*sd*bc*sc*i*", 4, "PCI_ANY_ID is written as *"],
    ["pci:v*d*sv*sd*bc*sc*i\u00e9", 21, "non-ASCII"],
    ["pci:" + "v".repeat(10_000), 500, "huge"],
    ["", 0, "empty"],
  ])("%j is a BAD_PCI_ALIAS at offset %i (%s)", (s, off) => {
    expect(offsetOf(() => parsePciAlias(s))).toBe(off);
  });

  it("fuzz: any string either round-trips or throws a KbindError with an offset inside the string", () => {
    const pieces = fc.constantFrom("pci:", "vfio_pci:", "v", "d", "sv", "sd", "bc", "sc", "i", "*", "0000", "8086", "FF", "0a", "\u00ff", "\u2603", ":");
    fc.assert(
      fc.property(fc.array(pieces, { maxLength: 20 }).map((a) => a.join("")), (s) => {
        let ok: string[] | undefined;
        try {
          ok = pciAliases(parsePciAlias(s).id);
        } catch (e) {
          expect(e).toBeInstanceOf(KbindError);
          const off = (e as KbindError).location.offset;
          expect(off).toBeGreaterThanOrEqual(0);
          expect(off).toBeLessThanOrEqual(s.length);
          return;
        }
        expect(ok).toEqual([s]);
      }),
      { numRuns: 3000 },
    );
  });
});

describe("parseOfAlias / parseAcpiAlias / parseVirtioAlias / parsePlatformAlias", () => {
  it("OF: both aliases of a pair give back the entry; names and types may contain T and C", () => {
    fc.assert(
      fc.property(
        fc.record({
          name: fc.string({ unit: fc.constantFrom("a", "T", "C", "*", "-", ","), maxLength: 6 }),
          type: fc.string({ unit: fc.constantFrom("b", "T", "C", "-"), maxLength: 6 }),
          compatible: fc.string({ unit: fc.constantFrom("c", "T", "C", ",", "-", "*"), maxLength: 10 }),
        }),
        (id) => {
          const [a, b] = ofAliases(id);
          // The string alone can be ambiguous ("of:N*T*C*" is both the second alias of the empty entry
          // and the first of compatible "*"): the parse must give an entry that writes exactly this alias.
          for (const s of [a!, b!]) {
            const p = parseOfAlias(s);
            expect(ofAliases(p.id)[p.continued ? 1 : 0]).toBe(s);
          }
        },
      ),
      { numRuns: 2000 },
    );
  });

  it("OF: the continued (C*) form is recognised", () => {
    expect(parseOfAlias("of:N*T*Cvirtio,mmioC*")).toEqual({ id: { name: "", type: "", compatible: "virtio,mmio" }, continued: true });
    expect(parseOfAlias("of:N*Tipmi*Cipmi-bt")).toEqual({ id: { name: "", type: "ipmi", compatible: "ipmi-bt" }, continued: false });
  });

  it("bad OF, ACPI, virtio, platform aliases are typed errors with an offset", () => {
    expect(offsetOf(() => parseOfAlias("of:X*T*Cfoo"))).toBe(3);
    expect(offsetOf(() => parseOfAlias("of:N"))).toBe(4);
    expect(offsetOf(() => parseAcpiAlias("acpi:PNP0501:"))).toBe(4);
    expect(offsetOf(() => parseAcpiAlias("acpi*:PNP 0501:*"))).toBe(9);
    expect(offsetOf(() => parseVirtioAlias("virtio:x00000001v*"))).toBe(7);
    expect(offsetOf(() => parsePlatformAlias("platfrm:x"))).toBe(5);
    expect(offsetOf(() => parsePlatformAlias("platform:" + "n".repeat(30)))).toBe(23);
  });

  it("ACPI class form with ?? and virtio round-trip", () => {
    expect(parseAcpiAlias("acpi*:0c03??:*")).toEqual({ id: "", cls: 0x0c0300, clsMask: 0xffff00 });
    expect(parseAcpiAlias("acpi*:PNP0501:*")).toEqual({ id: "PNP0501", cls: 0, clsMask: 0 });
    expect(virtioAliases(parseVirtioAlias("virtio:d00000002v*"))).toEqual(["virtio:d00000002v*"]);
  });

  it("parseAlias dispatches by prefix", () => {
    expect(parseAlias("usb:v*p*d*").bus).toBe("other");
    expect(parseAlias("platform:serial8250").bus).toBe("platform");
  });
});

describe("fuzz: parseAlias and parseModulesAliasLine never throw anything but a located KbindError", () => {
  it("random, non-ASCII and huge strings", () => {
    const piece = fc.constantFrom("pci:", "vfio_pci:", "of:N", "acpi*:", "platform:", "virtio:", "T", "C", "*", "?", "[", "]", ":", "v", "d", "00000001", "\u00e9", "\u2603", "\u0000", " ", "\t", "alias", "\n");
    const input = fc.oneof(fc.string({ maxLength: 60 }), fc.array(piece, { maxLength: 30 }).map((a) => a.join("")), fc.constantFrom("of:N" + "T".repeat(600), "acpi*:" + "A".repeat(40) + ":*", "virtio:d" + "0".repeat(3000)));
    fc.assert(
      fc.property(input, (s) => {
        for (const f of [() => parseAlias(s), () => parseModulesAliasLine(s, 3, "modules.alias")]) {
          try {
            f();
          } catch (e) {
            expect(e).toBeInstanceOf(KbindError);
            const loc = (e as KbindError).location;
            expect(loc.offset ?? loc.column).toBeDefined();
          }
        }
      }),
      { numRuns: 3000 },
    );
  });
});

describe("modules.alias lines (depmod output_aliases)", () => {
  it("parses alias lines, skips comments and blanks", () => {
    expect(parseModulesAliasLine("alias pci:v*d*sv*sd*bc01sc08i02* nvme")).toEqual({ pattern: "pci:v*d*sv*sd*bc01sc08i02*", module: "nvme" });
    expect(parseModulesAliasLine("# Aliases extracted from modules themselves.")).toBeNull();
    expect(parseModulesAliasLine("")).toBeNull();
  });

  it("a malformed line is a typed error with file:line:column", () => {
    try {
      parseModulesAliasLine("  alis foo bar", 7, "modules.alias");
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(KbindError);
      expect((e as KbindError).location).toMatchObject({ file: "modules.alias", line: 7, column: 3 });
    }
    expect(() => parseModulesAliasLine("alias onlypattern")).toThrow(KbindError);
  });
});
