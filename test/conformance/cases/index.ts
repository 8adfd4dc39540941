// Every conformance case, per machine: the IOMMU machine runs them all; the machine without an IOMMU
// repeats autoload and the cases whose outcome depends on the IOMMU (vfio-pci's probe).
import type { Case } from "../case-format.ts";
import { autoloadCases } from "./autoload.ts";
import { bindUnbindCases } from "./bind-unbind.ts";
import { driverOverrideCases } from "./driver-override.ts";
import { eventCases } from "./events.ts";
import { moduleCases } from "./modules.ts";
import { modprobeConfigCases } from "./modprobe-config.ts";
import { newIdCases } from "./new-id.ts";
import { probeCases } from "./probe.ts";
import { sysfsLayoutCases } from "./sysfs-layout.ts";
import { ueventCases } from "./uevent.ts";
import { vfioCases } from "./vfio.ts";

export const ALL_CASES: readonly Case[] = [
  ...autoloadCases("iommu"),
  ...driverOverrideCases("iommu"),
  ...bindUnbindCases("iommu"),
  ...probeCases("iommu"),
  ...newIdCases("iommu"),
  ...vfioCases("iommu"),
  ...moduleCases("iommu"),
  ...modprobeConfigCases("iommu"),
  ...ueventCases("iommu"),
  ...eventCases("iommu"),
  ...sysfsLayoutCases("iommu"),
  ...autoloadCases("noiommu"),
  ...vfioCases("noiommu"),
  ...eventCases("noiommu").filter((c) => c.id === "events/vfio-pci"),
];
