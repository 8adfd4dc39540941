// The virtio bus: drivers/virtio/virtio.c (virtio_dev_match, virtio_uevent, device/vendor attributes,
// modalias_show). virtio has no driver_override.
import { virtioMatch, virtioModalias, type VirtioDeviceId, type VirtioIdentity } from "../../model/virtio.ts";
import type { BusType, Device, DriverSpec } from "../types.ts";

export interface VirtioDriverData {
  idTable: VirtioDeviceId[];
}

export function virtioDevData(dev: Device): VirtioIdentity {
  return dev.data as VirtioIdentity;
}

export function virtioDriverSpec(name: string, idTable: VirtioDeviceId[], opts: Omit<DriverSpec, "name" | "bus" | "data"> = {}): DriverSpec {
  const data: VirtioDriverData = { idTable };
  return { ...opts, name, bus: "virtio", data };
}

const hex4 = (v: number): string => `0x${(v >>> 0).toString(16).padStart(4, "0")}\n`;

export const virtioBusType: BusType = {
  name: "virtio",
  driverOverride: false,
  match: (dev, drv) => (virtioMatch((drv.data as VirtioDriverData).idTable, virtioDevData(dev)) >= 0 ? 1 : 0),
  uevent: (dev) => [["MODALIAS", virtioModalias(virtioDevData(dev))]],
  modalias: (dev) => [virtioModalias(virtioDevData(dev))],
  deviceAttrs: {
    device: { mode: 0o444, show: (d) => hex4(virtioDevData(d).device) },
    vendor: { mode: 0o444, show: (d) => hex4(virtioDevData(d).vendor) },
  },
};

