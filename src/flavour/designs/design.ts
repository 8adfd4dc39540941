// What a design is: kernel-side configuration of the simulator plus the userspace agents that
// switch a device to vfio and back. Agents only use sysfs paths, modprobe and files (ops.ts), so
// the same agents run on a real host through run-on-ports.ts.
import type { OfNode } from "../../model/of.ts";
import type { PciIdentity } from "../../model/pci.ts";
import type { Proc } from "../ops.ts";

export type DesignId = "a" | "b" | "c" | "d";

/** The kernel side of a design, applied by the kernel backend as bus-type wrappers and module-dir content. */
export interface DesignConfig {
  /** driver_flavour attribute and flavour-aware matching (design a; kernel-flavour.ts). */
  flavourAttr: boolean;
  /** vfio_platform reset lookup: upstream's first compatible only, or every string best first. */
  resetLookup: "first" | "all";
  /** driver_override compared with fnmatch() against driver and module name (design b). */
  overrideGlob: boolean;
  /** Extra MODULE_SOFTDEP pre: lines depmod writes to modules.softdep (design b's vfio_pci list). */
  extraSoftdeps: { module: string; pre: string[] }[];
}

export interface DevRef {
  bus: "pci" | "platform";
  name: string;
}

export interface SwitchContext {
  kver: string;
}

export interface Design {
  id: DesignId;
  title: string;
  short: string;
  config: DesignConfig;
  /**
   * The udev hook this design installs when the switch starts (design d): a udev rule (matching device identities, as rules match
   * ATTR{vendor}/ATTR{device}) and the RUN program it starts for a matching add/change event.
   */
  udevRule?: (switchSet: readonly DeviceIdentity[]) => UdevRule;
  switchToVfio(dev: DevRef, ctx: SwitchContext): Proc<void>;
  returnToHost(dev: DevRef, ctx: SwitchContext): Proc<void>;
}

export const devPath = (d: DevRef): string => `/sys/bus/${d.bus}/devices/${d.name}`;

/** What a udev rule can see of a device: its name and bus identity. */
export interface DeviceIdentity {
  bus: "pci" | "platform";
  name: string;
  pci: PciIdentity | null;
  of: OfNode | null;
}

export interface UdevRule {
  matches(dev: DeviceIdentity, action: string): boolean;
  run(dev: DevRef): Proc<void>;
}
