// Model-based fuzzing of the driver core (fast-check): random sequences of sysfs writes (bind, unbind,
// driver_override, drivers_probe, drivers_autoprobe, new_id, remove_id, uevent), hotplug add/remove
// and module load/unload on a small PCI machine. After every step the invariants hold:
//  - a device has at most one driver, and exactly that driver's klist (drv->p->klist_devices) holds it;
//  - at the moment a device binds (driver_bound), the driver matches it or is its driver_override
//    (pci_bus_match / pci_match_device; later remove_id or override changes do not unbind, as in the kernel);
//  - no bound device sits on the deferred lists (driver_bound → driver_deferred_probe_del);
//  - bus klists and name maps agree with the registered devices and drivers; modules' refcounts are
//    never negative and a live module's drivers are registered;
//  - /sys agrees: <dev>/driver links to the bound driver (ENOENT when unbound), <drv>/ lists exactly
//    its bound devices, driver_override reads back the override or "(null)";
// and replaying the recorded operations on a fresh kernel yields the same state and the same results.
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { createKernel, driverMatchDevice, kernelSysfs, newPciDevData, pciDriverSpec, probeFromBehaviour, type Kernel } from "../../src/kernel/index.ts";
import type { Device, Driver } from "../../src/kernel/index.ts";
import { SysfsError } from "../../src/ports.ts";
import type { PciIdentity } from "../../src/model/pci.ts";
import { PCI_ANY_ID } from "../../src/model/pci.ts";

const SLOTS: { name: string; id: PciIdentity }[] = [
  { name: "0000:01:00.0", id: { vendor: 0x8086, device: 0x0001, subvendor: 0, subdevice: 0, class: 0x020000 } },
  { name: "0000:01:00.1", id: { vendor: 0x8086, device: 0x0001, subvendor: 0, subdevice: 0, class: 0x020000 } },
  { name: "0000:02:00.0", id: { vendor: 0x8086, device: 0x0002, subvendor: 0, subdevice: 0, class: 0x010802 } },
  { name: "0000:03:00.0", id: { vendor: 0x10de, device: 0x0003, subvendor: 0, subdevice: 0, class: 0x030000 } },
  { name: "0000:04:00.0", id: { vendor: 0x1af4, device: 0x1000, subvendor: 0, subdevice: 0, class: 0x020000 } },
];
const DRIVERS = ["drv-a", "drv-b", "drv-c", "drv-d", "drv-async"];
const MODULES = ["mod_a", "mod_b", "mod_c", "mod_d", "mod_async"];
const any = (vendor: number, device: number) => ({ vendor, device, subvendor: PCI_ANY_ID, subdevice: PCI_ANY_ID, class: 0, classMask: 0, driverData: 0, overrideOnly: 0 });

function build(noFilter = false): Kernel {
  const k = createKernel();
  // The reference walk: driver_attach over every device (bus_for_each_dev) without the PCI pre-filter.
  if (noFilter) k.setBusType("pci", { ...k.bus("pci").type, attachFilter: undefined });
  k.deviceAdd({ name: "pci0000:00", bus: null, data: null });
  // drv-a: one device ID. drv-b: every Intel device, but rejects 0000:01:00.1 (-ENODEV) and fails
  // 0000:02:00.0 (-EIO). drv-c: no table (override or new_id only). drv-d: defers until 0000:01:00.0
  // is bound; uses mod_a's symbols. drv-async: prefer_async, virtio-net IDs.
  k.addModuleImage({ name: "mod_a", drivers: [pciDriverSpec("drv-a", [any(0x8086, 0x0001)])] });
  k.addModuleImage({
    name: "mod_b",
    drivers: [pciDriverSpec("drv-b", [any(0x8086, PCI_ANY_ID)], { probe: probeFromBehaviour({ resultFor: { "0000:01:00.1": -19, "0000:02:00.0": -5 } }) })],
  });
  k.addModuleImage({ name: "mod_c", drivers: [pciDriverSpec("drv-c", null)] });
  k.addModuleImage({ name: "mod_d", uses: ["mod_a"], drivers: [pciDriverSpec("drv-d", [any(0x10de, PCI_ANY_ID), any(0x8086, 0x0002)], { probe: probeFromBehaviour({ deferUntilBound: ["pci:0000:01:00.0"] }) })] });
  k.addModuleImage({ name: "mod_async", drivers: [pciDriverSpec("drv-async", [any(0x1af4, PCI_ANY_ID)], { probeType: "prefer_async" })] });
  return k;
}

