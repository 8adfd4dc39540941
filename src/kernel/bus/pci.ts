// The PCI bus: drivers/pci/pci-driver.c (pci_bus_match, pci_device_probe, pci_uevent, new_id_store,
// remove_id_store, pci_add_dynid), drivers/pci/pci-sysfs.c (vendor/device/... attributes, modalias,
// driver_override), drivers/pci/iov.c (sriov_* attributes, pci_enable_sriov/pci_disable_sriov, virtfn
// and physfn links), drivers/pci/bus.c (pci_bus_add_device: PCI_DEV_ALLOW_BINDING).
import { ERRNO } from "../../model/errno.ts";
import {
  PCI_ANY_ID,
  isPciTableTerminator,
  pciClassAttr,
  pciIdAttr,
  pciMatchDevice,
  pciModalias,
  pciUeventVars,
  type PciDeviceId,
  type PciIdentity,
  type PciMatch,
} from "../../model/pci.ts";
import type { Kernel } from "../kernel.ts";
import type { Bus, BusType, Device, Driver, DriverSpec, SysfsAttr } from "../types.ts";
import { kstrtobool, kstrtoull, sscanfHex } from "../kstrto.ts";
import { driverAttach } from "../probe.ts";

export interface SriovState {
  totalVFs: number;
  numVFs: number;
  /** sriov_drivers_autoprobe (default 1). */
  driversAutoprobe: boolean;
  offset: number;
  stride: number;
  /** VF device ID (sriov_vf_device). */
  vfDevice: number;
}

/** The PCI part of struct pci_dev. */
export interface PciDevData {
  identity: PciIdentity;
  /** PCI_DEV_ALLOW_BINDING: set by pci_bus_add_device(). */
  allowBinding: boolean;
  isVirtfn: boolean;
  physfn: Device | null;
  sriov: SriovState | null;
  virtfns: Device[];
  /** The id pci_match_device() found for the bound driver (what probe() received). */
  boundId: PciMatch | null;
}

/** struct pci_driver's matching data. */
export interface PciDriverData {
  idTable: PciDeviceId[] | null;
  /** drv->dynids.list, in new_id order. */
  dynids: PciDeviceId[];
  /** Has ->sriov_configure (PF drivers that create VFs on sriov_numvfs writes). */
  sriovConfigure: boolean;
  /** Cache of the vendors the idTable names (see vendorsOf); undefined until first computed. */
  tableVendors?: ReadonlySet<number> | null;
}

export function pciDevData(dev: Device): PciDevData {
  return dev.data as PciDevData;
}

export function pciDrvData(drv: Driver): PciDriverData {
  return drv.data as PciDriverData;
}

/** Device data for a PCI function (use as DeviceAddOptions.data on bus "pci"). */
export function newPciDevData(identity: PciIdentity, sriov?: Omit<SriovState, "numVFs" | "driversAutoprobe"> & Partial<SriovState>): PciDevData {
  return {
    identity,
    allowBinding: false,
    isVirtfn: false,
    physfn: null,
    sriov: sriov ? { numVFs: 0, driversAutoprobe: true, ...sriov } : null,
    virtfns: [],
    boundId: null,
  };
}

/** A PCI driver spec for driverRegister / a ModuleImage. */
export function pciDriverSpec(
  name: string,
  idTable: PciDeviceId[] | null,
  opts: Omit<DriverSpec, "name" | "bus" | "data"> & { sriovConfigure?: boolean } = {},
): DriverSpec {
  const { sriovConfigure, ...rest } = opts;
  const data: PciDriverData = { idTable, dynids: [], sriovConfigure: sriovConfigure ?? false };
  return { ...rest, name, bus: "pci", data };
}

/**
 * Vendors named by an ID table (null when an entry has PCI_ANY_ID as vendor): a pre-filter only, exact
 * because an entry whose vendor is neither PCI_ANY_ID nor the device's cannot match (pci_match_one_device).
 * Tables are immutable once registered (new_id goes to dynids), so the set is computed once per driver.
 */
function vendorsOf(d: PciDriverData): ReadonlySet<number> | null {
  if (d.tableVendors === undefined) {
    const t = d.idTable ?? [];
    d.tableVendors = t.some((id) => id.vendor === PCI_ANY_ID) ? null : new Set(t.map((id) => id.vendor));
  }
  return d.tableVendors;
}

/** Per bus: devices by vendor, kept by onDeviceAdd/onDeviceRemove (driver_attach pre-filter). */
const byVendor = new WeakMap<Bus, Map<number, Device[]>>();
function vendorIndex(bus: Bus): Map<number, Device[]> {
  let m = byVendor.get(bus);
  if (!m) byVendor.set(bus, (m = new Map<number, Device[]>()));
  return m;
}

