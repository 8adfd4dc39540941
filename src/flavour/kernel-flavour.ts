// Design (a) on the driver core model (src/kernel): driver_flavour as an extension of the pluggable
// PCI and platform bus types, with no edit to the core. installDriverFlavour() wraps the registered
// bus types (Kernel.setBusType) so that
// - a device gets a `driver_flavour` attribute (0644; show: the flavour or an empty line);
// - with a flavour set (and no driver_override), bus->match() sees only the entries tagged with that
//   flavour: PCI override_only flags generalise to flavour names (PCI_ID_F_VFIO_DRIVER_OVERRIDE →
//   "vfio"), platform drivers declare flavour OF entries ("*" = the flavour's universal driver);
//   ordinary entries stop matching, so no host driver binds a device in vfio mode;
// - storing a flavour requests "<flavour>_<bus>:<modalias body>" (request_module, wait), ranks the
//   loaded candidates (most specific entry first, the universal one last, registration order for
//   ties), and only then unbinds the current driver and attaches the best candidate; with no
//   candidate the store fails -ENODEV and nothing changes. An empty store clears the flavour,
//   releases a flavour driver and runs device_attach() for the host driver.
// driver_override keeps precedence: with an override the base match rules apply unchanged.
import { ERRNO } from "../model/errno.ts";
import { ofDeviceIsCompatible } from "../model/of.ts";
import { PCI_ID_F_VFIO_DRIVER_OVERRIDE, pciMatchOneDevice, pciModalias } from "../model/pci.ts";
import type { Kernel } from "../kernel/kernel.ts";
import { CALL_MODPROBE_ENV } from "../kernel/request-module.ts";
import type { BusType, Device, Driver, SysfsAttr } from "../kernel/types.ts";
import { pciDevData, pciDrvData } from "../kernel/bus/pci.ts";
import { platformDevData } from "../kernel/bus/platform.ts";
import { FLAVOUR_VFIO, type FlavouredPciId } from "./catalogue.ts";
import { pciSpecificity } from "./catalogue.ts";

const EXT = "driver_flavour";

export interface FlavourInstallOptions {
  /** override_only flag bits → flavour name. Default: PCI_ID_F_VFIO_DRIVER_OVERRIDE → "vfio". */
  pciFlagFlavours?: Readonly<Record<number, string>>;
  /** Platform drivers' flavour entries: driver name → flavour and OF compatibles ("*" = universal). */
  platform?: Readonly<Record<string, { flavour: string; compatible: readonly string[] }>>;
}

export function flavourOf(dev: Device): string | null {
  const f = dev.ext.get(EXT);
  return typeof f === "string" ? f : null;
}

/** Specificity of the best entry of `drv` tagged `flavour` that matches `dev`; -1 for none. */
export function flavourScore(dev: Device, drv: Driver, flavour: string, opts: FlavourInstallOptions): number {
  const flags = opts.pciFlagFlavours ?? { [PCI_ID_F_VFIO_DRIVER_OVERRIDE]: FLAVOUR_VFIO };
  if (dev.bus?.name === "pci" && drv.bus.name === "pci") {
    const ident = pciDevData(dev).identity;
    let best = -1;
    for (const id of pciDrvData(drv).idTable ?? []) {
      if (id.vendor === 0 && id.subvendor === 0 && id.classMask === 0) break; // table terminator
      if (id.overrideOnly === 0 || flags[id.overrideOnly] !== flavour || !pciMatchOneDevice(id, ident)) continue;
      best = Math.max(best, pciSpecificity({ ...id, flavour } satisfies FlavouredPciId));
    }
    return best;
  }
  if (dev.bus?.name === "platform" && drv.bus.name === "platform") {
    const spec = opts.platform?.[drv.name];
    const node = platformDevData(dev).of;
    if (spec?.flavour !== flavour || !node) return -1;
    let best = -1;
    for (const c of spec.compatible) {
      if (c === "*") best = Math.max(best, 0);
      else {
        const s = ofDeviceIsCompatible(node, c, "", "");
        if (s > 0) best = Math.max(best, s);
      }
    }
    return best;
  }
  return -1;
}

/** The loaded drivers a flavoured device could take, best first. */
export function flavourCandidates(k: Kernel, dev: Device, flavour: string, opts: FlavourInstallOptions): Driver[] {
  if (!dev.bus) return [];
  return dev.bus.drivers
    .map((d, i) => ({ d, i, s: flavourScore(dev, d, flavour, opts) }))
    .filter((x) => x.s >= 0)
    .sort((a, b) => b.s - a.s || a.i - b.i)
    .map((x) => x.d);
}