type Op =
  | { t: "write"; path: string; value: string }
  | { t: "hotplug"; slot: number }
  | { t: "unplug"; slot: number }
  | { t: "insmod"; mod: string }
  | { t: "rmmod"; mod: string };

const dev = fc.integer({ min: 0, max: SLOTS.length - 1 });
const drv = fc.constantFrom(...DRIVERS);
const idWrite = fc.constantFrom("8086 0001", "8086 0002", "10de 0003", "1af4 1000", "8086 0002 ffffffff ffffffff 010802 ffffff", "zz", "8086");
const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ t: fc.constant("write" as const), d: drv, s: dev, a: fc.constantFrom("bind", "unbind") }).map(({ d, s, a }) => ({ t: "write" as const, path: `/sys/bus/pci/drivers/${d}/${a}`, value: SLOTS[s]!.name })),
  fc.record({ s: dev, v: fc.constantFrom("drv-a", "drv-c", "drv-d", "nope", "\n", "", "drv-c\nx", "x".repeat(5000)) }).map(({ s, v }) => ({ t: "write" as const, path: `/sys/bus/pci/devices/${SLOTS[s]!.name}/driver_override`, value: v })),
  dev.map((s) => ({ t: "write" as const, path: "/sys/bus/pci/drivers_probe", value: SLOTS[s]!.name })),
  fc.constantFrom("0", "1", "x").map((v) => ({ t: "write" as const, path: "/sys/bus/pci/drivers_autoprobe", value: v })),
  fc.record({ d: drv, v: idWrite, a: fc.constantFrom("new_id", "remove_id") }).map(({ d, v, a }) => ({ t: "write" as const, path: `/sys/bus/pci/drivers/${d}/${a}`, value: v })),
  fc.record({ s: dev, v: fc.constantFrom("add", "change", "remove", "bogus") }).map(({ s, v }) => ({ t: "write" as const, path: `/sys/bus/pci/devices/${SLOTS[s]!.name}/uevent`, value: v })),
  fc.record({ s: dev }).map(({ s }) => ({ t: "write" as const, path: `/sys/bus/pci/devices/${SLOTS[s]!.name}/driver/unbind`, value: SLOTS[s]!.name })),
  dev.map((slot) => ({ t: "hotplug" as const, slot })),
  dev.map((slot) => ({ t: "unplug" as const, slot })),
  fc.constantFrom(...MODULES).map((mod) => ({ t: "insmod" as const, mod })),
  fc.constantFrom(...MODULES).map((mod) => ({ t: "rmmod" as const, mod })),
);

/** Applies one op; returns its observable result (bytes written / errno / return code). */
function apply(k: Kernel, sysfs: ReturnType<typeof kernelSysfs>, op: Op): string {
  switch (op.t) {
    case "write":
      try {
        return String(sysfs.writeSync(op.path, op.value));
      } catch (e) {
        if (e instanceof SysfsError) return e.errno;
        throw e;
      }
    case "hotplug": {
      const s = SLOTS[op.slot]!;
      if (k.findDevice("pci", s.name)) return "present";
      k.deviceAdd({ name: s.name, bus: "pci", parent: k.devicesByPath.get("/devices/pci0000:00")!, data: newPciDevData(s.id), iommuGroup: op.slot });
      return "added";
    }
    case "unplug": {
      const d = k.findDevice("pci", SLOTS[op.slot]!.name);
      if (!d) return "absent";
      k.deviceDel(d);
      return "removed";
    }
    case "insmod":
      return String(k.insertModule(op.mod));
    case "rmmod":
      return String(k.deleteModule(op.mod));
  }
}

