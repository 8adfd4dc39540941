// Module images from a real modules.alias: for a real modules directory the simulator does not run the
// .ko's code, so each module gets one driver per bus it has aliases for, with the ID tables rebuilt
// from its aliases (src/model/alias-parse.ts, the inverse of file2alias.c). Approximations, stated:
// the driver is named after the module (real names come from the C code: e.g. module vfio_pci
// registers "vfio-pci"); a scenario can name drivers explicitly with inline modules instead.
// The OF "…C*" second alias is folded into its first; ACPI and OF entries go to a platform driver.
import type { ModuleImage, DriverSpec } from "../kernel/types.ts";
import { pciDriverSpec } from "../kernel/bus/pci.ts";
import { platformDriverSpec } from "../kernel/bus/platform.ts";
import { virtioDriverSpec } from "../kernel/bus/virtio.ts";
import { parseAlias, parseModulesAliasLine } from "../model/alias-parse.ts";
import type { PciDeviceId } from "../model/pci.ts";
import type { OfDeviceId } from "../model/of.ts";
import type { AcpiDeviceId } from "../model/acpi.ts";
import type { PlatformDeviceId } from "../model/platform.ts";
import type { VirtioDeviceId } from "../model/virtio.ts";
import type { Kernel } from "../kernel/kernel.ts";

interface Tables {
  pci: PciDeviceId[];
  of: OfDeviceId[];
  acpi: AcpiDeviceId[];
  platform: PlatformDeviceId[];
  virtio: VirtioDeviceId[];
}

export interface AliasImageIndex {
  images: Map<string, ModuleImage>;
  /** Aliases not turned into IDs (other buses, or not in file2alias's canonical form). */
  skipped: number;
}

/** Builds ModuleImages from modules.alias text (module names as written by depmod). */
export function imagesFromModulesAlias(text: string, file = "modules.alias"): AliasImageIndex {
  const tables = new Map<string, Tables>();
  let skipped = 0;
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const l = parseModulesAliasLine(lines[i]!, i + 1, file);
    if (!l) continue;
    let t = tables.get(l.module);
    if (!t) tables.set(l.module, (t = { pci: [], of: [], acpi: [], platform: [], virtio: [] }));
    let a;
    try {
      a = parseAlias(l.pattern);
    } catch {
      skipped++;
      continue;
    }
    switch (a.bus) {
      case "pci":
        t.pci.push(a.pci.id);
        break;
      case "of":
        if (!a.of.continued) t.of.push(a.of.id);
        break;
      case "acpi":
        t.acpi.push(a.acpi);
        break;
      case "platform":
        t.platform.push(a.platform);
        break;
      case "virtio":
        t.virtio.push(a.virtio);
        break;
      default:
        skipped++;
    }
  }
  const images = new Map<string, ModuleImage>();
  for (const [name, t] of tables) {
    const drivers: DriverSpec[] = [];
    if (t.pci.length) drivers.push(pciDriverSpec(name, t.pci));
    if (t.of.length || t.acpi.length || t.platform.length) {
      drivers.push(
        platformDriverSpec(name, {
          ofMatchTable: t.of.length ? t.of : null,
          acpiMatchTable: t.acpi.length ? t.acpi : null,
          idTable: t.platform.length ? t.platform : null,
        }),
      );
    }
    if (t.virtio.length) drivers.push(virtioDriverSpec(name, t.virtio));
    images.set(name, { name, drivers });
  }
  return { images, skipped };
}

/**
 * Installs a resolver: modules without an explicit image load as their alias-derived image, and any
 * other module present in the modules dir loads with no drivers.
 */
export function installAliasImages(k: Kernel, index: AliasImageIndex, known: (name: string) => boolean): void {
  k.imageResolver = (name) => index.images.get(name) ?? (known(name) ? { name, drivers: [] } : undefined);
}
