// A temp-dir fake /sys for tests: real files and symlinks laid out like the kernel's sysfs, with the
// kernel's side effects applied when a write completes — the way libvirt's tests/virpcimock.c reacts
// on close() of drivers/<d>/bind|unbind, drivers_probe, driver_override and new_id. Writes go through
// RealSysfs (open/write/close on the real file), so the real adapter's code path is exercised; the
// side effect then reads the file back, applies the kernel semantics and re-renders what show()
// would print, or fails with the errno the kernel's store() returns.
//
// Kernel semantics reproduced (shared/reference/kernel.md §1.5, §1.9, §2.1, §2.4):
//  driver_override  driver_set_override(): len >= PAGE_SIZE-1 → EINVAL; cut at NUL then first "\n";
//                   empty → cleared; show "%s\n" or "(null)\n".
//  unbind           unbind_store: device found and bound to this driver → release, else ENODEV.
//  bind             bind_store: no device / no match → ENODEV; already bound → EBUSY; probe error →
//                   that errno (EPROBE_DEFER → EAGAIN, device_driver_attach).
//  drivers_probe    no device → ENODEV; unbound → device_attach: drivers in registration order, the
//                   first that matches (pci_match_device: override, dynids, table, override_any) and
//                   probes OK binds; probe failures are skipped; returns count even if none bound.
//  new_id           "vendor device [subvendor subdevice class class_mask driver_data]" (hex) → a
//                   dynid, then driver_attach; fewer than 2 fields → EINVAL; duplicate → EEXIST.
//  modprobe         (the fake's ModprobePort) registers the module's drivers → driver_attach.
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, unlinkSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import type { ErrnoName } from "../model/errno.ts";
import { pciClassAttr, pciMatchDevice, pciModalias, PCI_ANY_ID, type PciDeviceId, type PciIdentity } from "../model/pci.ts";
import { SysfsError, type ModprobePort, type ProcessResult, type SysfsPort } from "../ports.ts";
import { RealSysfs } from "./sysfs-real.ts";

export interface FakeNetDesc {
  name: string;
  up: boolean;
}
export interface FakeBlockDesc {
  name: string;
  /** MAJ:MIN */
  dev: string;
  partitions?: { name: string; dev: string }[];
}
export interface FakePciDeviceDesc {
  addr: string;
  vendor: number;
  device: number;
  subvendor?: number;
  subdevice?: number;
  class: number;
  iommuGroup?: number | null;
  /** Bound at creation (must be a loaded driver). */
  driver?: string | null;
  override?: string | null;
  net?: FakeNetDesc[];
  block?: FakeBlockDesc[];
}
export interface FakeDriverDesc {
  name: string;
  module: string;
  ids?: PciDeviceId[];
  /** Registered at creation (default true); false = modprobe loads it. */
  loaded?: boolean;
  /** What probe() returns: "ok" (default) or an errno. */
  probe?: "ok" | ErrnoName;
  /** A vfio driver: probe fails with EINVAL on a device without an IOMMU group
   *  (vfio_pci_core_register_device → vfio_iommu_group_get, without enable_unsafe_noiommu_mode). */
  needsIommuGroup?: boolean;
}
export interface FakeHostDesc {
  devices: FakePciDeviceDesc[];
  drivers: FakeDriverDesc[];
  mountinfo?: string;
  kernelRelease?: string;
}

interface DevState {
  desc: FakePciDeviceDesc;
  id: PciIdentity;
  driver: string | null;
  override: string | null;
}
interface DrvState {
  desc: FakeDriverDesc;
  loaded: boolean;
  dynids: PciDeviceId[];
  probe: "ok" | ErrnoName;
}

const PAGE_SIZE = 4096;
const hex4 = (v: number): string => `0x${v.toString(16).padStart(4, "0")}`;
const modDir = (m: string): string => m.replaceAll("-", "_");
/** sysfs_streq(): equal up to one trailing newline on either side. */
const streqName = (s: string): string => (s.endsWith("\n") ? s.slice(0, -1) : s);

export class TmpdirSysfs implements SysfsPort {
  readonly root: string;
  readonly real: RealSysfs;
  readonly writes: { path: string; data: string; result: number | ErrnoName }[] = [];
  private readonly devs = new Map<string, DevState>();
  private readonly drvs = new Map<string, DrvState>();
  private readonly kernelRelease: string;