function snapshot(k: Kernel): unknown {
  const bus = k.bus("pci");
  return {
    devices: bus.devices.map((d) => [d.name, d.driver?.name ?? null, d.driverOverride]),
    drivers: bus.drivers.map((d) => [d.name, d.boundDevices.map((x) => x.name)]),
    modules: [...k.modules.values()].map((m) => [m.name, m.state, m.refcnt]),
    deferred: k.deferredDevices().map((d) => d.name),
    autoprobe: bus.driversAutoprobe,
    seqnum: k.seqnum,
  };
}

function checkInvariants(k: Kernel, sysfs: ReturnType<typeof kernelSysfs>): void {
  const bus = k.bus("pci");
  // klists and name maps
  expect(new Set(bus.devices).size).toBe(bus.devices.length);
  expect([...bus.devicesByName.values()].sort((a, b) => a.addSeq - b.addSeq)).toEqual(bus.devices);
  for (const d of bus.devices) expect(d.registered && !d.dead).toBe(true);
  expect([...bus.driversByName.values()]).toEqual(bus.drivers);
  // at most one driver; the driver's klist has exactly its devices
  const holders = new Map<Device, Driver[]>();
  for (const drv of bus.drivers) for (const d of drv.boundDevices) holders.set(d, [...(holders.get(d) ?? []), drv]);
  for (const d of bus.devices) {
    const h = holders.get(d) ?? [];
    expect(h.length).toBeLessThanOrEqual(1);
    expect(h[0] ?? null).toBe(d.driver);
    if (d.driver) expect(bus.drivers).toContain(d.driver);
  }
  for (const [d] of holders) expect(bus.devices).toContain(d);
  // deferred lists: no bound device, no duplicates, only registered devices
  const deferred = k.deferredDevices();
  expect(new Set(deferred).size).toBe(deferred.length);
  for (const d of deferred) {
    expect(d.driver).toBeNull();
    expect(d.registered).toBe(true);
  }
  // modules
  for (const m of k.modules.values()) {
    expect(m.refcnt).toBeGreaterThanOrEqual(0);
    if (m.state === "live") for (const drv of m.drivers) expect(bus.driversByName.get(drv.name)).toBe(drv);
  }
  const users = new Map<string, number>();
  for (const m of k.modules.values()) for (const u of m.uses) users.set(u, (users.get(u) ?? 0) + 1);
  for (const m of k.modules.values()) expect(m.refcnt).toBe(users.get(m.name) ?? 0);
  for (const drv of bus.drivers) if (drv.module !== null) expect(k.modules.get(drv.module)?.state).toBe("live");
  // /sys
  for (const d of bus.devices) {
    const p = `/sys/bus/pci/devices/${d.name}`;
    if (d.driver) expect(sysfs.readlinkSync(`${p}/driver`)).toMatch(new RegExp(`/bus/pci/drivers/${d.driver.name}$`));
    else expect(() => sysfs.readlinkSync(`${p}/driver`)).toThrow(SysfsError);
    expect(sysfs.readSync(`${p}/driver_override`)).toBe(`${d.driverOverride ?? "(null)"}\n`);
  }
  for (const drv of bus.drivers) {
    const listed = sysfs.listSync(`/sys/bus/pci/drivers/${drv.name}`).filter((n) => /^[0-9a-f]{4}:/.test(n));
    expect(listed.sort()).toEqual(drv.boundDevices.map((d) => d.name).sort());
  }
  expect(sysfs.listSync("/sys/bus/pci/devices").sort()).toEqual(bus.devices.map((d) => d.name).sort());
}

function runOps(ops: readonly Op[], check: boolean, noFilter = false): { results: string[]; state: unknown } {
  const k = build(noFilter);
  const sysfs = kernelSysfs(k);
  if (check) {
    // At driver_bound, the driver must match the device (override included) — drivers/base/dd.c
    // __driver_probe_device only runs after driver_match_device() said yes.
    k.onTrace((t) => {
      if (t.kind !== "bound") return;
      const d = k.findDevice("pci", t.device!)!;
      const drv = k.findDriver("pci", t.driver!)!;
      expect(driverMatchDevice(k, drv, d)).toBeGreaterThan(0);
      if (d.driverOverride !== null) expect(drv.name).toBe(d.driverOverride);
    });
  }
  const results: string[] = [];
  for (const op of ops) {
    results.push(apply(k, sysfs, op));
    if (check) checkInvariants(k, sysfs);
  }
  return { results, state: snapshot(k) };
}

