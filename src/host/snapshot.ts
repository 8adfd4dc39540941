// `kbind host snapshot`: the host's PCI devices and the drivers bound to them, written as a simulator
// scenario (src/sim/scenario.ts) — read only. The scenario reproduces the host's binding:
//  - machine.devices: every PCI function with its IDs, class, IOMMU group, driver_override and its
//    PCI parent (from the /sys/devices path), parents first;
//  - modules.inline: one module per loaded PCI driver (the driver dir's `module` link; built-in when
//    it has none), whose ID table is RECONSTRUCTED from the devices observed bound to it (exact
//    vendor/device/subsystem IDs): the real tables live in the .ko files, which a snapshot does not
//    read. vfio drivers get an override-only catch-all entry, as vfio-pci's own table has
//    (PCI_DRIVER_OVERRIDE_DEVICE_VFIO(PCI_ANY_ID, PCI_ANY_ID)).
//  - script: settle, modprobe the vfio modules (udev never loads them), settle, then expect every
//    device bound as it is on the host.
// `kbind sim` runs it; `kbind host list --snapshot FILE` replays it as a temp-dir fake /sys.
import { stringify } from "yaml";
import type { SysfsPort } from "../ports.ts";
import { loadScenario, type Scenario } from "../sim/scenario.ts";
import { deviceRealPath, lastComponent, readAttrOrNull, readBindState, readIommuGroup, readlinkOrNull } from "./device-state.ts";
import type { FakeDriverDesc, FakeHostDesc, FakePciDeviceDesc } from "./sysfs-tmpdir.ts";
import type { VfioAliasEntry } from "./vfio-variant.ts";

const PCI_NAME = /^[0-9a-f]{4}:[0-9a-f]{2}:[0-1][0-9a-f]\.[0-7]$/;

interface SnapDevice {
  name: string;
  parent: string | null;
  depth: number;
  vendor: number;
  device: number;
  subvendor: number;
  subdevice: number;
  class: number;
  iommuGroup: number | null;
  driver: string | null;
  override: string | null;
}

async function hexAttr(sysfs: SysfsPort, p: string): Promise<number> {
  const v = Number.parseInt((await readAttrOrNull(sysfs, p))?.trim() ?? "0", 16);
  return Number.isFinite(v) ? v : 0;
}

/** The snapshot as a scenario object (plain data, ready for YAML). */
export async function takeSnapshot(sysfs: SysfsPort, kernelRelease: string | null): Promise<Record<string, unknown>> {
  const devs: SnapDevice[] = [];
  const names = (await sysfs.exists("/sys/bus/pci/devices")) ? await sysfs.list("/sys/bus/pci/devices") : [];
  for (const name of names) {
    if (!PCI_NAME.test(name)) continue;
    const dp = `/sys/bus/pci/devices/${name}`;
    const real = (await deviceRealPath(sysfs, "pci", name)).split("/");
    const up = real[real.length - 2] ?? "";
    const st = await readBindState(sysfs, "pci", name);
    const g = await readIommuGroup(sysfs, "pci", name);
    devs.push({
      name,
      parent: PCI_NAME.test(up) && names.includes(up) ? up : null,
      depth: real.length,
      vendor: await hexAttr(sysfs, `${dp}/vendor`),
      device: await hexAttr(sysfs, `${dp}/device`),
      subvendor: await hexAttr(sysfs, `${dp}/subsystem_vendor`),
      subdevice: await hexAttr(sysfs, `${dp}/subsystem_device`),
      class: await hexAttr(sysfs, `${dp}/class`),
      iommuGroup: g !== null && /^\d+$/.test(g) ? Number(g) : null,
      driver: st.driver,
      override: st.override,
    });
  }
  devs.sort((a, b) => a.depth - b.depth || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));

  // Drivers bound on the host, grouped by module.
  const modules = new Map<string, { builtin: boolean; drivers: Map<string, Record<string, unknown>[]> }>();
  for (const d of devs) {
    if (d.driver === null) continue;
    const link = await readlinkOrNull(sysfs, `/sys/bus/pci/drivers/${d.driver}/module`);
    const mod = link === null ? d.driver.replaceAll("-", "_") : lastComponent(link);
    const m = modules.get(mod) ?? { builtin: link === null, drivers: new Map<string, Record<string, unknown>[]>() };
    modules.set(mod, m);
    const ids = m.drivers.get(d.driver) ?? [];
    m.drivers.set(d.driver, ids);
    if (/vfio/.test(d.driver)) {
      if (ids.length === 0) ids.push({ vendor: "*", device: "*", overrideOnly: true });
    } else if (!ids.some((i) => i.vendor === d.vendor && i.device === d.device && i.subvendor === d.subvendor && i.subdevice === d.subdevice)) {
      ids.push({ vendor: d.vendor, device: d.device, subvendor: d.subvendor, subdevice: d.subdevice });
    }
  }

  const bound: Record<string, string | null> = {};
  for (const d of devs) bound[d.name] = d.driver;
  return {
    name: `snapshot of ${kernelRelease ?? "a sysfs tree"}`,
    description: "Written by `kbind host snapshot` (read only). Driver ID tables are reconstructed from the devices seen bound to them, not read from the .ko files.",
    kernel: { release: kernelRelease ?? "6.1.0-kbind" },
    modules: {
      inline: [...modules.entries()].map(([name, m]) => ({
        name,
        ...(m.builtin ? { builtin: true } : {}),
        drivers: [...m.drivers.entries()].map(([drv, ids]) => ({ name: drv, bus: "pci", ids })),
      })),
    },
    machine: {
      devices: devs.map((d) => ({
        bus: "pci",
        name: d.name,
        ...(d.parent !== null ? { parent: d.parent } : {}),
        vendor: d.vendor,
        device: d.device,
        subvendor: d.subvendor,
        subdevice: d.subdevice,
        class: d.class,
        ...(d.iommuGroup !== null ? { iommuGroup: d.iommuGroup } : {}),
        ...(d.override !== null ? { driverOverride: d.override } : {}),
      })),
    },
    // udev's 80-drivers loads modules by "pci:" MODALIAS; vfio modules only have "vfio_pci:" aliases
    // (override_only entries, file2alias do_pci_entry), so the host loaded them explicitly: replay that.
    script: [
      { settle: true },
      ...[...modules.entries()].filter(([, m]) => !m.builtin && [...m.drivers.keys()].some((d) => /vfio/.test(d))).map(([name]) => ({ modprobe: name })),
      { settle: true },
      { expect: { bound } },
    ],
  };
}