  private constructor(root: string, desc: FakeHostDesc) {
    this.root = root;
    this.real = new RealSysfs(root);
    this.kernelRelease = desc.kernelRelease ?? "6.1.0-fake";
    for (const d of ["sys/bus/pci/devices", "sys/bus/pci/drivers", "sys/devices/pci0000:00", "sys/module", "sys/kernel/iommu_groups", "sys/class/net", "sys/block", "proc/self"]) {
      mkdirSync(join(root, d), { recursive: true });
    }
    writeFileSync(join(root, "sys/bus/pci/drivers_probe"), "");
    writeFileSync(join(root, "sys/bus/pci/drivers_autoprobe"), "1\n");
    writeFileSync(join(root, "proc/self/mountinfo"), desc.mountinfo ?? "");
    for (const d of desc.drivers) {
      this.drvs.set(d.name, { desc: d, loaded: false, dynids: [], probe: d.probe ?? "ok" });
      if (d.loaded ?? true) this.registerDriver(d.name, false);
    }
    for (const d of desc.devices) this.addDevice(d);
  }

  /** Builds the tree in a new temp dir (or `dir`, which must be empty or absent). */
  static create(desc: FakeHostDesc, dir?: string): TmpdirSysfs {
    const root = dir ?? mkdtempSync(join(tmpdir(), "kbind-sysfs-"));
    mkdirSync(root, { recursive: true });
    return new TmpdirSysfs(root, desc);
  }

  dispose(): void {
    rmSync(this.root, { recursive: true, force: true });
  }

  get mountinfoPath(): string {
    return join(this.root, "proc/self/mountinfo");
  }

  /** Changes what a driver's probe() returns from now on (fault injection). */
  setProbe(driver: string, probe: "ok" | ErrnoName): void {
    const d = this.drvs.get(driver);
    if (!d) throw new Error(`no fake driver ${driver}`);
    d.probe = probe;
  }

  /** The model's view (for assertions), independent of the files. */
  state(addr: string): { driver: string | null; override: string | null } {
    const d = this.devs.get(addr);
    if (!d) throw new Error(`no fake device ${addr}`);
    return { driver: d.driver, override: d.override };
  }

  // --- SysfsPort --------------------------------------------------------------------------------
  read(path: string): Promise<string> {
    return this.real.read(path);
  }
  readlink(path: string): Promise<string | null> {
    return this.real.readlink(path);
  }
  list(dir: string): Promise<string[]> {
    return this.real.list(dir);
  }
  exists(path: string): Promise<boolean> {
    return this.real.exists(path);
  }
  async write(path: string, data: string): Promise<number> {
    let n: number;
    try {
      n = await this.real.write(path, data);
      const host = realpathSync(this.real.hostPath(path));
      const rel = relative(join(this.root, "sys"), host);
      this.onClose(rel, readFileSync(host, "latin1"), path);
    } catch (e) {
      this.writes.push({ path, data, result: e instanceof SysfsError ? e.errno : "EIO" });
      throw e;
    }
    this.writes.push({ path, data, result: n });
    return n;
  }

  /** modprobe(8) on this fake: loads the named module (registers its drivers → driver_attach). */
  modprobePort(): ModprobePort {
    return {
      modprobe: (args: readonly string[]): Promise<ProcessResult> => {
        const names = args.filter((a) => !a.startsWith("-"));
        const name = names[0];
        if (name === undefined) return Promise.resolve({ code: 1, stdout: "", stderr: "modprobe: FATAL: missing module name.\n" });
        const drivers = [...this.drvs.values()].filter((d) => modDir(d.desc.module) === modDir(name));
        if (drivers.length === 0) {
          return Promise.resolve({ code: 1, stdout: "", stderr: `modprobe: FATAL: Module ${name} not found in directory /lib/modules/${this.kernelRelease}\n` });
        }
        for (const d of drivers) if (!d.loaded) this.registerDriver(d.desc.name, true);
        return Promise.resolve({ code: 0, stdout: "", stderr: "" });
      },
    };
  }

  // --- the kernel's side effects ----------------------------------------------------------------
  private fail(errno: ErrnoName, path: string, what: string): never {
    throw new SysfsError(errno, path, `write ${path}: ${errno} (${what})`);
  }

