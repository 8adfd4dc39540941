// Deferred probing: drivers/base/dd.c driver_deferred_probe_add/_del/_trigger, deferred_probe_work_func,
// deferred_probe_initcall. Two FIFO lists: pending (waiting for a trigger) and active (being retried).
import type { Kernel } from "./kernel.ts";
import type { Device } from "./types.ts";
import { busProbeDevice } from "./registry.ts";

/** driver_deferred_probe_add(): only if dev->can_match; list_add_tail to pending if on no list. */
export function driverDeferredProbeAdd(k: Kernel, dev: Device): void {
  if (!dev.canMatch) return;
  if (k.deferredPending.includes(dev) || k.deferredActive.includes(dev)) return;
  k.deferredPending.push(dev);
  k.trace({ kind: "deferred_add", text: `${dev.name}: Added to deferred list`, device: dev.name });
}

/** driver_deferred_probe_del(): off whichever list, reason cleared. */
export function driverDeferredProbeDel(k: Kernel, dev: Device): void {
  let i = k.deferredPending.indexOf(dev);
  if (i >= 0) k.deferredPending.splice(i, 1);
  i = k.deferredActive.indexOf(dev);
  if (i >= 0) k.deferredActive.splice(i, 1);
  dev.deferredReason = null;
}

/**
 * driver_deferred_probe_trigger(): nothing before late_initcall (driver_deferred_probe_enable);
 * else deferred_trigger_count++, splice pending onto the tail of active, queue the work.
 */
export function driverDeferredProbeTrigger(k: Kernel): void {
  if (!k.deferredProbeEnabled) return;
  k.deferredTriggerCount++;
  if (k.deferredPending.length > 0) {
    k.deferredActive.push(...k.deferredPending);
    k.deferredPending.length = 0;
  }
  if (k.deferredWorkQueued || k.deferredActive.length === 0) return;
  k.deferredWorkQueued = true;
  k.host.queueWork("deferred_probe_work", () => {
    k.op(() => deferredProbeWorkFunc(k));
  });
}

/** deferred_probe_work_func(): pop the head of active one at a time and bus_probe_device() it. */
export function deferredProbeWorkFunc(k: Kernel): void {
  k.deferredWorkQueued = false;
  for (let dev = k.deferredActive.shift(); dev; dev = k.deferredActive.shift()) {
    if (!dev.registered) continue;
    k.trace({ kind: "deferred_retry", text: `${dev.name}: Retrying from deferred list`, device: dev.name });
    busProbeDevice(k, dev);
  }
}

/** deferred_probe_initcall() (late_initcall): enable, trigger, flush, trigger again. */
export function deferredProbeInitcall(k: Kernel): void {
  k.deferredProbeEnabled = true;
  driverDeferredProbeTrigger(k);
  if (k.deferredWorkQueued) deferredProbeWorkFunc(k); // flush_work(&deferred_probe_work)
  driverDeferredProbeTrigger(k);
}
