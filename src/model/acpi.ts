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

/**
 * __acpi_match_device_cls(): false when cls is 0; else each byte whose mask byte is non-zero must equal
 * the hwid's two characters at that place ("%02x" of cls & msk). A zero mask matches every hwid.
 */
export function acpiMatchDeviceCls(id: AcpiDeviceId, hwid: string): boolean {
  return matchCls(id, hwid);
}

function matchCls(id: AcpiDeviceId, hwid: string): boolean {
  if (id.cls === 0) return false;
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

/**
 * Whether the kernel keeps the _DSD "compatible" for this node (adev->data.of_compatible): only when
 * PRP0001 is one of its ids (drivers/acpi/property.c acpi_init_properties / acpi_init_of_compatible).
 */
export function acpiHasOfCompatible(node: AcpiNode): boolean {
  return node.ofCompatible.length > 0 && node.ids.includes(ACPI_DT_NAMESPACE_HID);
}

/**
 * acpi_of_match_device(): no match without of_compatible; for each _DSD compatible in order, the first
 * of_device_id equal by strcasecmp. The table walk stops at the first entry whose compatible is empty
 * (`for (id = of_match_table; id->compatible[0]; id++)`), not at the full terminator.
 */
export function acpiOfMatchDevice(node: AcpiNode, ofTable: readonly OfDeviceId[] | null): AcpiMatch | null {
  if (!ofTable || !acpiHasOfCompatible(node)) return null;
  for (const c of node.ofCompatible) {
    for (let i = 0; i < ofTable.length; i++) {
      const id = ofTable[i]!;
      if (id.compatible === "") break;
      if (asciiCaseEqual(c, id.compatible)) return { via: "prp0001", compatible: c, index: i };
    }
  }
  return null;
}

/**
 * acpi_driver_match_device(): without an ACPI table, acpi_of_match_device() on the companion (no
 * presence check); else __acpi_match_device(): nothing unless present, then per hardware id in order,
 * per table entry (until `!id[0] && !cls`, cls_msk is not looked at), exact strcmp or class match;
 * reaching PRP0001 with no table hit decides by the OF table.
 */
export function acpiMatchDevice(
  node: AcpiNode,
  acpiTable: readonly AcpiDeviceId[] | null,
  ofTable: readonly OfDeviceId[] | null,
): AcpiMatch | null {
  if (!acpiTable) return acpiOfMatchDevice(node, ofTable);
  if (!node.present) return null;
  for (const hwid of node.ids) {
    for (let i = 0; i < acpiTable.length; i++) {
      const id = acpiTable[i]!;
      if (id.id === "" && id.cls === 0) break;
      if ((id.id !== "" && id.id === hwid) || matchCls(id, hwid)) return { via: "acpi_id", hwid, index: i };
    }
    if (hwid === ACPI_DT_NAMESPACE_HID) return acpiOfMatchDevice(node, ofTable);
  }
  return null;
}

/**
 * create_pnp_modalias() (device_sysfs.c): "acpi:" then "%s:" per id except PRP0001, e.g.
 * "acpi:IBM0001:ACPI0001:"; "" when the device is not present or PRP0001 is its only id.
 */
export function acpiPnpModalias(node: AcpiNode): string {
  if (!node.present) return "";
  const ids = node.ids.filter((id) => id !== ACPI_DT_NAMESPACE_HID);
  if (ids.length === 0) return "";
  return "acpi:" + ids.map((id) => `${id}:`).join("");
}

/**
 * create_of_modalias() (device_sysfs.c): "of:N<ACPI single name, lower-cased>T" then "C%s" per _DSD
 * compatible. Unlike of_modalias() for DT nodes, spaces are NOT replaced and there is no "(null)" type.
 * Not gated on presence. "" when the node has no of_compatible.
 */
export function acpiOfModalias(node: AcpiNode): string {
  if (!acpiHasOfCompatible(node)) return "";
  let s = `of:N${node.name.replace(/[A-Z]/g, (c) => c.toLowerCase())}T`;
  for (const c of node.ofCompatible) s += `C${c}`;
  return s;
}

/**
 * The sysfs `modalias` lines (__acpi_device_modalias): the pnp line if non-empty, then the OF line if the
 * node has of_compatible. [] for a node without ids (acpi_companion_match() gives no companion then).
 */
export function acpiModaliases(node: AcpiNode): string[] {
  if (node.ids.length === 0) return [];
  const out: string[] = [];
  const pnp = acpiPnpModalias(node);
  if (pnp !== "") out.push(pnp);
  const of = acpiOfModalias(node);
  if (of !== "") out.push(of);
  return out;
}

/**
 * The MODALIAS uevent values (__acpi_device_uevent_modalias): none for a node without ids; else one
 * MODALIAS= with the pnp part, which may be EMPTY (not present, or only PRP0001); with of_compatible the
 * OF form goes into a second MODALIAS= when the pnp part was non-empty, or fills the first one.
 */
export function acpiUeventModaliases(node: AcpiNode): string[] {
  if (node.ids.length === 0) return [];
  const pnp = acpiPnpModalias(node);
  if (!acpiHasOfCompatible(node)) return [pnp];
  const of = acpiOfModalias(node);
  return pnp !== "" ? [pnp, of] : [of];
}