function flavourAlias(k: Kernel, dev: Device, flavour: string): string | null {
  const m = dev.bus?.type.modalias?.(dev, k)?.[0];
  if (m === undefined) return null;
  return `${flavour}_${dev.bus!.name}:${m.slice(m.indexOf(":") + 1)}`;
}

/**
 * The module request design (a) needs. __request_module() formats the name into a
 * char module_name[MODULE_NAME_LEN] buffer (56 bytes on 64-bit) and returns -ENAMETOOLONG past it,
 * and a flavour alias is longer ("vfio_pci:" + a 49-character PCI modalias body = 58). The design
 * therefore adds request_module_alias(): the same usermode helper call (call_modprobe(): argv
 * {modprobe_path, "-q", "--", alias}, UMH_WAIT_PROC) with the alias passed through unbounded.
 */
export function requestModuleAlias(k: Kernel, alias: string, device: string): number {
  const call = k.host.callModprobe;
  if (!call) return -ERRNO.ENOENT;
  k.trace({ kind: "request_module", text: `request_module_alias: ${alias} wait=1`, module: alias, device });
  return call(["/sbin/modprobe", "-q", "--", alias], { ...CALL_MODPROBE_ENV }, true);
}

function driverFlavourAttr(known: ReadonlySet<string>, opts: FlavourInstallOptions): SysfsAttr<Device> {
  return {
    mode: 0o644,
    show: (dev) => `${flavourOf(dev) ?? ""}\n`,
    store: (dev, buf, k) => {
      const nl = buf.indexOf("\n");
      const want = nl >= 0 ? buf.slice(0, nl) : buf;
      if (want === "") {
        const had = flavourOf(dev);
        dev.ext.delete(EXT);
        if (had !== null && dev.driver && flavourScore(dev, dev.driver, had, opts) >= 0) k.deviceReleaseDriver(dev);
        if (!dev.driver) k.deviceAttach(dev);
        return buf.length;
      }
      if (!known.has(want)) return -ERRNO.EINVAL;
      const alias = flavourAlias(k, dev, want);
      if (alias !== null) requestModuleAlias(k, alias, dev.name);
      const cands = flavourCandidates(k, dev, want, opts);
      if (cands.length === 0) return -ERRNO.ENODEV;
      dev.ext.set(EXT, want);
      if (dev.driver && dev.driver === cands[0]) return buf.length;
      if (dev.driver) k.deviceReleaseDriver(dev);
      let ret = -ERRNO.ENODEV;
      for (const c of cands) {
        ret = k.deviceDriverAttach(c, dev);
        if (ret === 0) break;
      }
      return ret === 0 ? buf.length : ret;
    },
  };
}

const VF_EXT = "sriov_vf_flavour";

/**
 * SR-IOV under design (a): a PF attribute `sriov_vf_flavour` (0644, PFs only) names the flavour its
 * VFs get. The sriov_numvfs store first requests the VF flavour alias and waits (in the writer's
 * context, as for driver_flavour), then creates the VFs; pci_device_add() gives each VF the flavour
 * before its initial probe (here: the bus's onDeviceAdd), so a VF binds straight to the ranked vfio
 * driver, never to the host driver and never to an already-loaded universal vfio-pci first.
 */
function sriovAttrs(base: BusType, known: ReadonlySet<string>): Record<string, SysfsAttr<Device>> {
  const numvfs = base.deviceAttrs?.sriov_numvfs;
  if (!numvfs?.store) return {};
  const baseStore = numvfs.store;
  return {
    sriov_vf_flavour: {
      mode: 0o644,
      visible: (dev) => pciDevData(dev).sriov !== null,
      show: (dev) => `${typeof dev.ext.get(VF_EXT) === "string" ? String(dev.ext.get(VF_EXT)) : ""}\n`,
      store: (dev, buf) => {
        const nl = buf.indexOf("\n");
        const want = nl >= 0 ? buf.slice(0, nl) : buf;
        if (want === "") dev.ext.delete(VF_EXT);
        else if (!known.has(want)) return -ERRNO.EINVAL;
        else dev.ext.set(VF_EXT, want);
        return buf.length;
      },
    },
    sriov_numvfs: {
      ...numvfs,
      store: (dev, buf, k) => {
        const f = dev.ext.get(VF_EXT);
        const p = pciDevData(dev);
        if (typeof f === "string" && p.sriov && Number(buf.trim()) > 0 && p.sriov.numVFs === 0) {
          const vf = pciModalias({ ...p.identity, device: p.sriov.vfDevice });
          requestModuleAlias(k, `${f}_pci:${vf.slice(vf.indexOf(":") + 1)}`, dev.name);
        }
        return baseStore(dev, buf, k);
      },
    },
  };
}

