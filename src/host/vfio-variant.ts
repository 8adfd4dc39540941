// Choosing the VFIO driver for a PCI device the way libvirt does (src/util/virpci.c,
// virPCIDeviceFindBestVFIOVariant, libvirt >= 10.0): read the device's modalias, scan the TEXT
// modules.alias for every "\nalias vfio_pci:" line, keep the entry whose seven fields all match
// (each field is "*" or string-equal) with the FEWEST "*" — strict "<", so the first line in file
// order wins ties — and fall back to vfio-pci when nothing matches. This is the algorithm of the
// file2alias commit cc6711b0bf36 ("PCI / VFIO: Add 'override_only' support for VFIO PCI sub system").
// Pure: no I/O here (the caller reads the files).
import { KbindError } from "../model/errors.ts";

export interface PciAliasFields {
  v: string;
  d: string;
  sv: string;
  sd: string;
  bc: string;
  sc: string;
  i: string;
}

const FIELD_ORDER = ["v", "d", "sv", "sd", "bc", "sc", "i"] as const;
/** Whole fields as file2alias emits them (do_pci_entry): 8 hex digits (ids), 2 (class bytes) or "*". */
const ALIAS_RE = /^v([0-9A-F]{8}|\*)d([0-9A-F]{8}|\*)sv([0-9A-F]{8}|\*)sd([0-9A-F]{8}|\*)bc([0-9A-F]{2}|\*)sc([0-9A-F]{2}|\*)i([0-9A-F]{2}|\*)$/;
const MODALIAS_RE = /^pci:v([0-9A-F]{8})d([0-9A-F]{8})sv([0-9A-F]{8})sd([0-9A-F]{8})bc([0-9A-F]{2})sc([0-9A-F]{2})i([0-9A-F]{2})\s*$/;

function fields(m: RegExpExecArray): PciAliasFields {
  return { v: m[1]!, d: m[2]!, sv: m[3]!, sd: m[4]!, bc: m[5]!, sc: m[6]!, i: m[7]! };
}

/** Parses a device's /sys/.../modalias ("pci:v...d...sv...sd...bc..sc..i..\n"). */
export function parsePciModalias(text: string, where = "modalias"): PciAliasFields {
  const m = MODALIAS_RE.exec(text);
  if (!m) throw new KbindError("BAD_MODALIAS", `${where}: not a PCI modalias: ${JSON.stringify(text.slice(0, 100))}`, { offset: 0 });
  return fields(m);
}

/** The part of a "vfio_pci:" alias after the prefix; null when libvirt would skip the line. */
export function parseVfioAliasBody(body: string): PciAliasFields | null {
  const m = ALIAS_RE.exec(body);
  return m ? fields(m) : null;
}

/** virPCIDeviceAliasInfoMatch: number of "*" fields when every field matches, else -1. */
export function aliasWildcardsIfMatch(alias: PciAliasFields, dev: PciAliasFields): number {
  let wild = 0;
  for (const f of FIELD_ORDER) {
    if (alias[f] === "*") wild++;
    else if (alias[f] !== dev[f]) return -1;
  }
  return wild;
}

export interface VfioChoice {
  /** The module to load (modules.alias spelling). */
  module: string;
  /** The alias line that chose it; null for the vfio-pci fallback. */
  alias: string | null;
  wildcards: number | null;
  /** 1-based line in modules.alias. */
  line: number | null;
}

/** The fallback when no vfio_pci: alias matches (virPCIDeviceBindToStub uses "vfio-pci"). */
export const VFIO_PCI_FALLBACK: VfioChoice = { module: "vfio_pci", alias: null, wildcards: null, line: null };

/** All vfio_pci: aliases of a modules.alias text, with their line numbers (parse once, match many). */
export interface VfioAliasEntry {
  fields: PciAliasFields;
  alias: string;
  module: string;
  line: number;
}

export function scanVfioAliases(modulesAlias: string): VfioAliasEntry[] {
  const out: VfioAliasEntry[] = [];
  const lines = modulesAlias.split("\n");
  // libvirt searches "\nalias vfio_pci:": the first line (depmod's comment) never counts.
  for (let n = 1; n < lines.length; n++) {
    const text = lines[n]!;
    if (!text.startsWith("alias vfio_pci:")) continue;
    const body = text.slice("alias vfio_pci:".length);
    const sp = body.indexOf(" ");
    if (sp < 0) continue;
    const f = parseVfioAliasBody(body.slice(0, sp));
    const module = body.slice(sp + 1).trim();
    if (f === null || module === "") continue;
    out.push({ fields: f, alias: `vfio_pci:${body.slice(0, sp)}`, module, line: n + 1 });
  }
  return out;
}

/** virPCIDeviceFindBestVFIOVariant over pre-scanned aliases; vfio_pci fallback when none matches. */
export function chooseVfioDriver(aliases: readonly VfioAliasEntry[], dev: PciAliasFields): VfioChoice {
  let best: VfioAliasEntry | null = null;
  let bestWild = Infinity;
  for (const a of aliases) {
    const w = aliasWildcardsIfMatch(a.fields, dev);
    if (w >= 0 && w < bestWild) {
      best = a;
      bestWild = w;
    }
  }
  return best === null ? VFIO_PCI_FALLBACK : { module: best.module, alias: best.alias, wildcards: bestWild, line: best.line };
}
