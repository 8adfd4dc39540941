// The model side of a conformance case: the driver core model (src/kernel) booted with the machine
// the real guest reported (data/machines/qemu-q35.yaml, captured by capture.ts), kmod 30's modprobe
// (src/kmod via src/sim/kmod-bridge.ts) over the guest's own modules.* files, and a udev-like queue
// that runs `modprobe -b $MODALIAS` for every "add" uevent, as the guest's listener does.
//
// Driver behaviour the model needs beyond ID matching, each observed on the guest:
//  - virtio-pci's probe registers a virtio device (virtio_pci_probe → register_virtio_device, index
//    from an IDA: lowest free), its remove unregisters it;
//  - vfio-pci's probe fails -EINVAL without an IOMMU group (vfio_pci_core_register_device);
//  - built-in PCI drivers match exactly the functions they bound on the guest (their real tables are
//    not in Debian 6.1's modules.builtin.modinfo);
//  - pci_stub / vfio_pci ids= add dynids after pci_register_driver (pci_stub_init, vfio_pci_fill_ids).
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import {
  createKernel, kernelSysfs, newPciDevData, type ModelSysfs, pciDriverSpec, pciNewId, virtioDriverSpec,
  type Device, type DriverSpec, type Kernel, type ModuleImage,
} from "../../src/kernel/index.ts";
import { ModuleDir } from "../../src/kmod/module-dir.ts";
import { modelModprobeEnv, runModelModprobe } from "../../src/sim/kmod-bridge.ts";
import type { ModprobeEnv } from "../../src/kmod/modprobe.ts";
import { ERRNO, errnoName, type ErrnoName } from "../../src/model/errno.ts";
import { KbindError } from "../../src/model/errors.ts";
import { parsePciAlias } from "../../src/model/pci-alias-parse.ts";
import { parseVirtioAlias } from "../../src/model/alias-parse.ts";
import { pciDeviceSub, type PciDeviceId } from "../../src/model/pci.ts";
import type { VirtioDeviceId } from "../../src/model/virtio.ts";
import type { MachineKind } from "./case-format.ts";
import { machineFileSchema, type Machine } from "./machine-file.ts";
import type { Target } from "./target.ts";

interface MachineData {
  machine: Machine;
  files: Map<string, Uint8Array>;
  aliases: Map<string, string[]>;
}

let cached: MachineData | null = null;

export function loadMachine(repo: string): MachineData {
  if (cached) return cached;
  const yamlPath = join(repo, "data/machines/qemu-q35.yaml");
  const machine = machineFileSchema.parse(parse(readFileSync(yamlPath, "utf8")));
  const dir = join(repo, "data/machines/qemu-q35/modules");
  const files = new Map<string, Uint8Array>();
  for (const f of readdirSync(dir)) files.set(f, new Uint8Array(readFileSync(join(dir, f))));
  const aliases = new Map<string, string[]>();
  const text = Buffer.from(files.get("modules.alias") ?? new Uint8Array()).toString("latin1");
  for (const line of text.split("\n")) {
    const m = /^alias (\S+) (\S+)$/.exec(line);
    if (!m) continue;
    const list = aliases.get(m[2]!) ?? [];
    list.push(m[1]!);
    aliases.set(m[2]!, list);
  }
  cached = { machine, files, aliases };
  return cached;
}

/** The ID table of a module's PCI driver, from its modules.alias lines (file2alias's inverse). */
function pciIds(aliases: readonly string[]): PciDeviceId[] {
  return aliases.filter((a) => a.startsWith("pci:") || a.startsWith("vfio_pci:")).map((a) => parsePciAlias(a).id);
}

function virtioIds(aliases: readonly string[]): VirtioDeviceId[] {
  return aliases.filter((a) => a.startsWith("virtio:")).map((a) => parseVirtioAlias(a));
}