/**
 * The devices pciBusMatch can accept for `drv`: those whose vendor the id_table names, plus every device
 * with a driver_override (which may name the driver). Null (walk everything) with dynids or a
 * PCI_ANY_ID vendor entry.
 */
function pciAttachCandidates(drv: Driver, bus: Bus): Iterable<Device> | null {
  const d = pciDrvData(drv);
  if (d.dynids.length > 0 || !d.idTable) return d.dynids.length > 0 ? null : bus.overridden;
  const vendors = vendorsOf(d);
  if (vendors === null) return null;
  const idx = vendorIndex(bus);
  const out: Device[] = [...bus.overridden];
  for (const v of vendors) {
    const list = idx.get(v);
    if (list) for (const dev of list) out.push(dev);
  }
  return out;
}

function matchFor(dev: Device, drv: Driver): PciMatch | null {
  const d = pciDrvData(drv);
  if (dev.driverOverride === null && d.dynids.length === 0) {
    if (!d.idTable) return null;
    const vendors = vendorsOf(d);
    if (vendors !== null && !vendors.has(pciDevData(dev).identity.vendor)) return null;
  }
  return pciMatchDevice({ name: drv.name, idTable: d.idTable, dynids: d.dynids }, pciDevData(dev).identity, dev.driverOverride);
}

/** pci_device_can_probe(): a VF whose PF has sriov_drivers_autoprobe=0 probes only with an override. */
function pciDeviceCanProbe(dev: Device): boolean {
  const p = pciDevData(dev);
  if (!p.isVirtfn) return true;
  return (p.physfn ? pciDevData(p.physfn).sriov?.driversAutoprobe ?? true : true) || dev.driverOverride !== null;
}

const ro = (show: (dev: Device) => string): SysfsAttr<Device> => ({ mode: 0o444, show: (d) => show(d) });

/** "pci_name" for a routing id on a domain: %04x:%02x:%02x.%d. */
export function pciSlotName(domain: number, rid: number): string {
  const h = (v: number, w: number): string => v.toString(16).padStart(w, "0");
  return `${h(domain, 4)}:${h((rid >> 8) & 0xff, 2)}:${h((rid >> 3) & 0x1f, 2)}.${rid & 7}`;
}

function parseSlot(name: string): { domain: number; rid: number } | null {
  const m = /^([0-9a-f]{4}):([0-9a-f]{2}):([0-9a-f]{2})\.([0-7])$/.exec(name);
  if (!m) return null;
  return { domain: parseInt(m[1]!, 16), rid: (parseInt(m[2]!, 16) << 8) | (parseInt(m[3]!, 16) << 3) | parseInt(m[4]!, 10) };
}

function nextIommuGroup(k: Kernel): number {
  let max = -1;
  for (const d of k.devicesByPath.values()) if (d.iommuGroup !== null && d.iommuGroup > max) max = d.iommuGroup;
  return max + 1;
}

/** pci_enable_sriov() via the PF driver's sriov_configure: VFs are added (ADD uevent, then probe). */
export function pciEnableSriov(k: Kernel, pf: Device, n: number): number {
  const p = pciDevData(pf);
  const sr = p.sriov;
  if (!sr) return -ERRNO.ENODEV;
  const slot = parseSlot(pf.name);
  if (!slot) return -ERRNO.EINVAL;
  sr.numVFs = n;
  for (let i = 0; i < n; i++) {
    const rid = slot.rid + sr.offset + sr.stride * i;
    const id: PciIdentity = { ...p.identity, device: sr.vfDevice };
    const data: PciDevData = { ...newPciDevData(id), isVirtfn: true, physfn: pf };
    const vf = k.deviceAdd({
      name: pciSlotName(slot.domain, rid),
      bus: "pci",
      parent: pf.parent,
      data,
      iommuGroup: pf.iommuGroup === null ? null : nextIommuGroup(k),
    });
    p.virtfns.push(vf);
  }
  return n;
}

/** pci_disable_sriov(): VFs removed, last first. */
export function pciDisableSriov(k: Kernel, pf: Device): void {
  const p = pciDevData(pf);
  for (let vf = p.virtfns.pop(); vf; vf = p.virtfns.pop()) k.deviceDel(vf);
  if (p.sriov) p.sriov.numVFs = 0;
}

