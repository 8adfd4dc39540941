// sysfs on the kernel model, as a SysfsPort (src/ports.ts): the same userspace code runs on this and
// on a real /sys. Semantics:
// - fs/kernfs/file.c kernfs_fop_open(): sysfs has KERNFS_ROOT_EXTRA_OPEN_PERM_CHECK, so opening an
//   attribute for reading without read bits/show, or for writing without write bits/store, is -EACCES
//   even for root. kernfs_fop_write_iter(): a write longer than PAGE_SIZE is cut to PAGE_SIZE.
// - fs/sysfs/file.c sysfs_kf_write(): a zero-length write returns 0 without calling store().
// - drivers/base/bus.c: bind_store, unbind_store, drivers_probe_store (bus_rescan_devices_helper),
//   drivers_autoprobe_show/store, bus_uevent_store; drivers/base/core.c uevent_show/uevent_store;
//   drivers/base/driver.c driver_set_override; kernel/module/sysfs.c + kernel/params.c (initstate,
//   refcnt, drivers/<bus>:<drv> links).
import { SysfsError, type SysfsPort } from "../ports.ts";
import { ERRNO, errnoName, type ErrnoName } from "../model/errno.ts";
import type { Kernel } from "./kernel.ts";
import type { Bus, Device, Driver, KModule } from "./types.ts";
import { driverMatchDevice } from "./match.ts";
import { deviceAttach } from "./probe.ts";
import { deviceDriverAttach } from "./probe.ts";
import { deviceReleaseDriverInternal } from "./bind.ts";
import { busUevent, devUeventVars, deviceUeventStore, kobjectUevent, moduleUevent, synthStore } from "./uevent.ts";
import { driverOverrideShow, driverSetOverride, PAGE_SIZE } from "./driver-override.ts";

type Show = () => string | number;
type Store = (buf: string) => number;

export type SysfsNode =
  | { kind: "dir"; path: string; list: () => string[]; child: (name: string) => SysfsNode | null }
  | { kind: "attr"; path: string; mode: number; show?: Show; store?: Store }
  | { kind: "link"; path: string; target: string };

/** sysfs_streq(): equal, allowing one trailing newline on either side; the buffer ends at a NUL. */
export function sysfsStreq(name: string, buf: string): boolean {
  const nul = buf.indexOf("\0");
  const b = nul >= 0 ? buf.slice(0, nul) : buf;
  return b === name || b === name + "\n";
}

/** Relative link target from directory `fromDir` to `to` (both absolute). */
export function relativePath(fromDir: string, to: string): string {
  const a = fromDir.split("/").filter(Boolean);
  const b = to.split("/").filter(Boolean);
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return [...Array<string>(a.length - i).fill(".."), ...b.slice(i)].join("/");
}

function dirname(p: string): string {
  return p.slice(0, p.lastIndexOf("/")) || "/";
}

function toErrno(ret: number): ErrnoName {
  return errnoName(ret) ?? "EIO";
}

export class ModelSysfs implements SysfsPort {
  readonly k: Kernel;
  constructor(k: Kernel) {
    this.k = k;
  }

  // ---- the tree -------------------------------------------------------------------------------

  private dir(path: string, entries: () => [string, () => SysfsNode | null][]): SysfsNode {
    return {
      kind: "dir",
      path,
      list: () => entries().filter(([, f]) => f() !== null).map(([n]) => n),
      child: (name) => {
        for (const [n, f] of entries()) if (n === name) return f();
        return null;
      },
    };
  }

  private link(path: string, targetAbs: string): SysfsNode {
    return { kind: "link", path, target: relativePath(dirname(path), targetAbs) };
  }

  root(): SysfsNode {
    return this.dir("/sys", () => [
      ["bus", () => this.busesDir()],
      ["devices", () => this.devicesRoot()],
      ["module", () => this.modulesDir()],
      ["kernel", () => this.dir("/sys/kernel", () => [["iommu_groups", () => this.iommuGroupsDir()]])],
    ]);
  }