/** virtio_pci: register_virtio_device() on probe, unregister on remove. */
function virtioPciBehaviour(m: Machine): Pick<DriverSpec, "probe" | "remove"> {
  const children = new Map<string, Device>();
  return {
    probe: (dev, k) => {
      const v = m.virtio.find((x) => x.parent === dev.name);
      if (!v) return -ERRNO.ENODEV;
      const used = new Set([...k.bus("virtio").devicesByName.keys()]);
      let i = 0;
      while (used.has(`virtio${i}`)) i++;
      children.set(dev.name, k.deviceAdd({ name: `virtio${i}`, bus: "virtio", parent: dev, data: { device: v.device, vendor: v.vendor } }));
      return 0;
    },
    remove: (dev, k) => {
      const c = children.get(dev.name);
      if (c) {
        children.delete(dev.name);
        k.deviceDel(c);
      }
    },
  };
}

function driverSpecs(d: MachineData, mod: Machine["modules"][number]): DriverSpec[] {
  const aliases = d.aliases.get(mod.name) ?? [];
  const specs: DriverSpec[] = [];
  for (const entry of mod.drivers) {
    const [bus, name] = [entry.slice(0, entry.indexOf(":")), entry.slice(entry.indexOf(":") + 1)];
    if (bus === "pci") {
      let behaviour: Pick<DriverSpec, "probe" | "remove"> = { probe: () => 0 };
      if (name === "virtio-pci") behaviour = virtioPciBehaviour(d.machine);
      if (name === "vfio-pci") behaviour = { probe: (dev) => (dev.iommuGroup === null ? -ERRNO.EINVAL : 0) };
      const ids = pciIds(aliases);
      specs.push(pciDriverSpec(name, ids.length > 0 ? ids : null, behaviour));
    } else if (bus === "virtio") {
      specs.push(virtioDriverSpec(name, virtioIds(aliases), { probe: () => 0 }));
    }
  }
  return specs;
}

/** "ids=1234:11e8,..." as pci_stub_init / vfio_pci_fill_ids parse it, as new_id text. */
function idsParam(params: string): string[] {
  const m = /(?:^|\s)ids=(\S*)/.exec(params);
  if (!m) return [];
  return m[1]!.split(",").filter((s) => s.length > 0).map((s) => s.split(":").join(" "));
}
const IDS_PARAM_DRIVER: Record<string, string> = { pci_stub: "pci-stub", vfio_pci: "vfio-pci" };

export class ModelTarget implements Target {
  readonly name = "model";
  readonly sysfs: ModelSysfs;
  readonly k: Kernel;
  private readonly env: ModprobeEnv;
  private readonly queue: string[] = [];
  private events: string[] = [];
  /** /etc/modprobe.d files; the modprobe env reads this array on every run. */
  private readonly configFiles: { path: string; text: string }[] = [];

