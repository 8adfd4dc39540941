// A small host for the host-mode tests: a NIC, a Mellanox VF with a vfio variant driver, an NVMe
// disk, a GPU + its audio function sharing IOMMU group 4, and a device without an IOMMU group.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pciDevice, pciDeviceClass, pciDriverOverrideDeviceVfio } from "../../src/model/pci.ts";
import type { ErrnoName } from "../../src/model/errno.ts";
import { SysfsError, type ModprobePort, type SysfsPort } from "../../src/ports.ts";
import { modelBackend } from "./model-backend.ts";
import { FileJournal } from "../../src/host/journal.ts";
import { TmpdirSysfs, type FakeHostDesc } from "../../src/host/sysfs-tmpdir.ts";
import type { SwitchEnv } from "../../src/host/switch.ts";
import { scanVfioAliases } from "../../src/host/vfio-variant.ts";

export const MODULES_ALIAS = [
  "# Aliases extracted from modules themselves.",
  "alias pci:v00008086d000010D3sv*sd*bc*sc*i* e1000e",
  "alias pci:v000015B3d0000101Esv*sd*bc*sc*i* mlx5_core",
  "alias vfio_pci:v000015B3d0000101Esv*sd*bc*sc*i* mlx5_vfio_pci",
  "alias pci:v*d*sv*sd*bc01sc08i02* nvme",
  "alias vfio_pci:v*d*sv*sd*bc*sc*i* vfio_pci",
  "",
].join("\n");

export function hostDesc(over: Partial<FakeHostDesc> = {}): FakeHostDesc {
  return {
    drivers: [
      { name: "e1000e", module: "e1000e", ids: [pciDevice(0x8086, 0x10d3)] },
      { name: "mlx5_core", module: "mlx5_core", ids: [pciDevice(0x15b3, 0x101e)] },
      { name: "nvme", module: "nvme", ids: [pciDeviceClass(0x010802, 0xffffff)] },
      { name: "nouveau", module: "nouveau", ids: [pciDeviceClass(0x030000, 0xff0000)] },
      { name: "snd_hda_intel", module: "snd-hda-intel", ids: [pciDevice(0x10de, 0x10f8)] },
      { name: "vfio-pci", module: "vfio_pci", ids: [], loaded: false },
      { name: "mlx5_vfio_pci", module: "mlx5_vfio_pci", ids: [pciDriverOverrideDeviceVfio(0x15b3, 0x101e)], loaded: false },
    ],
    devices: [
      { addr: "0000:01:00.0", vendor: 0x8086, device: 0x10d3, class: 0x020000, iommuGroup: 1, driver: "e1000e", net: [{ name: "eth0", up: false }] },
      { addr: "0000:02:00.0", vendor: 0x15b3, device: 0x101e, class: 0x020000, iommuGroup: 2, driver: "mlx5_core" },
      { addr: "0000:03:00.0", vendor: 0x144d, device: 0xa808, class: 0x010802, iommuGroup: 3, driver: "nvme", block: [{ name: "nvme0n1", dev: "259:0", partitions: [{ name: "nvme0n1p1", dev: "259:1" }] }] },
      { addr: "0000:04:00.0", vendor: 0x10de, device: 0x1eb8, class: 0x030000, iommuGroup: 4, driver: "nouveau" },
      { addr: "0000:04:00.1", vendor: 0x10de, device: 0x10f8, class: 0x040300, iommuGroup: 4, driver: "snd_hda_intel" },
      { addr: "0000:05:00.0", vendor: 0x8086, device: 0x10d3, class: 0x020000, iommuGroup: null, driver: "e1000e" },
    ],
    ...over,
  };
}

export const MOUNTINFO_NVME = "29 1 259:1 / / rw,relatime shared:1 - ext4 /dev/nvme0n1p1 rw\n";

/** What the switch tests need from a backend: the temp-dir fake /sys or the simulated kernel. */
export interface Backend {
  name: "tmpdir-fake" | "kernel-model";
  sysfs: SysfsPort;
  modprobe: ModprobePort;
  state(addr: string): { driver: string | null; override: string | null };
  setProbe(driver: string, probe: "ok" | ErrnoName): void;
  mountinfo(): string;
  dispose(): void;
}

export interface Rig {
  /** The temp-dir fake (only for the tmpdir backend; tests on both use `host`). */
  fake: TmpdirSysfs;
  host: Backend;
  dir: string;
  env: (over?: Partial<SwitchEnv>) => SwitchEnv;
  logs: string[];
  dispose: () => void;
}

function fakeBackend(desc: FakeHostDesc): { fake: TmpdirSysfs; host: Backend } {
  const fake = TmpdirSysfs.create(desc);
  return {
    fake,
    host: {
      name: "tmpdir-fake",
      sysfs: fake,
      modprobe: fake.modprobePort(),
      state: (a) => fake.state(a),
      setProbe: (d, p) => fake.setProbe(d, p),
      mountinfo: () => readFileSync(fake.mountinfoPath, "utf8"),
      dispose: () => fake.dispose(),
    },
  };
}

function wrap(host: Backend, fake: TmpdirSysfs | null): Rig {
  const dir = mkdtempSync(join(tmpdir(), "kbind-state-"));
  const logs: string[] = [];
  return {
    get fake(): TmpdirSysfs {
      if (fake === null) throw new Error("this rig runs on the kernel model, not the temp-dir fake");
      return fake;
    },
    host,
    dir,
    logs,
    env: (over = {}) => ({
      sysfs: host.sysfs,
      modprobe: host.modprobe,
      journal: new FileJournal(join(dir, "journal.json")),
      mountinfo: () => Promise.resolve(host.mountinfo()),
      vfioAliases: scanVfioAliases(MODULES_ALIAS),
      log: (l) => logs.push(l),
      ...over,
    }),
    dispose: () => {
      host.dispose();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function rig(desc: FakeHostDesc = hostDesc()): Rig {
  const { fake, host } = fakeBackend(desc);
  return wrap(host, fake);
}

export function modelRig(desc: FakeHostDesc = hostDesc()): Rig {
  return wrap(modelBackend(desc), null);
}

export type RigFactory = (desc?: FakeHostDesc) => Rig;
export const BACKENDS: [string, RigFactory][] = [
  ["tmpdir-fake", rig],
  ["kernel-model", modelRig],
];

/** A SysfsPort wrapper failing chosen writes with an errno (the kernel's store() returning it). */
export class FaultSysfs implements SysfsPort {
  readonly inner: SysfsPort;
  writeIndex = 0;
  readonly failAt: (index: number, path: string, data: string) => ErrnoName | null;
  constructor(inner: SysfsPort, failAt: (index: number, path: string, data: string) => ErrnoName | null) {
    this.inner = inner;
    this.failAt = failAt;
  }
  read(p: string): Promise<string> {
    return this.inner.read(p);
  }
  readlink(p: string): Promise<string | null> {
    return this.inner.readlink(p);
  }
  list(p: string): Promise<string[]> {
    return this.inner.list(p);
  }
  exists(p: string): Promise<boolean> {
    return this.inner.exists(p);
  }
  write(p: string, data: string): Promise<number> {
    const i = this.writeIndex++;
    const e = this.failAt(i, p, data);
    if (e !== null) return Promise.reject(new SysfsError(e, p, `write ${p}: ${e} (injected)`));
    return this.inner.write(p, data);
  }
}
