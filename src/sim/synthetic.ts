// Synthetic machines for benchmarks and large tests: N PCI devices whose identities are taken from a
// real modules.alias (exact vendor/device entries, so udev's 80-drivers rule finds a module for them)
// mixed with identities no module claims (one in four). Names follow PCI addressing (DDDD:BB:DD.F)
// under one root bus per domain. Deterministic for a given seed.
import { parseAlias, parseModulesAliasLine } from "../model/alias-parse.ts";
import { PCI_ANY_ID } from "../model/pci.ts";
import { Random } from "./random.ts";

export interface SyntheticPciDevice {
  bus: "pci";
  name: string;
  vendor: number;
  device: number;
  subvendor: number;
  subdevice: number;
  class: number;
}

/** PCI identities with an exact vendor and device in modules.alias, in file order, de-duplicated. */
export function aliasPciIdentities(aliasText: string): { vendor: number; device: number; class: number }[] {
  const out: { vendor: number; device: number; class: number }[] = [];
  const seen = new Set<string>();
  const lines = aliasText.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const l = parseModulesAliasLine(lines[i]!, i + 1, "modules.alias");
    if (!l?.pattern.startsWith("pci:")) continue;
    let a;
    try {
      a = parseAlias(l.pattern);
    } catch {
      continue;
    }
    if (a.bus !== "pci") continue;
    const id = a.pci.id;
    if (id.vendor === PCI_ANY_ID || id.device === PCI_ANY_ID) continue;
    const key = `${id.vendor}:${id.device}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ vendor: id.vendor, device: id.device, class: id.classMask === 0 ? 0xff0000 : id.class });
  }
  return out;
}

/** `n` PCI devices: three in four with a real module's identity, the rest unclaimed (vendor 0x1d0f test IDs). */
export function syntheticMachine(aliasText: string, n: number, seed: number): SyntheticPciDevice[] {
  const ids = aliasPciIdentities(aliasText);
  const rng = new Random(seed);
  const out: SyntheticPciDevice[] = [];
  for (let i = 0; i < n; i++) {
    const domain = Math.floor(i / 65536);
    const rest = i % 65536;
    const name = `${hex(domain, 4)}:${hex(rest >> 8, 2)}:${hex((rest >> 3) & 0x1f, 2)}.${rest & 7}`;
    if (ids.length > 0 && rng.int(0, 3) !== 0) {
      const id = ids[rng.int(0, ids.length - 1)]!;
      out.push({ bus: "pci", name, vendor: id.vendor, device: id.device, subvendor: 0, subdevice: 0, class: id.class });
    } else {
      out.push({ bus: "pci", name, vendor: 0x1d0f, device: 0xf000 + (i & 0xfff), subvendor: 0, subdevice: 0, class: 0xff0000 });
    }
  }
  return out;
}

function hex(v: number, w: number): string {
  return v.toString(16).padStart(w, "0");
}