const initial: Op[] = [...SLOTS.map((_, slot) => ({ t: "hotplug" as const, slot })), ...MODULES.map((mod) => ({ t: "insmod" as const, mod }))];

describe("model-based fuzzing of sysfs, hotplug and modules (invariants after every step)", () => {
  it("invariants hold and a replay on a fresh kernel gives the same state", () => {
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 1, maxLength: 40 }), fc.boolean(), (ops, preload) => {
        const all = preload ? [...initial, ...ops] : ops;
        const first = runOps(all, true);
        const replay = runOps(all, false);
        expect(replay.results).toEqual(first.results);
        expect(replay.state).toEqual(first.state);
        // The driver_attach pre-filter (BusType.attachFilter) changes nothing observable.
        const reference = runOps(all, false, true);
        expect(reference.results).toEqual(first.results);
        expect(reference.state).toEqual(first.state);
      }),
      { numRuns: 400 },
    );
  });

  it("override-heavy sequences: filtered and full driver_attach walks agree", () => {
    const small: fc.Arbitrary<Op> = fc.oneof(
      fc.record({ s: dev, v: fc.constantFrom("drv-a", "drv-b", "drv-c", "drv-d", "drv-async", "\n") }).map(({ s, v }) => ({ t: "write" as const, path: `/sys/bus/pci/devices/${SLOTS[s]!.name}/driver_override`, value: v })),
      fc.record({ s: dev }).map(({ s }) => ({ t: "write" as const, path: `/sys/bus/pci/devices/${SLOTS[s]!.name}/driver/unbind`, value: SLOTS[s]!.name })),
      fc.constantFrom(...MODULES).map((mod) => ({ t: "insmod" as const, mod })),
      fc.constantFrom(...MODULES).map((mod) => ({ t: "rmmod" as const, mod })),
      dev.map((slot) => ({ t: "hotplug" as const, slot })),
    );
    fc.assert(
      fc.property(fc.array(small, { minLength: 1, maxLength: 30 }), (ops) => {
        const a = runOps(ops, true);
        const b = runOps(ops, false, true);
        expect(a.results).toEqual(b.results);
        expect(a.state).toEqual(b.state);
      }),
      { numRuns: 1500 },
    );
  });

  it("a driver loaded after a device's driver_override names it binds that device even without an ID for it (pci_match_device override_any)", () => {
    const ops: Op[] = [
      { t: "hotplug", slot: 3 },
      { t: "write", path: `/sys/bus/pci/devices/${SLOTS[3]!.name}/driver_override`, value: "drv-a" },
      { t: "insmod", mod: "mod_a" },
    ];
    const a = runOps(ops, true);
    expect(a.state).toMatchObject({ devices: [[SLOTS[3]!.name, "drv-a", "drv-a"]] });
    expect(runOps(ops, false, true).state).toEqual(a.state);
  });

  it("the fuzzer reaches the interesting states (binds, deferrals, overrides, dynids, unloads)", () => {
    // Guard against a vacuous fuzzer: over a fixed sample, each kind of event must occur.
    const seen = new Set<string>();
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 20, maxLength: 40 }), (ops) => {
        const k = build();
        const sysfs = kernelSysfs(k);
        k.onTrace((t) => seen.add(t.kind));
        k.onUevent((e) => seen.add(`uevent:${e.action}`));
        for (const op of [...initial, ...ops]) {
          const r = apply(k, sysfs, op);
          seen.add(`${op.t}:${r}`);
        }
      }),
      { numRuns: 100, seed: 4 },
    );
    for (const want of ["bound", "unbind", "deferred_add", "deferred_retry", "probe_reject", "probe_error", "uevent:bind", "uevent:unbind", "uevent:remove", "rmmod:0", "rmmod:-11", "EBUSY", "ENODEV", "EINVAL", "EEXIST"]) {
      expect([...seen].some((s) => s === want || s.endsWith(`:${want}`) || s === `write:${want}`), want).toBe(true);
    }
  });
});
