// Device-side modalias strings read back (pci-sysfs.c modalias_show, of_modalias, create_pnp_modalias,
// virtio.c modalias_show, platform.c modalias_show), and bad input: always a typed KbindError with an offset.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { KbindError } from "../../src/model/errors.ts";
import { parseAcpiModalias, parseModalias, parseOfModalias, parsePciModalias } from "../../src/model/modalias-parse.ts";
import { ofModalias } from "../../src/model/of.ts";
import { pciModalias } from "../../src/model/pci.ts";
import { virtioModalias } from "../../src/model/virtio.ts";

function offsetOf(f: () => unknown): number | undefined {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(KbindError);
    expect((e as KbindError).code).toBe("BAD_MODALIAS");
    return (e as KbindError).location.offset;
  }
  throw new Error("expected a KbindError");
}

const u16 = fc.integer({ min: 0, max: 0xffff });

describe("round trips", () => {
  it("PCI: parsePciModalias(modalias_show(dev)) gives dev back (property)", () => {
    fc.assert(
      fc.property(fc.record({ vendor: u16, device: u16, subvendor: u16, subdevice: u16, class: fc.integer({ min: 0, max: 0xffffff }) }), (dev) => {
        expect(parsePciModalias(pciModalias(dev))).toEqual(dev);
      }),
    );
  });
  it("virtio round-trips", () => {
    expect(parseModalias(virtioModalias({ device: 2, vendor: 0x1af4 }))).toEqual({ bus: "virtio", virtio: { device: 2, vendor: 0x1af4 } });
  });
  it("OF: the modalias of a node without 'T'/'C' inside its strings gives back name, type and list", () => {
    const node = { fullName: "/soc/serial@1c28000", type: null, compatible: ["allwinner,sun50i-a64-uart", "snps,dw-apb-uart"] };
    const back = parseOfModalias(ofModalias(node));
    expect(back).toEqual({ fullName: "/serial", type: null, compatible: node.compatible });
    expect(ofModalias(back)).toBe(ofModalias(node));
    expect(parseOfModalias("of:NabcdTCacme,foo")).toEqual({ fullName: "/abcd", type: "", compatible: ["acme,foo"] });
  });
  it("ACPI ids", () => {
    expect(parseAcpiModalias("acpi:IBM0001:ACPI0001:")).toEqual(["IBM0001", "ACPI0001"]);
  });
});

describe("bad input is a typed error naming the offset", () => {
  it.each([
    ["pci:v00008086d0000100Esv00008086sd0000001Ebc02sc00i0", 52],
    ["pci:v00008086d0000100esv00008086sd0000001Ebc02sc00i00", 21],
    ["pci:v00018086d0000100Esv00008086sd0000001Ebc02sc00i00", 5],
    ["pci:v00008086d0000100Esv00008086sd0000001Ebc02sc00i00x", 53],
    ["pci:x", 4],
    ["of:X", 3],
    ["of:Nfoo", 7],
    ["of:NfooT(null)CC", 15],
    ["acpi:", 5],
    ["acpi:PNP0501", 12],
    ["acpi:PNP0501::", 13],
    ["acpi:PNP 0501:", 8],
    ["virtio:d00000001", 16],
    ["platform:", 9],
    ["usb:v1234p5678d0100dc00dsc00dp00ic03isc01ip01in00", 0],
    ["pci:v0000\u00e9", 9],
    ["pci:v\u0000", 5],
    ["x".repeat(5000), 4096],
  ])("%j at offset %i", (s, off) => {
    expect(offsetOf(() => parseModalias(s))).toBe(off);
  });

  it("fuzz: random strings (ASCII, non-ASCII, huge) never escape as anything but KbindError", () => {
    const piece = fc.constantFrom("pci:", "of:N", "acpi:", "virtio:", "platform:", "v", "d", "sv", "sd", "bc", "sc", "i", "T", "C", "(null)", "0000", "8086", "FF", ":", "\u00e9", "\u2603", "\u0000", " ");
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 80 }), fc.array(piece, { maxLength: 25 }).map((a) => a.join(""))), (s) => {
        try {
          parseModalias(s);
        } catch (e) {
          expect(e).toBeInstanceOf(KbindError);
          const off = (e as KbindError).location.offset!;
          expect(off).toBeGreaterThanOrEqual(0);
          expect(off).toBeLessThanOrEqual(s.length);
        }
      }),
      { numRuns: 5000 },
    );
  });
});