  private onClose(rel: string, content: string, path: string): void {
    const parts = rel.split("/");
    if (parts[0] === "devices" && parts[parts.length - 1] === "driver_override") {
      const addr = parts[parts.length - 2]!;
      const dev = this.devs.get(addr);
      if (!dev) return;
      // driver_set_override() (drivers/base/driver.c)
      if (content.length >= PAGE_SIZE - 1) {
        this.renderDevice(dev);
        this.fail("EINVAL", path, "len >= PAGE_SIZE - 1");
      }
      let s = content;
      const nul = s.indexOf("\0");
      if (nul >= 0) s = s.slice(0, nul);
      const nl = s.indexOf("\n");
      if (nl >= 0) s = s.slice(0, nl);
      dev.override = s === "" ? null : s;
      this.renderDevice(dev);
      return;
    }
    if (parts[0] === "bus" && parts[1] === "pci") {
      if (parts.length === 3 && parts[2] === "drivers_probe") {
        this.clear(path);
        const dev = this.devs.get(streqName(content));
        if (!dev) this.fail("ENODEV", path, "bus_find_device_by_name found nothing");
        if (dev.driver === null) this.deviceAttach(dev);
        return;
      }
      if (parts.length === 5 && parts[2] === "drivers") {
        const drv = this.drvs.get(parts[3]!);
        if (!drv) return;
        const attr = parts[4];
        this.clear(path);
        if (attr === "unbind") {
          const dev = this.devs.get(streqName(content));
          if (!dev || dev.driver !== drv.desc.name) this.fail("ENODEV", path, "device not bound to this driver");
          this.release(dev);
          return;
        }
        if (attr === "bind") {
          const dev = this.devs.get(streqName(content));
          if (!dev || !this.matches(drv, dev)) this.fail("ENODEV", path, "no such device or driver does not match");
          if (dev.driver !== null) this.fail("EBUSY", path, "device already bound");
          const r = this.probe(drv, dev);
          if (r !== null) this.fail(r === "EPROBE_DEFER" ? "EAGAIN" : r, path, `probe returned ${r}`);
          return;
        }
        if (attr === "new_id") {
          const f = content.trim().split(/\s+/).filter((x) => x !== "");
          const nums = f.map((x) => Number.parseInt(x, 16));
          if (nums.length < 2 || nums.some((v) => !Number.isFinite(v))) this.fail("EINVAL", path, "new_id needs at least vendor and device");
          const id: PciDeviceId = {
            vendor: nums[0]!,
            device: nums[1]!,
            subvendor: nums[2] ?? PCI_ANY_ID,
            subdevice: nums[3] ?? PCI_ANY_ID,
            class: nums[4] ?? 0,
            classMask: nums[5] ?? 0,
            driverData: nums[6] ?? 0,
            overrideOnly: 0,
          };
          if (drv.dynids.some((d) => JSON.stringify(d) === JSON.stringify(id))) this.fail("EEXIST", path, "dynid exists");
          drv.dynids.push(id);
          this.driverAttach(drv);
          return;
        }
      }
    }
  }

  private clear(path: string): void {
    writeFileSync(this.real.hostPath(path), "");
  }

  private matches(drv: DrvState, dev: DevState): boolean {
    return drv.loaded && pciMatchDevice({ name: drv.desc.name, idTable: drv.desc.ids ?? [], dynids: drv.dynids }, dev.id, dev.override) !== null;
  }

  /** really_probe(): binds on "ok", else returns the probe error and leaves the device unbound. */
  private probe(drv: DrvState, dev: DevState): ErrnoName | null {
    if (drv.probe !== "ok") return drv.probe;
    if (drv.desc.needsIommuGroup && dev.desc.iommuGroup == null) return "EINVAL";
    dev.driver = drv.desc.name;
    this.renderDevice(dev);
    return null;
  }

  private deviceAttach(dev: DevState): void {
    for (const drv of this.drvs.values()) {
      if (dev.driver !== null) return;
      if (this.matches(drv, dev)) this.probe(drv, dev);
    }
  }

  private driverAttach(drv: DrvState): void {
    for (const dev of this.devs.values()) if (dev.driver === null && this.matches(drv, dev)) this.probe(drv, dev);
  }

  private release(dev: DevState): void {
    dev.driver = null;
    this.renderDevice(dev);
  }

  // --- rendering the tree ------------------------------------------------------------------------
  private p(rel: string): string {
    return join(this.root, rel);
  }

  private link(rel: string, target: string): void {
    const at = this.p(rel);
    try {
      unlinkSync(at);
    } catch {
      // absent
    }
    symlinkSync(target, at);
  }

  private unlinkIf(rel: string): void {
    try {
      unlinkSync(this.p(rel));
    } catch {
      // absent
    }
  }

  private registerDriver(name: string, attach: boolean): void {
    const drv = this.drvs.get(name)!;
    drv.loaded = true;
    const dd = `sys/bus/pci/drivers/${name}`;
    mkdirSync(this.p(dd), { recursive: true });
    for (const a of ["bind", "unbind", "new_id", "remove_id", "uevent"]) writeFileSync(this.p(`${dd}/${a}`), "");
    const md = `sys/module/${modDir(drv.desc.module)}`;
    mkdirSync(this.p(`${md}/drivers`), { recursive: true });
    if (!existsSync(this.p(`${md}/initstate`))) writeFileSync(this.p(`${md}/initstate`), "live\n");
    this.link(`${md}/drivers/pci:${name}`, `../../../bus/pci/drivers/${name}`);
    this.link(`${dd}/module`, `../../../../module/${modDir(drv.desc.module)}`);
    if (attach) this.driverAttach(drv);
  }

