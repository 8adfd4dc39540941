// Design (b), Alex Williamson's 2021 alternative: vfio_pci carries MODULE_SOFTDEP("pre: <every
// variant>") so `modprobe vfio_pci` loads all variants first, and driver_override accepts a
// wildcard ("vfio_pci*"): the first registered driver the pattern matches wins, because with an
// override pci_match_device() matches any driver whose name it names (pci_device_id_any fallback).
// kbind compares the pattern with fnmatch() against the driver name and the module name.
// Platform devices keep today's path: driver_override "vfio-platform" (first-string reset lookup).
import { runModprobe, type Proc } from "../ops.ts";
import { devPath, type Design, type DevRef } from "./design.ts";
import { overrideAndRebind, reattachToHost } from "./reattach.ts";
import { KbindError } from "../../model/errors.ts";

export const VARIANT_MODULES = ["mlx5_vfio_pci", "hisi_acc_vfio_pci", "pds_vfio_pci", "virtio_vfio_pci", "nvgrace_gpu_vfio_pci", "qat_vfio_pci"];

export const OVERRIDE_PATTERN = "vfio_pci*";

export const designB: Design = {
  id: "b",
  title: "softdep pre-load + wildcard driver_override",
  short: "softdep+glob",
  config: { flavourAttr: false, resetLookup: "first", overrideGlob: true, extraSoftdeps: [{ module: "vfio_pci", pre: VARIANT_MODULES }] },
  *switchToVfio(dev: DevRef): Proc<void> {
    const mod = dev.bus === "pci" ? "vfio_pci" : "vfio_platform";
    const r = yield* runModprobe([mod]);
    if (r.code !== 0) throw new KbindError("MODPROBE_FAILED", r.stderr.trim(), { sysfsPath: devPath(dev) });
    yield* overrideAndRebind(dev, dev.bus === "pci" ? OVERRIDE_PATTERN : "vfio-platform");
  },
  returnToHost: reattachToHost,
};
