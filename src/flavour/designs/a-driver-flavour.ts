// Design (a): driver_flavour in the kernel. The user writes a flavour to the device; the kernel
// requests the flavour's module (request_module("vfio_pci:<modalias>")), ranks the loaded
// candidates (a specific entry over the universal one, the most specific first), unbinds and binds.
// vfio_platform's reset lookup is done right: every compatible string, best match first.
import { sysWrite, type Proc } from "../ops.ts";
import { devPath, type Design, type DevRef } from "./design.ts";

export const designA: Design = {
  id: "a",
  title: "driver_flavour in the kernel",
  short: "flavour",
  config: { flavourAttr: true, resetLookup: "all", overrideGlob: false, extraSoftdeps: [] },
  *switchToVfio(dev: DevRef): Proc<void> {
    yield* sysWrite(`${devPath(dev)}/driver_flavour`, "vfio\n");
  },
  *returnToHost(dev: DevRef): Proc<void> {
    yield* sysWrite(`${devPath(dev)}/driver_flavour`, "\n");
  },
};
