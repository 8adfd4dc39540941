// The platform bus: drivers/base/platform.c (platform_match, platform_uevent, platform_probe,
// modalias_show, driver_override_store/show). OF and ACPI companions via src/model/{of,acpi}.ts.
import { ERRNO } from "../../model/errno.ts";
import { ofUeventVars } from "../../model/of.ts";
import { platformMatch, platformModaliases, platformUeventModaliases, type PlatformDeviceId, type PlatformIdentity } from "../../model/platform.ts";
import type { OfDeviceId } from "../../model/of.ts";
import type { AcpiDeviceId } from "../../model/acpi.ts";
import type { BusType, Device, Driver, DriverSpec } from "../types.ts";

export interface PlatformDriverData {
  ofMatchTable: OfDeviceId[] | null;
  acpiMatchTable: AcpiDeviceId[] | null;
  idTable: PlatformDeviceId[] | null;
  /** drv->prevent_deferred_probe: -EPROBE_DEFER becomes -ENXIO ("probe deferral not supported"). */
  preventDeferredProbe: boolean;
}

export function platformDevData(dev: Device): PlatformIdentity {
  return dev.data as PlatformIdentity;
}

export function platformDrvData(drv: Driver): PlatformDriverData {
  return drv.data as PlatformDriverData;
}

export function platformDriverSpec(
  name: string,
  tables: Partial<Omit<PlatformDriverData, "preventDeferredProbe">>,
  opts: Omit<DriverSpec, "name" | "bus" | "data"> & { preventDeferredProbe?: boolean } = {},
): DriverSpec {
  const { preventDeferredProbe, ...rest } = opts;
  const data: PlatformDriverData = {
    ofMatchTable: tables.ofMatchTable ?? null,
    acpiMatchTable: tables.acpiMatchTable ?? null,
    idTable: tables.idTable ?? null,
    preventDeferredProbe: preventDeferredProbe ?? false,
  };
  return { ...rest, name, bus: "platform", data };
}

export const platformBusType: BusType = {
  name: "platform",
  driverOverride: true,
  match: (dev, drv) => {
    const d = platformDrvData(drv);
    return platformMatch({ name: drv.name, ...d }, platformDevData(dev), dev.driverOverride) ? 1 : 0;
  },
  /** dev_uevent's of_device_uevent (OF_*), then platform_uevent's MODALIAS (OF, else ACPI, else platform:). */
  uevent: (dev) => {
    const id = platformDevData(dev);
    const vars: [string, string][] = id.of ? ofUeventVars(id.of) : [];
    for (const m of platformUeventModaliases(id)) vars.push(["MODALIAS", m]);
    return vars;
  },
  modalias: (dev) => platformModaliases(platformDevData(dev)),
  probe: (dev, drv, k) => {
    let ret = drv.probe(dev, k);
    if (platformDrvData(drv).preventDeferredProbe && ret === -ERRNO.EPROBE_DEFER) {
      k.trace({ kind: "probe", text: `${drv.name} ${dev.name}: probe deferral not supported`, device: dev.name, driver: drv.name });
      ret = -ERRNO.ENXIO;
    }
    return ret;
  },
};