function wrap(base: BusType, attr: SysfsAttr<Device>, opts: FlavourInstallOptions, known: ReadonlySet<string>): BusType {
  const reprobe = base.name === "pci";
  return {
    ...base,
    onDeviceAdd: (dev, k) => {
      base.onDeviceAdd?.(dev, k);
      if (base.name !== "pci") return;
      const f = pciDevData(dev).physfn?.ext.get(VF_EXT);
      if (typeof f === "string") dev.ext.set(EXT, f);
    },
    match: (dev, drv, k) => {
      const f = flavourOf(dev);
      if (f === null || dev.driverOverride !== null) return base.match ? base.match(dev, drv, k) : 1;
      if (base.name === "pci" && !pciDevData(dev).allowBinding) return 0;
      const score = flavourScore(dev, drv, f, opts);
      if (score < 0) return 0;
      // __device_attach() walks the drivers in registration order and binds the first that
      // matches and probes; under a flavour the design ranks instead, so only the best-ranked
      // loaded drivers match (initial probe of a flavoured VF, drivers_probe, a registration).
      let best = score;
      for (const d of dev.bus?.drivers ?? []) if (d !== drv) best = Math.max(best, flavourScore(dev, d, f, opts));
      return score >= best ? 1 : 0;
    },
    probe: (dev, drv, k) => {
      const f = flavourOf(dev);
      const call = (): number => (base.probe ? base.probe(dev, drv, k) : drv.probe(dev, k));
      if (f === null || dev.driverOverride !== null || !reprobe) return call();
      // pci_device_probe() re-runs pci_match_device(); under a flavour the flavour entry is what
      // probe() receives, which the base rules hand out only with an override naming the driver.
      dev.driverOverride = drv.name;
      try {
        return call();
      } finally {
        dev.driverOverride = null;
      }
    },
    deviceAttrs: { ...base.deviceAttrs, driver_flavour: attr, ...(base.name === "pci" ? sriovAttrs(base, known) : {}) },
  };
}

/** Wraps the kernel's pci and platform bus types with driver_flavour. Returns the flavours known. */
export function installDriverFlavour(k: Kernel, opts: FlavourInstallOptions = {}): ReadonlySet<string> {
  const known = new Set<string>([...Object.values(opts.pciFlagFlavours ?? { [PCI_ID_F_VFIO_DRIVER_OVERRIDE]: FLAVOUR_VFIO }), ...Object.values(opts.platform ?? {}).map((p) => p.flavour)]);
  const attr = driverFlavourAttr(known, opts);
  for (const name of ["pci", "platform"]) if (k.buses.has(name)) k.setBusType(name, wrap(k.bus(name).type, attr, opts, known));
  return known;
}

const RESET_EXT = "vfio_platform_reset";

/** The reset module vfio-platform's probe found for a device (vdev->reset_fn's owner), or null. */
export function vfioPlatformResetModule(dev: Device): string | null {
  const m = dev.ext.get(RESET_EXT);
  return typeof m === "string" ? m : null;
}

/**
 * vfio-platform's probe on the driver core model: vfio_platform_get_reset() then, with
 * reset_required (the default), -ENOENT and "No reset function found" when no handler exists.
 * `lookup: "first"` is upstream (vdev->compat = the first compatible string); "all" is done right.
 */
export function vfioPlatformProbe(resetModules: Readonly<Record<string, string>>, lookup: "first" | "all"): (dev: Device, k: Kernel) => number {
  return (dev, k) => {
    const node = platformDevData(dev).of;
    if (!node) return -ERRNO.ENOENT;
    const live = (c: string): boolean => {
      const m = resetModules[c];
      return m !== undefined && k.modules.get(m)?.state === "live";
    };
    const found = (c: string): number => {
      dev.ext.set(RESET_EXT, resetModules[c]);
      return 0;
    };
    dev.ext.delete(RESET_EXT);
    for (const c of lookup === "first" ? node.compatible.slice(0, 1) : node.compatible) {
      if (live(c)) return found(c);
      k.requestModule(`vfio-reset:${c}`, true);
      if (live(c)) return found(c);
    }
    k.trace({ kind: "probe", text: `vfio-platform ${dev.name}: No reset function found for device ${dev.name}`, device: dev.name, errno: -ERRNO.ENOENT });
    return -ERRNO.ENOENT;
  };
}
