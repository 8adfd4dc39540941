// `kbind explain SCENARIO DEVICE`: which drivers match the device now (bus order = registration
// order), what each probe attempt did over the run (from the trace), and why the bound driver won.
import { pciMatchDevice } from "../model/pci.ts";
import type { Device, Driver } from "../kernel/types.ts";
import { driverMatchDevice } from "../kernel/match.ts";
import { pciDevData, pciDrvData } from "../kernel/bus/pci.ts";
import { formatStamp } from "./clock.ts";
import type { SimResult } from "./simulator.ts";
import { KbindError } from "../model/errors.ts";

function matchNote(dev: Device, drv: Driver, r: number): string {
  if (r > 0) {
    if (dev.bus?.name === "pci") {
      const p = pciDevData(dev);
      const d = pciDrvData(drv);
      const m = pciMatchDevice({ name: drv.name, idTable: d.idTable, dynids: d.dynids }, p.identity, dev.driverOverride);
      if (m) return m.via === "dynid" ? `matches dynamic id #${m.index} (new_id)` : m.via === "id_table" ? `matches id_table[${m.index}]` : "matches through driver_override (pci_device_id_any)";
    }
    return dev.driverOverride !== null ? "matches (driver_override names it)" : "matches";
  }
  if (r < 0) return `bus match returned ${r}`;
  if (dev.driverOverride !== null && dev.driverOverride !== drv.name) return `no match: driver_override="${dev.driverOverride}" names another driver`;
  if (dev.bus?.name === "pci") {
    const p = pciDevData(dev);
    const d = pciDrvData(drv);
    if (pciMatchDevice({ name: drv.name, idTable: d.idTable, dynids: d.dynids }, p.identity, drv.name)) {
      const viaTable = pciMatchDevice({ name: drv.name, idTable: d.idTable?.filter((x) => x.overrideOnly !== 0) ?? null, dynids: [] }, p.identity, drv.name);
      if (viaTable && viaTable.via === "id_table") return "no match: only override_only entries match (needs driver_override)";
    }
  }
  return "no match";
}

export function explainDevice(r: SimResult, name: string): string {
  const k = r.kernel;
  const dev = [...k.allDevices()].find((d) => d.name === name);
  if (!dev?.bus) throw new KbindError("ENODEV", `no device "${name}" in the final state`, { errno: "ENODEV" });
  const bus = dev.bus;
  const out: string[] = [];
  const modalias = bus.type.modalias?.(dev, k) ?? [];
  out.push(`device ${dev.name} on bus ${bus.name} (${dev.devpath})`);
  if (modalias.length) out.push(`  modalias: ${modalias.join(" | ")}`);
  out.push(`  driver_override: ${dev.driverOverride ?? "(null)"}`);
  out.push(`  bound to: ${dev.driver ? `${dev.driver.name}${dev.driver.module ? ` (module ${dev.driver.module})` : ""}` : "(none)"}`);
  out.push("");
  out.push(`drivers on bus ${bus.name}, in registration order (the order __device_attach tries them):`);
  bus.drivers.forEach((drv, i) => {
    const res = driverMatchDevice(k, drv, dev);
    out.push(`  ${String(i + 1).padStart(3)}. ${drv.name}${drv.module ? ` [${drv.module}]` : ""}: ${matchNote(dev, drv, res)}${dev.driver === drv ? "  <= bound" : ""}`);
  });
  out.push("");
  out.push("history:");
  for (const t of r.trace.records) {
    const aboutDev = t.device === dev.name;
    // udev's work for this device's own events (not another device's with the same MODALIAS)
    const aboutEvent = t.source === "udev" && t.kind !== "event" && t.devpath === dev.devpath;
    if (aboutDev || aboutEvent) out.push(`  ${formatStamp(t.t)} ${t.text}`);
  }
  out.push("");
  if (dev.driver) {
    const earlier = bus.drivers.slice(0, bus.drivers.indexOf(dev.driver)).filter((d) => driverMatchDevice(k, d, dev) > 0);
    out.push(
      `why: ${dev.driver.name} is bound because it was the first driver whose probe returned 0 when the device was probed` +
        (earlier.length ? `; earlier matching drivers (${earlier.map((d) => d.name).join(", ")}) either registered later than the bind or failed their probe (see history)` : "") +
        ". A bound device is never taken over by drivers registered later (__driver_probe_device: -EBUSY).",
    );
  } else {
    const matching = bus.drivers.filter((d) => driverMatchDevice(k, d, dev) > 0);
    if (k.deferredDevices().includes(dev)) out.push(`why: no driver bound; the device is on the deferred probe list (${dev.deferredReason ?? "probe deferral"})`);
    else if (matching.length) out.push(`why: no driver bound although ${matching.map((d) => d.name).join(", ")} match: their probes failed, or the device was unbound and not re-probed (unbind never re-probes)`);
    else out.push("why: no driver bound: no registered driver matches (no module with a matching alias was loaded, or it is blacklisted)");
  }
  return out.join("\n") + "\n";
}
