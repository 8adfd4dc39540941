// Platform bus identities and platform_match() (drivers/base/platform.c). See kernel.md §2.5, §4.3.
import { acpiMatchDevice, acpiModaliases, acpiUeventModaliases, type AcpiDeviceId, type AcpiMatch, type AcpiNode } from "./acpi.ts";
import { ofMatchNode, ofModalias, type OfDeviceId, type OfMatch, type OfNode } from "./of.ts";

export interface PlatformIdentity {
  /** pdev->name (for OF-created devices the kernel uses the device name, e.g. "1c28000.serial"). */
  name: string;
  of: OfNode | null;
  acpi: AcpiNode | null;
}

/** struct platform_device_id. */
export interface PlatformDeviceId {
  name: string;
  driverData: number;
}

export interface PlatformDriverIds {
  /** struct device_driver.name */
  name: string;
  ofMatchTable: readonly OfDeviceId[] | null;
  acpiMatchTable: readonly AcpiDeviceId[] | null;
  idTable: readonly PlatformDeviceId[] | null;
}

export type PlatformMatch =
  | { via: "override" }
  | { via: "of"; of: OfMatch }
  | { via: "acpi"; acpi: AcpiMatch }
  | { via: "id_table"; index: number }
  | { via: "name" };

/** platform_match_id(): strcmp(pdev->name, id->name) over the table until an empty name. */
export function platformMatchId(table: readonly PlatformDeviceId[], dev: PlatformIdentity): number {
  for (let i = 0; i < table.length; i++) {
    const id = table[i]!;
    if (id.name === "") return -1;
    if (id.name === dev.name) return i;
  }
  return -1;
}

/**
 * platform_match(): an override decides alone; else OF, then ACPI, then the id_table, and the driver
 * name only when there is no id_table. Returns null for no match.
 */
export function platformMatch(drv: PlatformDriverIds, dev: PlatformIdentity, override: string | null): PlatformMatch | null {
  if (override !== null) return override === drv.name ? { via: "override" } : null;
  if (dev.of && drv.ofMatchTable) {
    const of = ofMatchNode(drv.ofMatchTable, dev.of);
    if (of) return { via: "of", of };
  }
  if (dev.acpi) {
    // acpi_driver_match_device(): without an ACPI table only PRP0001 + of_match_table can match.
    if (drv.acpiMatchTable || drv.ofMatchTable) {
      const acpi = acpiMatchDevice(dev.acpi, drv.acpiMatchTable, drv.ofMatchTable);
      if (acpi) return { via: "acpi", acpi };
    }
  }
  if (drv.idTable) {
    const i = platformMatchId(drv.idTable, dev);
    return i >= 0 ? { via: "id_table", index: i } : null;
  }
  return dev.name === drv.name ? { via: "name" } : null;
}

/**
 * The sysfs `modalias` lines (platform.c modalias_show): of_device_modalias() when the device has an OF
 * node; else acpi_device_modalias() when it has an ACPI companion with ids (acpi_companion_match()), even
 * if that yields no line at all (a not-present device): the kernel then shows an empty file, not the
 * platform name; else "platform:<name>".
 */
export function platformModaliases(dev: PlatformIdentity): string[] {
  if (dev.of) return [ofModalias(dev.of)];
  if (dev.acpi && dev.acpi.ids.length > 0) return acpiModaliases(dev.acpi);
  return [`platform:${dev.name}`];
}

/**
 * The MODALIAS uevent values (platform.c platform_uevent): of_device_uevent_modalias(), else
 * acpi_device_uevent_modalias() (which may add an EMPTY MODALIAS=, see acpiUeventModaliases), else
 * "platform:<name>". Several values mean several MODALIAS= variables, in order.
 */
export function platformUeventModaliases(dev: PlatformIdentity): string[] {
  if (dev.of) return [ofModalias(dev.of)];
  if (dev.acpi && dev.acpi.ids.length > 0) return acpiUeventModaliases(dev.acpi);
  return [`platform:${dev.name}`];
}
