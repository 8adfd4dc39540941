// The modules a flavour run can load: the real Debian module metadata (modules.alias, modules.dep,
// modules.softdep text as depmod wrote them) merged with the inline vfio modules of
// data/variants/*.yaml. Drivers of Debian modules are derived from their aliases (file2alias is a
// faithful image of the ID tables for pci: and of: entries); inline modules carry their tables.
import { KbindError } from "../model/errors.ts";
import { PCI_ANY_ID, type PciDeviceId, type PciIdentity } from "../model/pci.ts";
import type { VariantsSpec } from "./spec.ts";

export const FLAVOUR_VFIO = "vfio";

/** A pci_device_id whose override_only flag is generalised to a flavour name (null: ordinary entry). */
export interface FlavouredPciId extends PciDeviceId {
  flavour: string | null;
}

/** An of_device_id (compatible only); compatible "*" is the universal entry of a flavour. */
export interface FlavouredOfId {
  compatible: string;
  flavour: string | null;
}

export interface DriverDef {
  /** struct device_driver.name (what driver_override is compared with). */
  name: string;
  module: string;
  bus: "pci" | "platform";
  pci: FlavouredPciId[];
  of: FlavouredOfId[];
  probe: "default" | "vfio-platform";
}

export interface ModuleDef {
  name: string;
  relpath: string;
  /** Dependencies in modules.dep order. */
  deps: string[];
  aliases: string[];
  drivers: DriverDef[];
  /** Compatible strings this module registers a vfio-platform reset handler for. */
  resetFor: string[];
  softPre: string[];
  softPost: string[];
  inline: boolean;
}

export interface AliasLine {
  pattern: string;
  module: string;
}

export interface Catalogue {
  kver: string;
  modules: Map<string, ModuleDef>;
  /** Every alias in file order (Debian's modules.alias, then the inline modules'). */
  aliases: AliasLine[];
}

/** Module name from a modules.dep path: basename, ".ko*" dropped, '-' read as '_' (kmod's modname normalisation). */
export function modnameFromPath(path: string): string {
  const base = path.slice(path.lastIndexOf("/") + 1);
  const dot = base.indexOf(".ko");
  return (dot >= 0 ? base.slice(0, dot) : base).replace(/-/g, "_");
}

/** struct device_driver.name where it differs from KBUILD_MODNAME (read from each driver's source). */
const DRIVER_NAMES: Record<string, string> = {
  vfio_pci: "vfio-pci", // drivers/vfio/pci/vfio_pci.c .name = "vfio-pci"
  virtio_pci: "virtio-pci", // drivers/virtio/virtio_pci_common.c .name = "virtio-pci"
  amd_xgbe: "amd-xgbe", // drivers/net/ethernet/amd/xgbe/xgbe-main.c XGBE_DRV_NAME
  vfio_platform: "vfio-platform",
};

const PCI_ALIAS_RE =
  /^(pci|vfio_pci):v([0-9A-F]{8}|\*)d([0-9A-F]{8}|\*)sv([0-9A-F]{8}|\*)sd([0-9A-F]{8}|\*)bc([0-9A-F]{2}|\*)sc([0-9A-F]{2}|\*)i([0-9A-F]{2}|\*)\*?$/;

/** Reads a do_pci_entry alias back into the pci_device_id it was made from (whole-field wildcards only). */
export function pciIdFromAlias(alias: string): FlavouredPciId | null {
  const m = PCI_ALIAS_RE.exec(alias);
  if (!m) return null;
  const f = (s: string | undefined): number => (s === undefined || s === "*" ? PCI_ANY_ID : parseInt(s, 16));
  let cls = 0;
  let mask = 0;
  const bytes = [m[6], m[7], m[8]];
  bytes.forEach((b, i) => {
    const shift = 16 - 8 * i;
    if (b !== undefined && b !== "*") {
      cls |= parseInt(b, 16) << shift;
      mask |= 0xff << shift;
    }
  });
  return {
    vendor: f(m[2]),
    device: f(m[3]),
    subvendor: f(m[4]),
    subdevice: f(m[5]),
    class: cls >>> 0,
    classMask: mask >>> 0,
    driverData: 0,
    overrideOnly: m[1] === "vfio_pci" ? 1 : 0,
    flavour: m[1] === "vfio_pci" ? FLAVOUR_VFIO : null,
  };
}

