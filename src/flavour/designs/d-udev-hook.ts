// Design (d): a udev hook. The operator marks devices for vfio with udev rules matching vendor and
// device (ATTR{vendor}, ATTR{device}; OF: the first compatible string), then runs
// `udevadm trigger --action=change`. On add|change the hook asks kmod for the device's "vfio_pci:"
// alias (modprobe -R), takes the first module that is not vfio_pci, else vfio_pci ("swaps in
// vfio_pci when none is found"), loads it, and rebinds with driver_override. It needs a live udev.
import { KbindError } from "../../model/errors.ts";
import { linkBase, runModprobe, sysList, sysRead, sysDriverLink, sysWrite, type Proc } from "../ops.ts";
import { devPath, type Design, type DevRef, type DeviceIdentity } from "./design.ts";
import { overrideAndRebind, reattachToHost } from "./reattach.ts";

export function* udevVfioHook(dev: DevRef): Proc<void> {
  const modalias = (yield* sysRead(`${devPath(dev)}/modalias`)).trimEnd();
  let pick = dev.bus === "pci" ? "vfio_pci" : "vfio_platform";
  if (dev.bus === "pci") {
    const r = yield* runModprobe(["-R", `vfio_pci:${modalias.slice(modalias.indexOf(":") + 1)}`]);
    const mods = r.stdout.split("\n").filter((s) => s !== "");
    pick = mods.find((m) => m !== "vfio_pci") ?? "vfio_pci";
  }
  const load = yield* runModprobe(["-b", pick]);
  if (load.code !== 0) throw new KbindError("MODPROBE_FAILED", load.stderr.trim(), { sysfsPath: devPath(dev) });
  const drivers = yield* sysList(`/sys/module/${pick}/drivers`);
  const drv = drivers.find((d) => d.startsWith(`${dev.bus}:`))?.slice(dev.bus.length + 1);
  if (drv === undefined) throw new KbindError("NO_DRIVER", `module ${pick} has no ${dev.bus} driver`, {});
  const cur = yield* sysDriverLink(devPath(dev));
  if (cur !== null && linkBase(cur) === drv) return;
  yield* overrideAndRebind(dev, drv);
}

/** The udev rules: match by IDs (as real rules do), not by slot. */
function ruleKey(d: Pick<DeviceIdentity, "pci" | "of" | "name">): string {
  if (d.pci) return `pci:${d.pci.vendor.toString(16)}:${d.pci.device.toString(16)}`;
  return `of:${d.of?.compatible[0] ?? d.name}`;
}

export const designD: Design = {
  id: "d",
  title: "udev hook picks a variant, else vfio_pci",
  short: "udev hook",
  config: { flavourAttr: false, resetLookup: "first", overrideGlob: false, extraSoftdeps: [] },
  udevRule(switchSet: readonly DeviceIdentity[]) {
    const keys = new Set(switchSet.map(ruleKey));
    return {
      matches: (dev: DeviceIdentity, action: string) => (action === "add" || action === "change") && keys.has(ruleKey(dev)),
      run: (dev: DevRef) => udevVfioHook(dev),
    };
  },
  *switchToVfio(dev: DevRef): Proc<void> {
    // udevadm trigger --action=change --sysname-match=<dev>
    yield* sysWrite(`${devPath(dev)}/uevent`, "change");
  },
  returnToHost: reattachToHost,
};
