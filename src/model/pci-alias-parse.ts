// The inverse of do_pci_entry() (scripts/mod/file2alias.c): a "pci:" / "vfio_pci:" alias back into the
// struct pci_device_id it was generated from, so a real modules.alias yields real ID tables. Only the
// canonical form file2alias writes is accepted (fields %08X / %02X upper-case hex or `*`, in order, with
// add_wildcard's trailing `*`), so pciAliases(parsePciAlias(a).id) === a for every accepted alias.
// Anything else (hand-written MODULE_ALIAS("pci:hisi_sas_v3_hw"), lower-case hex, missing fields) is a
// KbindError BAD_PCI_ALIAS naming the offset where it stops being canonical.
import { KbindError } from "./errors.ts";
import { PCI_ANY_ID, PCI_ID_F_VFIO_DRIVER_OVERRIDE, type PciDeviceId } from "./pci.ts";

export type PciAliasPrefix = "pci" | "vfio_pci";

export interface ParsedPciAlias {
  prefix: PciAliasPrefix;
  id: PciDeviceId;
}

const MAX_ALIAS = 500; // ALIAS_SIZE in file2alias.c

function isHexUpper(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 70);
}

/** Parses a pci/vfio_pci alias; throws KbindError("BAD_PCI_ALIAS") with the offending offset. */
export function parsePciAlias(s: string): ParsedPciAlias {
  const fail = (offset: number, what: string): never => {
    throw new KbindError("BAD_PCI_ALIAS", `not a file2alias PCI alias: ${what}`, { offset });
  };
  if (s.length > MAX_ALIAS) fail(MAX_ALIAS, `longer than file2alias's ${MAX_ALIAS}-byte buffer`);
  let prefix: PciAliasPrefix;
  let pos: number;
  if (s.startsWith("pci:")) {
    prefix = "pci";
    pos = 4;
  } else if (s.startsWith("vfio_pci:")) {
    prefix = "vfio_pci";
    pos = 9;
  } else {
    return fail(0, 'expected "pci:" or "vfio_pci:"');
  }

  // One field: the separator, then `width` upper-case hex digits or a single `*`. Returns null for `*`.
  const field = (sep: string, width: number): number | null => {
    if (!s.startsWith(sep, pos)) fail(pos, `expected "${sep}"`);
    pos += sep.length;
    if (s.charCodeAt(pos) === 42) {
      pos++;
      return null;
    }
    for (let k = 0; k < width; k++) {
      if (!isHexUpper(s.charCodeAt(pos + k))) fail(pos + k, `expected ${width} upper-case hex digits or "*" after "${sep}"`);
    }
    const v = parseInt(s.slice(pos, pos + width), 16);
    pos += width;
    return v;
  };

  const vendor = field("v", 8);
  const device = field("d", 8);
  const subvendor = field("sv", 8);
  const subdevice = field("sd", 8);
  const bc = field("bc", 2);
  const sc = field("sc", 2);
  const i = field("i", 2);
  // add_wildcard(): a `*` is appended unless the string already ends with one.
  if (i !== null) {
    if (s.charCodeAt(pos) !== 42) fail(pos, 'expected the trailing "*" of add_wildcard()');
    pos++;
  }
  if (pos !== s.length) fail(pos, "unexpected text after the last field");

  // file2alias writes "*" for PCI_ANY_ID, so a literal FFFFFFFF cannot come from an entry.
  for (const [v, off] of [[vendor, "v"], [device, "d"], [subvendor, "sv"], [subdevice, "sd"]] as const) {
    if (v === PCI_ANY_ID) fail(s.indexOf(off + "FFFFFFFF"), `${off}FFFFFFFF is PCI_ANY_ID, which file2alias writes as "*"`);
  }

  let cls = 0;
  let mask = 0;
  if (bc !== null) {
    cls |= bc << 16;
    mask |= 0xff0000;
  }
  if (sc !== null) {
    cls |= sc << 8;
    mask |= 0xff00;
  }
  if (i !== null) {
    cls |= i;
    mask |= 0xff;
  }
  return {
    prefix,
    id: {
      vendor: vendor ?? PCI_ANY_ID,
      device: device ?? PCI_ANY_ID,
      subvendor: subvendor ?? PCI_ANY_ID,
      subdevice: subdevice ?? PCI_ANY_ID,
      class: cls,
      classMask: mask,
      driverData: 0,
      overrideOnly: prefix === "vfio_pci" ? PCI_ID_F_VFIO_DRIVER_OVERRIDE : 0,
    },
  };
}