/** sriov_numvfs_store() (drivers/pci/iov.c). */
function sriovNumvfsStore(dev: Device, buf: string, k: Kernel): number {
  const p = pciDevData(dev);
  const sr = p.sriov!;
  const v = kstrtoull(buf, 0xffffn);
  if (typeof v === "number") return v;
  const n = Number(v);
  if (n > sr.totalVFs) return -ERRNO.ERANGE;
  if (n === sr.numVFs) return buf.length;
  const drv = dev.driver;
  if (!drv) {
    k.trace({ kind: "sriov", text: `pci ${dev.name}: no driver bound to device; cannot configure SR-IOV`, device: dev.name, errno: -ERRNO.ENOENT });
    return -ERRNO.ENOENT;
  }
  if (!pciDrvData(drv).sriovConfigure) {
    k.trace({ kind: "sriov", text: `pci ${dev.name}: driver does not support SR-IOV configuration via sysfs`, device: dev.name, errno: -ERRNO.ENOENT });
    return -ERRNO.ENOENT;
  }
  if (n === 0) {
    pciDisableSriov(k, dev);
    return buf.length;
  }
  if (sr.numVFs !== 0) {
    k.trace({ kind: "sriov", text: `pci ${dev.name}: ${sr.numVFs} VFs already enabled. Disable before enabling ${n} VFs`, device: dev.name, errno: -ERRNO.EBUSY });
    return -ERRNO.EBUSY;
  }
  const r = pciEnableSriov(k, dev, n);
  return r < 0 ? r : buf.length;
}

const hasSriov = (d: Device): boolean => pciDevData(d).sriov !== null;

const deviceAttrs: Record<string, SysfsAttr<Device>> = {
  vendor: ro((d) => `${pciIdAttr(pciDevData(d).identity.vendor)}\n`),
  device: ro((d) => `${pciIdAttr(pciDevData(d).identity.device)}\n`),
  subsystem_vendor: ro((d) => `${pciIdAttr(pciDevData(d).identity.subvendor)}\n`),
  subsystem_device: ro((d) => `${pciIdAttr(pciDevData(d).identity.subdevice)}\n`),
  class: ro((d) => `${pciClassAttr(pciDevData(d).identity)}\n`),
  revision: ro((d) => `0x${(pciDevData(d).identity.revision ?? 0).toString(16).padStart(2, "0")}\n`),
  sriov_totalvfs: { ...ro((d) => `${pciDevData(d).sriov!.totalVFs}\n`), visible: hasSriov },
  sriov_numvfs: { mode: 0o644, show: (d) => `${pciDevData(d).sriov!.numVFs}\n`, store: sriovNumvfsStore, visible: hasSriov },
  sriov_offset: { ...ro((d) => `${pciDevData(d).sriov!.offset}\n`), visible: hasSriov },
  sriov_stride: { ...ro((d) => `${pciDevData(d).sriov!.stride}\n`), visible: hasSriov },
  sriov_vf_device: { ...ro((d) => `${pciDevData(d).sriov!.vfDevice.toString(16)}\n`), visible: hasSriov },
  sriov_drivers_autoprobe: {
    mode: 0o644,
    show: (d) => `${pciDevData(d).sriov!.driversAutoprobe ? 1 : 0}\n`,
    store: (d, buf) => {
      const b = kstrtobool(buf);
      if (typeof b === "number") return b;
      pciDevData(d).sriov!.driversAutoprobe = b;
      return buf.length;
    },
    visible: hasSriov,
  },
};

/**
 * new_id_store(): sscanf "%x %x %x %x %x %x %lx"; <2 fields -EINVAL; fewer than 7 and the scratch
 * device already matches -EEXIST; with an id_table the driver_data must equal an entry's, else -EINVAL;
 * pci_add_dynid(): list_add_tail, then driver_attach().
 */
export function pciNewId(k: Kernel, drv: Driver, buf: string): number {
  const f = sscanfHex(buf, [32, 32, 32, 32, 32, 32, 64]);
  if (f.length < 2) return -ERRNO.EINVAL;
  const num = (i: number, dflt: number): number => (i < f.length ? Number(f[i]!) : dflt);
  const id: PciDeviceId = {
    vendor: num(0, 0),
    device: num(1, 0),
    subvendor: num(2, PCI_ANY_ID),
    subdevice: num(3, PCI_ANY_ID),
    class: num(4, 0),
    classMask: num(5, 0),
    driverData: num(6, 0),
    overrideOnly: 0,
  };
  const d = pciDrvData(drv);
  if (f.length !== 7) {
    // A zeroed pci_dev with the given fields (u16 ids, u32 class), no driver_override.
    const scratch: PciIdentity = {
      vendor: id.vendor & 0xffff,
      device: id.device & 0xffff,
      subvendor: id.subvendor & 0xffff,
      subdevice: id.subdevice & 0xffff,
      class: id.class >>> 0,
    };
    if (pciMatchDevice({ name: drv.name, idTable: d.idTable, dynids: d.dynids }, scratch, null)) return -ERRNO.EEXIST;
  }
  if (d.idTable) {
    let ok = false;
    for (const e of d.idTable) {
      if (isPciTableTerminator(e)) break;
      if (e.driverData === id.driverData) {
        ok = true;
        break;
      }
    }
    if (!ok) return -ERRNO.EINVAL;
  }
  d.dynids.push(id);
  k.trace({ kind: "new_id", text: `${drv.name}: new_id ${id.vendor.toString(16)} ${id.device.toString(16)}`, driver: drv.name });
  const r = driverAttach(k, drv);
  return r < 0 ? r : buf.length;
}