const OF_ALIAS_RE = /^of:N\*T\*C(.+?)(C\*)?$/;

const hex = (v: number, w: number): string => (v >>> 0).toString(16).toUpperCase().padStart(w, "0");

/** do_pci_entry() (scripts/mod/file2alias.c): the alias of one entry, "vfio_pci:" for override_only. */
export function pciAliasOf(id: FlavouredPciId): string | null {
  const field = (label: string, v: number): string => label + (v === PCI_ANY_ID ? "*" : hex(v, 8));
  let s = id.flavour !== null ? "vfio_pci:" : "pci:";
  s += field("v", id.vendor) + field("d", id.device) + field("sv", id.subvendor) + field("sd", id.subdevice);
  for (const [label, shift] of [["bc", 16], ["sc", 8], ["i", 0]] as const) {
    const m = (id.classMask >>> shift) & 0xff;
    if (m !== 0 && m !== 0xff) return null; // do_pci_entry warns and emits nothing
    s += label + (m === 0xff ? hex((id.class >>> shift) & 0xff, 2) : "*");
  }
  return s.endsWith("*") ? s : s + "*";
}

function driverFromAliases(module: string, aliases: readonly string[]): DriverDef[] {
  const name = DRIVER_NAMES[module] ?? module;
  const pci: FlavouredPciId[] = [];
  const of: FlavouredOfId[] = [];
  for (const a of aliases) {
    const p = pciIdFromAlias(a);
    if (p) {
      pci.push(p);
      continue;
    }
    const o = OF_ALIAS_RE.exec(a);
    if (o?.[1] !== undefined && o[2] !== undefined) of.push({ compatible: o[1], flavour: null });
  }
  const out: DriverDef[] = [];
  if (pci.length > 0) out.push({ name, module, bus: "pci", pci, of: [], probe: "default" });
  if (of.length > 0) out.push({ name, module, bus: "platform", pci: [], of, probe: "default" });
  return out;
}

export interface DebianTexts {
  kver: string;
  alias: string;
  dep: string;
  softdep: string;
}

const lineLoc = (file: string, line: number): { file: string; line: number } => ({ file, line });