  /**
   * /sys/kernel/iommu_groups/<N>/devices/<dev> links (drivers/iommu/iommu.c iommu_group_add_device),
   * so that a device's iommu_group link resolves. The groups' other attributes (type,
   * reserved_regions) depend on the IOMMU driver and are not modelled.
   */
  private iommuGroupsDir(): SysfsNode {
    const members = (): Map<string, Device[]> => {
      const m = new Map<string, Device[]>();
      for (const d of this.k.devicesByPath.values()) if (d.iommuGroup !== null) m.set(String(d.iommuGroup), [...(m.get(String(d.iommuGroup)) ?? []), d]);
      return m;
    };
    const p = "/sys/kernel/iommu_groups";
    return this.dir(p, () =>
      [...members().entries()].map(([g, devs]): [string, () => SysfsNode | null] => [
        g,
        () => this.dir(`${p}/${g}`, () => [["devices", () => this.dir(`${p}/${g}/devices`, () => devs.map((d): [string, () => SysfsNode | null] => [d.name, () => this.link(`${p}/${g}/devices/${d.name}`, `/sys${d.devpath}`)]))]]),
      ]),
    );
  }

  private busesDir(): SysfsNode {
    const k = this.k;
    return {
      kind: "dir",
      path: "/sys/bus",
      list: () => [...k.buses.keys()],
      child: (name) => {
        const b = k.buses.get(name);
        return b ? this.busDir(b) : null;
      },
    };
  }

  private busDir(bus: Bus): SysfsNode {
    const k = this.k;
    const p = `/sys/bus/${bus.name}`;
    return this.dir(p, () => [
      [
        "devices",
        () => ({
          kind: "dir",
          path: `${p}/devices`,
          list: () => bus.devices.map((d) => d.name),
          child: (n) => {
            const d = bus.devicesByName.get(n);
            return d ? this.link(`${p}/devices/${n}`, `/sys${d.devpath}`) : null;
          },
        }),
      ],
      [
        "drivers",
        () => ({
          kind: "dir",
          path: `${p}/drivers`,
          list: () => bus.drivers.map((d) => d.name),
          child: (n) => {
            const d = bus.driversByName.get(n);
            return d ? this.driverDir(d) : null;
          },
        }),
      ],
      [
        "drivers_autoprobe",
        () => ({
          kind: "attr",
          path: `${p}/drivers_autoprobe`,
          mode: 0o644,
          show: () => `${bus.driversAutoprobe ? 1 : 0}\n`,
          store: (buf) => {
            bus.driversAutoprobe = buf[0] !== "0";
            return buf.length;
          },
        }),
      ],
      [
        "drivers_probe",
        () => ({
          kind: "attr",
          path: `${p}/drivers_probe`,
          mode: 0o200,
          store: (buf) => {
            const dev = findByName(bus, buf);
            if (!dev) return -ERRNO.ENODEV;
            let ret = 0;
            if (!dev.driver) ret = deviceAttach(k, dev);
            return ret < 0 ? -ERRNO.EINVAL : buf.length;
          },
        }),
      ],
      [
        "uevent",
        () => ({
          kind: "attr",
          path: `${p}/uevent`,
          mode: 0o200,
          store: (buf) => synthStore(k, buf, (a, ext) => busUevent(k, bus.name, a, ext)),
        }),
      ],
    ]);
  }

