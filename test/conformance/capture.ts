// Captures the conformance machine from the booted guest into data/machines/qemu-q35.yaml and
// data/machines/qemu-q35/modules/ (the guest's modules.* files, made by the real depmod), so the
// model runs on IDs, classes, topology, IOMMU groups, module dependencies, the drivers each module
// registers and the bindings the real kernel made — not on hand-written data.
// Run it with `npx tsx test/conformance/run-kernel.ts --capture`.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { stringify } from "yaml";
import type { GuestSession } from "../../src/host/qemu/session.ts";
import { MACHINE_DEVICES } from "../../src/host/qemu/machine.ts";
import type { MachineFile } from "./machine-file.ts";

const base = (p: string | null): string | null => (p === null ? null : p.slice(p.lastIndexOf("/") + 1));

export async function captureMachine(s: GuestSession, repo: string): Promise<string> {
  const { sysfs, control } = s;
  const kver = (await control.readFile("/proc/sys/kernel/osrelease")).trim();
  const mdir = `/lib/modules/${kver}`;
  const linkTarget = async (p: string): Promise<string | null> => sysfs.readlink(p).catch(() => null);
  // IDs are kept as the kernel prints them ("0x8086"), so the file reads like sysfs.
  const hex = async (p: string): Promise<string> => (await sysfs.read(p)).trim();

  const pci: MachineFile["pci"] = [];
  for (const name of await sysfs.list("/sys/bus/pci/devices")) {
    const d = `/sys/bus/pci/devices/${name}`;
    const rel = (await linkTarget(d)) ?? "";
    const group = base(await linkTarget(`${d}/iommu_group`));
    pci.push({
      name,
      devpath: rel.slice(rel.indexOf("/devices/")),
      vendor: await hex(`${d}/vendor`),
      device: await hex(`${d}/device`),
      subvendor: await hex(`${d}/subsystem_vendor`),
      subdevice: await hex(`${d}/subsystem_device`),
      class: await hex(`${d}/class`),
      revision: await hex(`${d}/revision`),
      iommuGroup: group === null ? null : Number(group),
      driver: base(await linkTarget(`${d}/driver`)),
    });
  }
  const virtio: MachineFile["virtio"] = [];
  for (const name of await sysfs.list("/sys/bus/virtio/devices")) {
    const d = `/sys/bus/virtio/devices/${name}`;
    const rel = (await linkTarget(d)) ?? "";
    const devpath = rel.slice(rel.indexOf("/devices/"));
    const parts = devpath.split("/");
    virtio.push({
      name,
      parent: parts[parts.length - 2] ?? "",
      device: await hex(`${d}/device`),
      vendor: await hex(`${d}/vendor`),
      driver: base(await linkTarget(`${d}/driver`)),
    });
  }

  // Every module of the guest's modules.dep: load the ones coldplug did not, record the drivers
  // each registers (/sys/module/<m>/drivers/<bus>:<name>) and who uses whom (/proc/modules), then
  // unload what was added.
  const dep = await control.readFile(`${mdir}/modules.dep`);
  const modPaths = dep.split("\n").filter((l) => l.includes(":")).map((l) => l.slice(0, l.indexOf(":")));
  const modName = (p: string): string => p.slice(p.lastIndexOf("/") + 1).replace(/\.ko(\.\w+)?$/, "").replace(/-/g, "_");
  const bootLoaded = new Set(await control.procModules());
  for (const p of modPaths) {
    const r = await control.modprobe([modName(p)]);
    if (r.code !== 0) throw new Error(`capture: modprobe ${modName(p)} failed: ${r.stdout}`);
  }
  const procModules = await control.readFile("/proc/modules");
  const usedBy = new Map<string, string[]>();
  for (const line of procModules.split("\n").filter((l) => l.length > 0)) {
    const f = line.split(" ");
    usedBy.set(f[0]!, (f[3] ?? "-") === "-" ? [] : f[3]!.split(",").filter((x) => x.length > 0));
  }
  const modules: MachineFile["modules"] = [];
  for (const p of modPaths) {
    const name = modName(p);
    const drivers = await sysfs.list(`/sys/module/${name}/drivers`).catch(() => []);
    const uses = [...usedBy].filter(([, users]) => users.includes(name)).map(([m]) => m).sort();
    modules.push({ name, path: p, uses, drivers, loadedAtBoot: bootLoaded.has(name) });
  }
  for (let pass = 0; pass < 10; pass++) {
    const extra = (await control.procModules()).filter((m) => !bootLoaded.has(m));
    if (extra.length === 0) break;
    for (const m of extra) await control.deleteModule(m);
  }

  const builtinPciDrivers: MachineFile["builtinPciDrivers"] = [];
  for (const drv of await sysfs.list("/sys/bus/pci/drivers")) {
    const modLink = await linkTarget(`/sys/bus/pci/drivers/${drv}/module`);
    const owner = base(modLink);
    if (owner !== null && modules.some((m) => m.name === owner)) continue;
    builtinPciDrivers.push({ name: drv, module: owner, binds: pci.filter((d) => d.driver === drv).map((d) => d.name) });
  }

  const machine: MachineFile = {
    captured: new Date().toISOString().slice(0, 10),
    how: "npx tsx test/conformance/run-kernel.ts --capture (QEMU q35, TCG, intel-iommu, Debian linux-image)",
    kernel: kver,
    cmdline: (await control.readFile("/proc/cmdline")).trim(),
    qemuDevices: [...MACHINE_DEVICES],
    pci,
    virtio,
    modules,
    builtinPciDrivers,
  };
  const out = join(repo, "data/machines/qemu-q35.yaml");
  mkdirSync(join(repo, "data/machines/qemu-q35/modules"), { recursive: true });
  writeFileSync(out, `# The QEMU conformance machine as the real kernel reported it (test/conformance/capture.ts).\n${stringify(machine, { lineWidth: 0 })}`);
  const names = (await control.sh(`ls ${mdir}`)).stdout.split("\n").filter((n) => n.startsWith("modules."));
  for (const n of names) {
    writeFileSync(join(repo, "data/machines/qemu-q35/modules", n), Buffer.from(await control.readFile(`${mdir}/${n}`), "latin1"));
  }
  return out;
}
