// What a design is: kernel-side configuration of the simulator plus the userspace agents that
// switch a device to vfio and back. Agents only use sysfs paths, modprobe and files (ops.ts), so
// the same agents run on a real host through run-on-ports.ts.
import type { OfNode } from "../../model/of.ts";
import type { PciIdentity } from "../../model/pci.ts";
import type { Proc } from "../ops.ts";
import type { UdevHook, WorldConfig } from "../world.ts";

export type DesignId = "a" | "b" | "c" | "d";

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
  config: Pick<WorldConfig, "flavourAttr" | "resetLookup" | "overrideGlob" | "extraSoftdeps">;
  /** The udev hook this design installs when the switch starts (design d), keyed on the switch set. */
  udevHook?: (switchSet: readonly DevRef[]) => UdevHook;
  /**
   * The same hook for the kernel backend: a udev rule (matching device identities, as rules match
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