  private addDevice(d: FakePciDeviceDesc): void {
    const id: PciIdentity = { vendor: d.vendor, device: d.device, subvendor: d.subvendor ?? d.vendor, subdevice: d.subdevice ?? d.device, class: d.class };
    const dev: DevState = { desc: d, id, driver: null, override: d.override ?? null };
    this.devs.set(d.addr, dev);
    const dd = `sys/devices/pci0000:00/${d.addr}`;
    mkdirSync(this.p(dd), { recursive: true });
    writeFileSync(this.p(`${dd}/vendor`), `${hex4(id.vendor)}\n`);
    writeFileSync(this.p(`${dd}/device`), `${hex4(id.device)}\n`);
    writeFileSync(this.p(`${dd}/subsystem_vendor`), `${hex4(id.subvendor)}\n`);
    writeFileSync(this.p(`${dd}/subsystem_device`), `${hex4(id.subdevice)}\n`);
    writeFileSync(this.p(`${dd}/class`), `${pciClassAttr(id)}\n`);
    writeFileSync(this.p(`${dd}/modalias`), `${pciModalias(id)}\n`);
    this.link(`${dd}/subsystem`, "../../../bus/pci");
    this.link(`sys/bus/pci/devices/${d.addr}`, `../../../devices/pci0000:00/${d.addr}`);
    if (d.iommuGroup != null) {
      const g = `sys/kernel/iommu_groups/${d.iommuGroup}/devices`;
      mkdirSync(this.p(g), { recursive: true });
      this.link(`${g}/${d.addr}`, `../../../../devices/pci0000:00/${d.addr}`);
      this.link(`${dd}/iommu_group`, `../../../kernel/iommu_groups/${d.iommuGroup}`);
    }
    for (const n of d.net ?? []) {
      const nd = `${dd}/net/${n.name}`;
      mkdirSync(this.p(nd), { recursive: true });
      writeFileSync(this.p(`${nd}/operstate`), n.up ? "up\n" : "down\n");
      writeFileSync(this.p(`${nd}/flags`), n.up ? "0x1003\n" : "0x1002\n");
      this.link(`${nd}/device`, "../../../" + d.addr);
      this.link(`sys/class/net/${n.name}`, `../../devices/pci0000:00/${d.addr}/net/${n.name}`);
    }
    for (const b of d.block ?? []) {
      const bd = `${dd}/block/${b.name}`;
      mkdirSync(this.p(bd), { recursive: true });
      writeFileSync(this.p(`${bd}/dev`), `${b.dev}\n`);
      for (const part of b.partitions ?? []) {
        mkdirSync(this.p(`${bd}/${part.name}`), { recursive: true });
        writeFileSync(this.p(`${bd}/${part.name}/dev`), `${part.dev}\n`);
      }
      this.link(`sys/block/${b.name}`, `../devices/pci0000:00/${d.addr}/block/${b.name}`);
    }
    if (d.driver != null) {
      const drv = this.drvs.get(d.driver);
      if (!drv?.loaded) throw new Error(`fake device ${d.addr}: driver ${d.driver} is not a loaded fake driver`);
      dev.driver = d.driver;
    }
    this.renderDevice(dev);
  }

  /** Re-renders what depends on binding state: driver links, driver_override, uevent. */
  private renderDevice(dev: DevState): void {
    const addr = dev.desc.addr;
    const dd = `sys/devices/pci0000:00/${addr}`;
    writeFileSync(this.p(`${dd}/driver_override`), `${dev.override ?? "(null)"}\n`);
    for (const name of this.drvs.keys()) this.unlinkIf(`sys/bus/pci/drivers/${name}/${addr}`);
    if (dev.driver === null) {
      this.unlinkIf(`${dd}/driver`);
    } else {
      this.link(`${dd}/driver`, `../../../bus/pci/drivers/${dev.driver}`);
      this.link(`sys/bus/pci/drivers/${dev.driver}/${addr}`, `../../../../devices/pci0000:00/${addr}`);
    }
    const c = dev.id.class;
    const uevent = [
      ...(dev.driver === null ? [] : [`DRIVER=${dev.driver}`]),
      `PCI_CLASS=${c.toString(16).toUpperCase()}`,
      `PCI_ID=${dev.id.vendor.toString(16).toUpperCase().padStart(4, "0")}:${dev.id.device.toString(16).toUpperCase().padStart(4, "0")}`,
      `PCI_SUBSYS_ID=${dev.id.subvendor.toString(16).toUpperCase().padStart(4, "0")}:${dev.id.subdevice.toString(16).toUpperCase().padStart(4, "0")}`,
      `PCI_SLOT_NAME=${addr}`,
      `MODALIAS=${pciModalias(dev.id)}`,
    ];
    writeFileSync(this.p(`${dd}/uevent`), uevent.join("\n") + "\n");
  }
}