  private driverDir(drv: Driver): SysfsNode {
    const k = this.k;
    const bus = drv.bus;
    const p = `/sys/bus/${bus.name}/drivers/${drv.name}`;
    return this.dir(p, () => {
      const e: [string, () => SysfsNode | null][] = [];
      if (!drv.suppressBindAttrs) {
        e.push([
          "bind",
          () => ({
            kind: "attr",
            path: `${p}/bind`,
            mode: 0o200,
            store: (buf) => {
              const dev = findByName(bus, buf);
              if (dev && driverMatchDevice(k, drv, dev) !== 0) {
                const err = deviceDriverAttach(k, drv, dev);
                return err === 0 ? buf.length : err;
              }
              return -ERRNO.ENODEV;
            },
          }),
        ]);
        e.push([
          "unbind",
          () => ({
            kind: "attr",
            path: `${p}/unbind`,
            mode: 0o200,
            store: (buf) => {
              const dev = findByName(bus, buf);
              if (dev && dev.driver === drv) {
                deviceReleaseDriverInternal(k, dev, null);
                return buf.length;
              }
              return -ERRNO.ENODEV;
            },
          }),
        ]);
      }
      e.push(["uevent", () => ({ kind: "attr", path: `${p}/uevent`, mode: 0o200, store: (buf) => synthStore(k, buf, (a, ext) => kobjectUevent(k, drv, a, ext)) })]);
      if (drv.module) {
        const m = drv.module;
        e.push(["module", () => (k.modules.has(m) ? this.link(`${p}/module`, `/sys/module/${m}`) : null)]);
      }
      for (const [name, attr] of Object.entries(bus.type.driverAttrs ?? {})) {
        e.push([
          name,
          () =>
            attr.visible && !attr.visible(drv, k)
              ? null
              : {
                  kind: "attr",
                  path: `${p}/${name}`,
                  mode: attr.mode,
                  ...(attr.show ? { show: () => attr.show!(drv, k) } : {}),
                  ...(attr.store ? { store: (buf: string) => attr.store!(drv, buf, k) } : {}),
                },
        ]);
      }
      for (const d of drv.boundDevices) e.push([d.name, () => this.link(`${p}/${d.name}`, `/sys${d.devpath}`)]);
      return e;
    });
  }

  private devicesRoot(): SysfsNode {
    const k = this.k;
    return {
      kind: "dir",
      path: "/sys/devices",
      list: () => k.roots.map((d) => d.name),
      child: (n) => {
        const d = k.devicesByPath.get(`/devices/${n}`);
        return d ? this.deviceDir(d) : null;
      },
    };
  }

  private deviceDir(dev: Device): SysfsNode {
    const k = this.k;
    const p = `/sys${dev.devpath}`;
    const bus = dev.bus;
    return this.dir(p, () => {
      const e: [string, () => SysfsNode | null][] = [];
      e.push([
        "uevent",
        () => ({
          kind: "attr",
          path: `${p}/uevent`,
          mode: 0o644,
          // uevent_show(): the dev_uevent() variables only; bus-less devices are filtered (empty).
          show: () => (bus ? devUeventVars(k, dev).map(([a, b]) => `${a}=${b}\n`).join("") : ""),
          store: (buf) => deviceUeventStore(k, dev, buf),
        }),
      ]);
      if (bus) {
        e.push(["subsystem", () => this.link(`${p}/subsystem`, `/sys/bus/${bus.name}`)]);
        e.push(["driver", () => (dev.driver ? this.link(`${p}/driver`, `/sys/bus/${bus.name}/drivers/${dev.driver.name}`) : null)]);
        const modalias = bus.type.modalias;
        if (modalias) {
          e.push([
            "modalias",
            () => {
              const lines = modalias(dev, k);
              return lines === null ? null : { kind: "attr", path: `${p}/modalias`, mode: 0o444, show: () => lines.map((l) => `${l}\n`).join("") };
            },
          ]);
        }
        if (bus.type.driverOverride) {
          e.push([
            "driver_override",
            () => ({
              kind: "attr",
              path: `${p}/driver_override`,
              mode: 0o644,
              show: () => driverOverrideShow(dev.driverOverride),
              store: (buf) => {
                const r = driverSetOverride(buf);
                if (typeof r === "number") return r;
                dev.driverOverride = r.value;
                return buf.length;
              },
            }),
          ]);
        }
        for (const [name, attr] of Object.entries(bus.type.deviceAttrs ?? {})) {
          e.push([
            name,
            () =>
              attr.visible && !attr.visible(dev, k)
                ? null
                : {
                    kind: "attr",
                    path: `${p}/${name}`,
                    mode: attr.mode,
                    ...(attr.show ? { show: () => attr.show!(dev, k) } : {}),
                    ...(attr.store ? { store: (buf: string) => attr.store!(dev, buf, k) } : {}),
                  },
          ]);
        }
        for (const [name, target] of bus.type.deviceLinks?.(dev, k) ?? []) {
          e.push([name, () => ({ kind: "link", path: `${p}/${name}`, target })]);
        }
      }
      if (dev.iommuGroup !== null) {
        const g = dev.iommuGroup;
        e.push(["iommu_group", () => this.link(`${p}/iommu_group`, `/sys/kernel/iommu_groups/${g}`)]);
      }
      for (const c of dev.children) e.push([c.name, () => this.deviceDir(c)]);
      return e;
    });
  }