  constructor(kind: MachineKind, repo: string) {
    const d = loadMachine(repo);
    const m = d.machine;
    const k = createKernel({ cmdline: kind === "iommu" ? m.cmdline : m.cmdline.replace(/\s*intel_iommu=on/, "") });
    this.k = k;
    this.sysfs = kernelSysfs(k);
    for (const mod of m.modules) {
      const img: ModuleImage = { name: mod.name, drivers: driverSpecs(d, mod), uses: mod.uses };
      k.addModuleImage(img);
    }
    this.env = modelModprobeEnv(k, { moduleDir: ModuleDir.fromFiles(d.files), release: m.kernel, configFiles: this.configFiles });
    const insert = this.env.kernel.insertModule.bind(this.env.kernel);
    this.env.kernel = {
      ...this.env.kernel,
      insertModule: (name, path, params) => {
        const r = insert(name, path, params);
        const drvName = IDS_PARAM_DRIVER[name];
        const drv = drvName === undefined ? undefined : k.findDriver("pci", drvName);
        if (r === 0 && drv) for (const id of idsParam(params)) pciNewId(k, drv, id);
        return r;
      },
    };
    k.onUevent((ev) => {
      const rest = ev.env.filter(([key]) => !["ACTION", "DEVPATH", "SUBSYSTEM", "SEQNUM"].includes(key)).map(([key, v]) => ` ${key}=${v}`);
      this.events.push(`${ev.action} ${ev.subsystem} ${ev.devpath}${rest.join("")}`);
      const modalias = ev.env.find(([key]) => key === "MODALIAS")?.[1];
      if (ev.action === "add" && modalias !== undefined) this.queue.push(modalias);
    });

    // Enumeration: the host bridge, then PCI functions parents first (pci_scan_root_bus).
    const nodes = new Map<string, Device>();
    nodes.set("pci0000:00", k.deviceAdd({ name: "pci0000:00", bus: null, data: null }));
    const byDepth = [...m.pci].sort((a, b) => a.devpath.split("/").length - b.devpath.split("/").length);
    for (const p of byDepth) {
      const parts = p.devpath.split("/");
      const parent = nodes.get(parts[parts.length - 2] ?? "");
      if (!parent) throw new KbindError("MACHINE_TOPOLOGY", `${p.name}: parent of ${p.devpath} not known`, { file: "data/machines/qemu-q35.yaml" });
      const identity = { vendor: p.vendor, device: p.device, subvendor: p.subvendor, subdevice: p.subdevice, class: p.class, revision: p.revision };
      nodes.set(p.name, k.deviceAdd({ name: p.name, bus: "pci", parent, data: newPciDevData(identity), iommuGroup: kind === "iommu" ? p.iommuGroup : null }));
    }
    // Built-in drivers (device_initcall). Debian 6.1's modules.builtin.modinfo has no PCI aliases for
    // them, so their tables are not known: each gets the exact IDs of the functions it bound on the
    // guest (pcieport: the two root ports) and nothing else.
    for (const b of m.builtinPciDrivers) {
      const ids = m.pci.filter((p) => b.binds.includes(p.name)).map((p) => pciDeviceSub(p.vendor, p.device, p.subvendor, p.subdevice));
      k.registerBuiltin({ name: b.module ?? b.name.replace(/-/g, "_"), drivers: [pciDriverSpec(b.name, ids.length > 0 ? ids : null, { probe: () => 0 })] });
    }
    // The boot-time uevents went out before any listener existed; the guest's init then coldplugs
    // every device ("add" to each uevent file) with the listener running.
    this.queue.length = 0;
    for (const dev of [...k.allDevices()]) this.sysfs.writeSync(`/sys/bus/${dev.bus!.name}/devices/${dev.name}/uevent`, "add");
    this.drain();
  }

  private drain(): void {
    for (let a = this.queue.shift(); a !== undefined; a = this.queue.shift()) runModelModprobe(["-b", a], this.env);
  }

  modprobe(args: readonly string[]): Promise<{ code: number; output: string }> {
    const r = runModelModprobe([...args], this.env);
    return Promise.resolve({ code: r.code, output: r.stdout + r.stderr });
  }

  deleteModule(name: string): Promise<ErrnoName | null> {
    const r = this.k.deleteModule(name);
    if (r === 0) return Promise.resolve(null);
    const e = errnoName(r);
    if (e === undefined) throw new KbindError("MODEL_ERRNO", `delete_module(${name}) returned ${r}`);
    return Promise.resolve(e);
  }

  loadedModules(): Promise<string[]> {
    return Promise.resolve([...this.k.modules.values()].filter((mod) => !mod.builtin).map((mod) => mod.name));
  }

  settle(): Promise<void> {
    this.drain();
    return Promise.resolve();
  }

  setConfig(file: string, text: string | null): Promise<void> {
    const path = `/etc/modprobe.d/${file}`;
    const i = this.configFiles.findIndex((f) => f.path === path);
    if (i >= 0) this.configFiles.splice(i, 1);
    if (text !== null) this.configFiles.push({ path, text });
    return Promise.resolve();
  }

  uevents(): Promise<string[]> {
    this.drain();
    const out = this.events;
    this.events = [];
    return Promise.resolve(out);
  }
}

export function createModelTarget(kind: MachineKind, repo: string): Target {
  return new ModelTarget(kind, repo);
}