/** Builds the catalogue: Debian's modules first (in modules.dep order), then the inline vfio modules. */
export function buildCatalogue(debian: DebianTexts, variants: VariantsSpec): Catalogue {
  const modules = new Map<string, ModuleDef>();
  const aliases: AliasLine[] = [];
  debian.dep.split("\n").forEach((line, i) => {
    if (line === "") return;
    const colon = line.indexOf(":");
    if (colon < 0) throw new KbindError("BAD_MODULES_DEP", `modules.dep: no ':' in "${line}"`, lineLoc("modules.dep", i + 1));
    const path = line.slice(0, colon);
    const deps = line.slice(colon + 1).trim().split(/\s+/).filter((s) => s !== "").map(modnameFromPath);
    const name = modnameFromPath(path);
    modules.set(name, { name, relpath: path, deps, aliases: [], drivers: [], resetFor: [], softPre: [], softPost: [], inline: false });
  });
  const byModule = new Map<string, string[]>();
  debian.alias.split("\n").forEach((line) => {
    if (!line.startsWith("alias ")) return;
    const rest = line.slice(6);
    const sp = rest.lastIndexOf(" ");
    if (sp < 0) return;
    const pattern = rest.slice(0, sp);
    const module = rest.slice(sp + 1);
    aliases.push({ pattern, module });
    let list = byModule.get(module);
    if (!list) byModule.set(module, (list = []));
    list.push(pattern);
  });
  for (const [name, list] of byModule) {
    const m = modules.get(name);
    if (!m) continue; // built-in module aliases are not in modules.dep
    m.aliases = list;
    m.drivers = driverFromAliases(name, list);
  }
  debian.softdep.split("\n").forEach((line) => applySoftdep(modules, line));
  for (const v of variants.modules) {
    const existing = modules.get(v.module);
    const pci: FlavouredPciId[] = (v.pci ?? []).map((e) => ({
      vendor: e.vendor === "any" ? PCI_ANY_ID : e.vendor,
      device: e.device === "any" ? PCI_ANY_ID : e.device,
      subvendor: e.subvendor === undefined || e.subvendor === "any" ? PCI_ANY_ID : e.subvendor,
      subdevice: e.subdevice === undefined || e.subdevice === "any" ? PCI_ANY_ID : e.subdevice,
      class: e.class ?? 0,
      classMask: e.classMask ?? 0,
      driverData: 0,
      overrideOnly: e.flavour ? 1 : 0,
      flavour: e.flavour ?? null,
    }));
    const of: FlavouredOfId[] = (v.of ?? []).map((e) => ({ compatible: e.compatible, flavour: e.flavour ?? null }));
    const drivers: DriverDef[] = [];
    const drvName = v.driver ?? v.module;
    if (pci.length > 0) drivers.push({ name: drvName, module: v.module, bus: "pci", pci, of: [], probe: "default" });
    if (of.length > 0 || v.probe === "vfio-platform")
      drivers.push({ name: drvName, module: v.module, bus: "platform", pci: [], of, probe: v.probe ?? "default" });
    const newAliases: string[] = [];
    for (const id of pci) {
      const a = pciAliasOf(id);
      if (a !== null) newAliases.push(a);
    }
    for (const o of of) if (o.flavour !== null) newAliases.push(o.compatible === "*" ? "vfio_platform:N*T*C*" : `vfio_platform:N*T*C${o.compatible}C*`);
    for (const c of v.resetFor ?? []) newAliases.push(`vfio-reset:${c}`);
    if (existing) {
      // A real Debian module (vfio_pci, vfio_pci_core): keep its deps and aliases, take the driver table.
      if (drivers.length > 0) existing.drivers = drivers;
      existing.resetFor = v.resetFor ?? [];
      for (const a of newAliases) if (!existing.aliases.includes(a)) existing.aliases.push(a);
      for (const a of newAliases) if (!aliases.some((l) => l.module === v.module && l.pattern === a)) aliases.push({ pattern: a, module: v.module });
      continue;
    }
    modules.set(v.module, {
      name: v.module,
      relpath: v.relpath,
      deps: v.depends,
      aliases: newAliases,
      drivers,
      resetFor: v.resetFor ?? [],
      softPre: [],
      softPost: [],
      inline: true,
    });
    for (const a of newAliases) aliases.push({ pattern: a, module: v.module });
  }
  return { kver: debian.kver, modules, aliases };
}

function applySoftdep(modules: Map<string, ModuleDef>, line: string): void {
  const t = line.trim().split(/\s+/);
  if (t[0] !== "softdep" || t[1] === undefined) return;
  const m = modules.get(t[1]);
  if (!m) return;
  let cur: string[] | null = null;
  for (const w of t.slice(2)) {
    if (w === "pre:") cur = m.softPre;
    else if (w === "post:") cur = m.softPost;
    else cur?.push(w);
  }
}

/** Specificity of a PCI entry: 7 minus the number of whole-field wildcards (libvirt's metric). */
export function pciSpecificity(id: FlavouredPciId): number {
  let n = 0;
  for (const v of [id.vendor, id.device, id.subvendor, id.subdevice]) if (v !== PCI_ANY_ID) n++;
  for (const shift of [16, 8, 0]) if (((id.classMask >>> shift) & 0xff) !== 0) n++;
  return n;
}

export function pciIdentity(d: { vendor: number; device: number; subvendor: number; subdevice: number; class: number }): PciIdentity {
  return { vendor: d.vendor, device: d.device, subvendor: d.subvendor, subdevice: d.subdevice, class: d.class };
}