  private modulesDir(): SysfsNode {
    const k = this.k;
    return {
      kind: "dir",
      path: "/sys/module",
      list: () => [...k.modules.keys()],
      child: (n) => {
        const m = k.modules.get(n);
        return m ? this.moduleDir(m) : null;
      },
    };
  }

  private moduleDir(m: KModule): SysfsNode {
    const k = this.k;
    const p = `/sys/module/${m.name}`;
    return this.dir(p, () => {
      const e: [string, () => SysfsNode | null][] = [];
      if (!m.builtin) {
        e.push(["initstate", () => ({ kind: "attr", path: `${p}/initstate`, mode: 0o444, show: () => `${m.state}\n` })]);
        e.push(["refcnt", () => ({ kind: "attr", path: `${p}/refcnt`, mode: 0o444, show: () => `${m.refcnt}\n` })]);
        e.push([
          "holders",
          () => ({
            kind: "dir",
            path: `${p}/holders`,
            list: () => [...k.modules.values()].filter((h) => h.uses.includes(m.name)).map((h) => h.name),
            child: (n) => (k.modules.get(n)?.uses.includes(m.name) ? this.link(`${p}/holders/${n}`, `/sys/module/${n}`) : null),
          }),
        ]);
      }
      e.push(["uevent", () => ({ kind: "attr", path: `${p}/uevent`, mode: 0o200, store: (buf) => synthStore(k, buf, (a, ext) => moduleUevent(k, m.name, a, ext)) })]);
      if (m.drivers.length > 0) {
        e.push([
          "drivers",
          () => ({
            kind: "dir",
            path: `${p}/drivers`,
            list: () => m.drivers.map((d) => `${d.bus.name}:${d.name}`),
            child: (n) => {
              const d = m.drivers.find((x) => `${x.bus.name}:${x.name}` === n);
              return d ? this.link(`${p}/drivers/${n}`, `/sys/bus/${d.bus.name}/drivers/${d.name}`) : null;
            },
          }),
        ]);
      }
      return e;
    });
  }

  // ---- path resolution ------------------------------------------------------------------------

  /** Resolves `path`, following symlinks (all components, the last one too when `followLast`). */
  resolve(path: string, followLast = true): SysfsNode {
    if (!path.startsWith("/sys")) throw new SysfsError("ENOENT", path);
    let parts = path.split("/").filter((s) => s !== "" && s !== ".");
    if (parts[0] !== "sys") throw new SysfsError("ENOENT", path);
    parts = parts.slice(1);
    let hops = 0;
    const walk = (segs: string[]): SysfsNode => {
      let node = this.root();
      const stack: string[] = [];
      for (let i = 0; i < segs.length; i++) {
        const s = segs[i]!;
        if (s === "..") {
          stack.pop();
          node = this.nodeAt(stack, path);
          continue;
        }
        if (node.kind !== "dir") throw new SysfsError("ENOTDIR", path);
        const c = node.child(s);
        if (!c) throw new SysfsError("ENOENT", path);
        const last = i === segs.length - 1;
        if (c.kind === "link" && (!last || followLast)) {
          if (++hops > 40) throw new SysfsError("EINVAL", path, `${path}: too many levels of symbolic links`);
          const base = stack.slice();
          const joined = [...base, ...c.target.split("/"), ...segs.slice(i + 1)];
          const norm: string[] = [];
          for (const x of joined) {
            if (x === "" || x === ".") continue;
            if (x === "..") norm.pop();
            else norm.push(x);
          }
          return walk(norm);
        }
        stack.push(s);
        node = c;
      }
      return node;
    };
    return walk(parts);
  }