const hexKeys = new Set(["vendor", "device", "subvendor", "subdevice", "class"]);

/** YAML with IDs in hex (0x8086), which the scenario schema reads as numbers. */
export function snapshotToYaml(doc: Record<string, unknown>): string {
  const text = stringify(doc, (key, value: unknown) => value, { lineWidth: 0 });
  // yaml has no per-key number format: rewrite the ID keys' decimal values as hex.
  const out = text.replace(/^(\s*-?\s*)(vendor|device|subvendor|subdevice|class): (\d+)$/gm, (_m, pre: string, k: string, v: string) => {
    const n = Number(v);
    return hexKeys.has(k) ? `${pre}${k}: 0x${n.toString(16).padStart(k === "class" ? 6 : 4, "0")}` : `${pre}${k}: ${v}`;
  });
  return "# kbind host snapshot: a simulator scenario (kbind sim FILE) reproducing this host's PCI binding\n" + out;
}

/** A snapshot scenario (or any scenario with PCI devices) replayed as a temp-dir fake /sys. */
export function scenarioToFakeHost(text: string, file: string): FakeHostDesc {
  const sc: Scenario = loadScenario(text, file).scenario;
  const lastBound: Record<string, string | null> = {};
  for (const a of sc.script) {
    if (a.expect !== undefined && typeof a.expect === "object" && a.expect !== null && a.expect.bound) Object.assign(lastBound, a.expect.bound);
  }
  const drivers: FakeDriverDesc[] = [];
  for (const m of sc.modules.inline) {
    for (const d of m.drivers) {
      if (d.bus !== "pci") continue;
      drivers.push({
        name: d.name,
        module: m.name,
        ids: (d.ids ?? []).map((i) => ({
          vendor: i.vendor,
          device: i.device,
          subvendor: i.subvendor ?? 0xffffffff,
          subdevice: i.subdevice ?? 0xffffffff,
          class: i.class ?? 0,
          classMask: i.classMask ?? 0,
          driverData: i.driverData ?? 0,
          overrideOnly: i.overrideOnly ? 1 : 0,
        })),
      });
    }
  }
  const devices: FakePciDeviceDesc[] = sc.machine.devices
    .filter((d) => d.bus === "pci")
    .map((d) => ({
      addr: d.name,
      vendor: d.vendor ?? 0,
      device: d.device ?? 0,
      subvendor: d.subvendor,
      subdevice: d.subdevice,
      class: d.class ?? 0,
      iommuGroup: d.iommuGroup ?? null,
      override: d.driverOverride ?? null,
      driver: lastBound[d.name] ?? null,
    }));
  return { kernelRelease: sc.kernel.release, drivers, devices };
}

/**
 * Adds the vfio modules a switch may load (every module named by a vfio_pci: alias, and vfio_pci)
 * as not-yet-loaded drivers with override-only catch-all tables: a sandbox of the host where
 * `modprobe` works. vfio_pci registers "vfio-pci" (drivers/vfio/pci/vfio_pci.c); other variant
 * modules are assumed to name their driver after the module. Their probe needs an IOMMU group.
 */
export function withVfioModules(desc: FakeHostDesc, aliases: readonly VfioAliasEntry[] | null): FakeHostDesc {
  const mods = new Set(["vfio_pci", ...(aliases ?? []).map((a) => a.module.replaceAll("-", "_"))]);
  const have = new Set(desc.drivers.map((d) => d.module.replaceAll("-", "_")));
  const extra: FakeDriverDesc[] = [...mods]
    .filter((m) => !have.has(m))
    .map((m) => ({
      name: m === "vfio_pci" ? "vfio-pci" : m,
      module: m,
      ids: [{ vendor: 0xffffffff, device: 0xffffffff, subvendor: 0xffffffff, subdevice: 0xffffffff, class: 0, classMask: 0, driverData: 0, overrideOnly: 1 }],
      loaded: false,
      needsIommuGroup: true,
    }));
  return { ...desc, drivers: [...desc.drivers.map((d) => (/vfio/.test(d.name) ? { ...d, needsIommuGroup: true } : d)), ...extra] };
}