/** remove_id_store(): "%x %x %x %x %x %x"; deletes the first matching dynid or -ENODEV. No unbind. */
export function pciRemoveId(drv: Driver, buf: string): number {
  const f = sscanfHex(buf, [32, 32, 32, 32, 32, 32]);
  if (f.length < 2) return -ERRNO.EINVAL;
  const num = (i: number, dflt: number): number => (i < f.length ? Number(f[i]!) : dflt);
  const [vendor, device, subvendor, subdevice, cls, classMask] = [num(0, 0), num(1, 0), num(2, PCI_ANY_ID), num(3, PCI_ANY_ID), num(4, 0), num(5, 0)];
  const d = pciDrvData(drv);
  const i = d.dynids.findIndex(
    (id) =>
      id.vendor === vendor &&
      id.device === device &&
      (subvendor === PCI_ANY_ID || id.subvendor === subvendor) &&
      (subdevice === PCI_ANY_ID || id.subdevice === subdevice) &&
      ((id.class ^ cls) & classMask) >>> 0 === 0,
  );
  if (i < 0) return -ERRNO.ENODEV;
  d.dynids.splice(i, 1);
  return buf.length;
}

/** pci_bus_match(): 0 until PCI_DEV_ALLOW_BINDING, else pci_match_device() != NULL. */
function pciBusMatch(dev: Device, drv: Driver): number {
  if (!pciDevData(dev).allowBinding) return 0;
  return matchFor(dev, drv) ? 1 : 0;
}

export const pciBusType: BusType = {
  name: "pci",
  driverOverride: true,
  match: pciBusMatch,
  attachFilter: { match: pciBusMatch, candidates: pciAttachCandidates },
  /** pci_device_probe(): -ENODEV if !pci_device_can_probe or the id no longer matches; probe >0 is success. */
  probe: (dev, drv, k) => {
    if (!pciDeviceCanProbe(dev)) return -ERRNO.ENODEV;
    const m = matchFor(dev, drv);
    if (!m) return -ERRNO.ENODEV;
    const p = pciDevData(dev);
    p.boundId = m;
    let rc = drv.probe(dev, k);
    if (rc > 0) {
      k.trace({ kind: "probe", text: `${drv.name} ${dev.name}: Driver probe function unexpectedly returned ${rc}`, device: dev.name, driver: drv.name });
      rc = 0;
    }
    if (rc !== 0) p.boundId = null;
    return rc;
  },
  remove: (dev, drv, k) => {
    // A PF driver's remove() disables SR-IOV (pci_disable_sriov) before letting go.
    if (pciDevData(dev).virtfns.length > 0 && pciDrvData(drv).sriovConfigure) pciDisableSriov(k, dev);
    drv.remove?.(dev, k);
    pciDevData(dev).boundId = null;
  },
  uevent: (dev) => pciUeventVars(pciDevData(dev).identity, dev.name),
  modalias: (dev) => [pciModalias(pciDevData(dev).identity)],
  deviceAttrs,
  driverAttrs: {
    new_id: { mode: 0o200, store: (drv, buf, k) => pciNewId(k, drv, buf) },
    remove_id: { mode: 0o200, store: (drv, buf) => pciRemoveId(drv, buf) },
  },
  deviceLinks: (dev) => {
    const p = pciDevData(dev);
    const links: [string, string][] = [];
    if (p.physfn) links.push(["physfn", `../${p.physfn.name}`]);
    p.virtfns.forEach((vf, i) => links.push([`virtfn${i}`, `../${vf.name}`]));
    return links;
  },
  onDeviceAdd: (dev) => {
    const p = pciDevData(dev);
    p.allowBinding = true; // pci_bus_add_device()
    if (dev.bus) {
      const idx = vendorIndex(dev.bus);
      const list = idx.get(p.identity.vendor);
      if (list) list.push(dev);
      else idx.set(p.identity.vendor, [dev]);
    }
  },
  onDeviceRemove: (dev, k) => {
    const p = pciDevData(dev);
    const list = dev.bus ? byVendor.get(dev.bus)?.get(p.identity.vendor) : undefined;
    const at = list ? list.indexOf(dev) : -1;
    if (list && at >= 0) list.splice(at, 1);
    if (p.virtfns.length > 0) pciDisableSriov(k, dev);
    if (p.physfn) {
      const pv = pciDevData(p.physfn).virtfns;
      const i = pv.indexOf(dev);
      if (i >= 0) pv.splice(i, 1);
    }
  },
};