  private nodeAt(stack: string[], orig: string): SysfsNode {
    let node = this.root();
    for (const s of stack) {
      if (node.kind !== "dir") throw new SysfsError("ENOTDIR", orig);
      const c = node.child(s);
      if (!c) throw new SysfsError("ENOENT", orig);
      node = c;
    }
    return node;
  }

  // ---- synchronous operations -----------------------------------------------------------------

  readSync(path: string): string {
    const n = this.resolve(path);
    if (n.kind === "dir") throw new SysfsError("EISDIR", path);
    if (n.kind !== "attr") throw new SysfsError("EINVAL", path);
    if (!n.show || (n.mode & 0o444) === 0) throw new SysfsError("EACCES", path);
    const show = n.show;
    const r = this.k.op(() => show());
    if (typeof r === "number") throw new SysfsError(toErrno(r), path);
    return r.length >= PAGE_SIZE ? r.slice(0, PAGE_SIZE - 1) : r;
  }

  writeSync(path: string, data: string): number {
    const n = this.resolve(path);
    if (n.kind === "dir") throw new SysfsError("EISDIR", path);
    if (n.kind !== "attr") throw new SysfsError("EINVAL", path);
    if (!n.store || (n.mode & 0o222) === 0) throw new SysfsError("EACCES", path);
    const buf = data.length > PAGE_SIZE ? data.slice(0, PAGE_SIZE) : data;
    if (buf.length === 0) return 0;
    const store = n.store;
    const r = this.k.op(() => store(buf));
    if (r < 0) throw new SysfsError(toErrno(r), path);
    return r;
  }

  readlinkSync(path: string): string | null {
    const n = this.resolve(path, false);
    return n.kind === "link" ? n.target : null;
  }

  listSync(dir: string): string[] {
    const n = this.resolve(dir);
    if (n.kind !== "dir") throw new SysfsError("ENOTDIR", dir);
    return n.list().sort();
  }

  existsSync(path: string): boolean {
    try {
      this.resolve(path);
      return true;
    } catch (e) {
      if (e instanceof SysfsError) return false;
      throw e;
    }
  }

  // ---- SysfsPort ------------------------------------------------------------------------------

  read(path: string): Promise<string> {
    return settle(() => this.readSync(path));
  }
  write(path: string, data: string): Promise<number> {
    return settle(() => this.writeSync(path, data));
  }
  readlink(path: string): Promise<string | null> {
    return settle(() => this.readlinkSync(path));
  }
  list(dir: string): Promise<string[]> {
    return settle(() => this.listSync(dir));
  }
  exists(path: string): Promise<boolean> {
    return settle(() => this.existsSync(path));
  }
}

function settle<T>(fn: () => T): Promise<T> {
  try {
    return Promise.resolve(fn());
  } catch (e) {
    return Promise.reject(e instanceof Error ? e : new Error(String(e)));
  }
}

/** bus_find_device_by_name(): device_match_name → sysfs_streq. */
function findByName(bus: Bus, buf: string): Device | undefined {
  const nul = buf.indexOf("\0");
  const b = nul >= 0 ? buf.slice(0, nul) : buf;
  const name = b.endsWith("\n") ? b.slice(0, -1) : b;
  const d = bus.devicesByName.get(name);
  return d && sysfsStreq(d.name, buf) ? d : undefined;
}

/** A SysfsPort on the kernel model. */
export function kernelSysfs(k: Kernel): ModelSysfs {
  return new ModelSysfs(k);
}
