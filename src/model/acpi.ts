// ACPI identities and matching. Sources: drivers/acpi/bus.c (__acpi_match_device,
// __acpi_match_device_cls, acpi_of_match_device), drivers/acpi/device_sysfs.c (create_pnp_modalias,
// create_of_modalias). See shared/reference/kernel.md §5.
import { asciiCaseEqual, type OfDeviceId } from "./of.ts";

/** ACPI_DT_NAMESPACE_HID: the device is described by a _DSD "compatible" property. */
export const ACPI_DT_NAMESPACE_HID = "PRP0001";

export interface AcpiNode {
  /** Hardware ids in order: _HID first, then _CIDs (may include PRP0001). */
  ids: readonly string[];
  /** _STA present bit. */
  present: boolean;
  /** The 4-character ACPI single name (e.g. "XYZW"), used by the OF-style modalias. */
  name: string;
  /** _DSD "compatible" strings when the device carries PRP0001. */
  ofCompatible: readonly string[];
}

/** struct acpi_device_id: id string, or a class/mask pair (24-bit, base/sub/prog-if). */
export interface AcpiDeviceId {
  id: string;
  cls: number;
  clsMask: number;
}

export function acpiId(id: string): AcpiDeviceId {
  return { id, cls: 0, clsMask: 0 };
}

/** __acpi_match_device_cls(): each non-zero mask byte must equal the hwid's two hex chars ("%02x"). */
function matchCls(id: AcpiDeviceId, hwid: string): boolean {
  if (id.clsMask === 0) return false;
  const shifts = [16, 8, 0];
  for (let i = 0; i < 3; i++) {
    const msk = (id.clsMask >>> shifts[i]!) & 0xff;
    if (msk === 0) continue;
    const want = ((id.cls >>> shifts[i]!) & msk).toString(16).padStart(2, "0");
    if (hwid.slice(i * 2, i * 2 + 2) !== want) return false;
  }
  return true;
}

export type AcpiMatch =
  | { via: "acpi_id"; hwid: string; index: number }
  | { via: "prp0001"; compatible: string; index: number };

/** acpi_of_match_device(): for each _DSD compatible in order, the first of_device_id equal by strcasecmp. */
export function acpiOfMatchDevice(node: AcpiNode, ofTable: readonly OfDeviceId[] | null): AcpiMatch | null {
  if (!ofTable) return null;
  for (const c of node.ofCompatible) {
    for (let i = 0; i < ofTable.length; i++) {
      const id = ofTable[i]!;
      if (id.name === "" && id.type === "" && id.compatible === "") break;
      if (id.compatible !== "" && asciiCaseEqual(c, id.compatible)) return { via: "prp0001", compatible: c, index: i };
    }
  }
  return null;
}

/** __acpi_match_device(): per hardware id in order, per table entry; PRP0001 falls back to the OF table. */
export function acpiMatchDevice(
  node: AcpiNode,
  acpiTable: readonly AcpiDeviceId[] | null,
  ofTable: readonly OfDeviceId[] | null,
): AcpiMatch | null {
  if (!node.present) return null;
  if (!acpiTable) return acpiOfMatchDevice(node, ofTable); // acpi_driver_match_device without acpi ids
  for (const hwid of node.ids) {
    for (let i = 0; i < acpiTable.length; i++) {
      const id = acpiTable[i]!;
      if (id.id === "" && id.clsMask === 0 && id.cls === 0) break;
      if ((id.id !== "" && id.id === hwid) || matchCls(id, hwid)) return { via: "acpi_id", hwid, index: i };
    }
    if (hwid === ACPI_DT_NAMESPACE_HID) return acpiOfMatchDevice(node, ofTable);
  }
  return null;
}

/**
 * The device's modalias lines (device_sysfs.c): "acpi:ID1:ID2:" (PRP0001 skipped; nothing if absent or
 * PRP0001 is the only id), then, with _DSD compatible, "of:N<name lower>TC<compat>...".
 */
export function acpiModaliases(node: AcpiNode): string[] {
  if (!node.present) return [];
  const out: string[] = [];
  const ids = node.ids.filter((id) => id !== ACPI_DT_NAMESPACE_HID);
  if (ids.length > 0) out.push("acpi:" + ids.map((id) => `${id}:`).join(""));
  if (node.ofCompatible.length > 0 && node.ids.includes(ACPI_DT_NAMESPACE_HID)) {
    let s = `of:N${node.name.toLowerCase()}T`;
    for (const c of node.ofCompatible) s += `C${c.replace(/ /g, "_")}`;
    out.push(s);
  }
  return out;
}
