// Driver behaviour for scenarios and tests: what ->probe() returns and how long it takes, and
// "defer until a supplier is bound" (the usual reason drivers return -EPROBE_DEFER, e.g. a clock,
// regulator or PHY provider that has not probed yet; dev_err_probe() records the reason).
import { ERRNO } from "../model/errno.ts";
import type { Kernel } from "./kernel.ts";
import type { Device } from "./types.ts";

export interface ProbeBehaviour {
  /** ->probe() return when it runs to completion: 0 (default) or a negative errno. */
  result?: number;
  /** Virtual time the probe takes (ns). */
  timeNs?: number;
  /** Suppliers as "<bus>:<device>": probe returns -EPROBE_DEFER until every one is bound. */
  deferUntilBound?: string[];
  /** Per-device results (device name → errno), overriding `result`. */
  resultFor?: Record<string, number>;
}

/** Builds a ->probe() implementing a behaviour. */
export function probeFromBehaviour(b: ProbeBehaviour): (dev: Device, k: Kernel) => number {
  return (dev, k) => {
    if (b.timeNs) k.host.advance(b.timeNs);
    for (const s of b.deferUntilBound ?? []) {
      const i = s.indexOf(":");
      const sup = i > 0 ? k.findDevice(s.slice(0, i), s.slice(i + 1)) : undefined;
      if (!sup?.driver) {
        dev.deferredReason = `supplier ${s} not ready`;
        return -ERRNO.EPROBE_DEFER;
      }
    }
    return b.resultFor?.[dev.name] ?? b.result ?? 0;
  };
}
