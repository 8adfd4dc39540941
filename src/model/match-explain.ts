// Why an ID entry does or does not match a device, field by field, following the kernel's own tests:
// pci_match_one_device (drivers/pci/pci.h) and __of_device_is_compatible (drivers/of/base.c).
import { ofNodeName, asciiCaseEqual, type OfDeviceId, type OfNode } from "./of.ts";
import { PCI_ANY_ID, pciMatchOneDevice, type PciDeviceId, type PciIdentity } from "./pci.ts";

export interface FieldCheck {
  field: string;
  entry: string;
  device: string;
  ok: boolean;
  note?: string;
}

export interface PciExplanation {
  match: boolean;
  fields: FieldCheck[];
  /** override_only entries match only with driver_override set to the driver (pci_match_device). */
  overrideOnly: boolean;
}

const h4 = (v: number): string => `0x${(v >>> 0).toString(16).padStart(4, "0")}`;
const h6 = (v: number): string => `0x${(v >>> 0).toString(16).padStart(6, "0")}`;

/** pci_match_one_device(), one line per field in the kernel's order. */
export function explainPciMatch(id: PciDeviceId, dev: PciIdentity): PciExplanation {
  const f = (field: string, want: number, have: number): FieldCheck => {
    const any = want === PCI_ANY_ID;
    return { field, entry: any ? "PCI_ANY_ID" : h4(want), device: h4(have), ok: any || want === have };
  };
  const fields = [
    f("vendor", id.vendor, dev.vendor),
    f("device", id.device, dev.device),
    f("subvendor", id.subvendor, dev.subvendor),
    f("subdevice", id.subdevice, dev.subdevice),
  ];
  const diff = ((id.class ^ dev.class) & id.classMask) >>> 0;
  fields.push({
    field: "class",
    entry: id.classMask === 0 ? "any (class_mask 0)" : `${h6(id.class)} mask ${h6(id.classMask)}`,
    device: h6(dev.class),
    ok: diff === 0,
    ...(diff !== 0 ? { note: `(class ^ dev->class) & class_mask = ${h6(diff)}` } : {}),
  });
  const match = pciMatchOneDevice(id, dev);
  return { match, fields, overrideOnly: id.overrideOnly !== 0 };
}

export interface OfExplanation {
  /** The __of_device_is_compatible() score; 0 is no match. */
  score: number;
  fields: FieldCheck[];
}

const INT_MAX = 0x7fffffff;

/** __of_device_is_compatible(node, compat, type, name) with the reason for each term of the score. */
export function explainOfMatch(id: OfDeviceId, node: OfNode): OfExplanation {
  const fields: FieldCheck[] = [];
  let score = 0;
  let failed = false;
  if (id.compatible !== "") {
    const index = node.compatible.findIndex((c) => asciiCaseEqual(c, id.compatible));
    if (index < 0) {
      failed = true;
      fields.push({ field: "compatible", entry: id.compatible, device: node.compatible.join(" ") || "(none)", ok: false, note: "not in the node's list (strcasecmp)" });
    } else {
      score = Math.floor(INT_MAX / 2) - (index << 2);
      const exact = node.compatible[index] === id.compatible;
      fields.push({
        field: "compatible",
        entry: id.compatible,
        device: node.compatible[index]!,
        ok: true,
        note: `index ${index}: INT_MAX/2 - (${index} << 2) = ${score}${exact ? "" : " (equal only ignoring case)"}`,
      });
    }
  }
  if (id.type !== "" && !failed) {
    const ok = node.type !== null && node.type === id.type;
    fields.push({ field: "device_type", entry: id.type, device: node.type ?? "(none)", ok, note: ok ? "+2" : "strcmp differs" });
    if (ok) score += 2;
    else failed = true;
  }
  if (id.name !== "" && !failed) {
    const nm = ofNodeName(node);
    const ok = nm === id.name;
    fields.push({ field: "name", entry: id.name, device: nm, ok, note: ok ? "+1" : "node name (unit address stripped) differs" });
    if (ok) score += 1;
    else failed = true;
  }
  return { score: failed ? 0 : score, fields };
}
